"""One process: the Gradio page at ``/`` and the JSON API under ``/v1`` (``mingbai serve``)."""

from __future__ import annotations

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


def serve(assistant: AssistantLike, host: str = "127.0.0.1", port: int = 7860) -> None:
    import uvicorn

    app = create_app(assistant)
    print(f"Mingbai is running: http://{host}:{port}/  (API: http://{host}:{port}/v1)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
