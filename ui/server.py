"""One process: the Gradio page at ``/`` and the JSON API under ``/v1`` (``mingbai serve``)."""

from __future__ import annotations

import gc
import logging
from typing import Any

from fastapi import FastAPI

from ui.http_api import AssistantLike, create_api

log = logging.getLogger("mingbai.serve")


def create_app(assistant: Any, *, with_page: bool = True) -> FastAPI:
    """The API routes first (so ``/v1`` and ``/healthz`` win), then the page mounted at ``/``."""
    app = create_api(assistant)
    if with_page:
        import gradio as gr

        from ui.eval_tab import eval_tab
        from ui.web import CSS, THEME, build_ui

        demo = build_ui(assistant, extra_tabs=[eval_tab(assistant)])
        app = gr.mount_gradio_app(app, demo, path="/", css=CSS, theme=THEME, footer_links=["api"])
    return app


def freeze_startup_objects() -> None:
    """Keep the garbage collector off the objects start-up made (call once they exist).

    Start-up leaves ~270,000 long-lived objects (Gradio, Chroma, LangChain); every full
    collection walked them all: a 125 ms pause in the middle of some request. Frozen objects are
    never scanned again (measured: a full collection then takes < 1 ms).
    """
    gc.collect()
    gc.freeze()


def serve(assistant: AssistantLike, host: str = "127.0.0.1", port: int = 7860) -> None:
    import uvicorn

    app = create_app(assistant)
    freeze_startup_objects()
    print(f"Mingbai is running: http://{host}:{port}/  (API: http://{host}:{port}/v1)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
