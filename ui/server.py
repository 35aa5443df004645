"""One process: the Gradio page at ``/`` and the JSON API under ``/v1`` (``mingbai serve``)."""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from ui.http_api import AssistantLike, create_api

if TYPE_CHECKING:
    from assistant.questionlog.store import QuestionLog

log = logging.getLogger("mingbai.serve")


def create_app(
    assistant: Any, *, with_page: bool = True, log: QuestionLog | None = None,
    admin_token: str | None = None,
) -> FastAPI:
    """The API routes first (so ``/v1`` and ``/healthz`` win), then the page mounted at ``/``.
    With a question ``log``, the API's and the page's answers are recorded (faces ``api`` and
    ``page``) and both take feedback. With an ``admin_token``, the operator page (the log's
    figures, the gaps, the evaluation tab) is served at ``/admin``, behind the token."""
    api_face, page_face = assistant, assistant
    if log is not None:
        from assistant.questionlog.recording import Recorded

        api_face, page_face = Recorded(assistant, log, "api"), Recorded(assistant, log, "page")
    app = create_api(api_face)
    if log is not None:
        # written during the graceful shutdown: uvicorn re-raises SIGTERM once it is done, and
        # the process then ends without running `finally` blocks (rows answered were lost)
        app.router.on_shutdown.append(log.close)
    if admin_token:
        from ui.operator import add_operator

        add_operator(app, assistant, log, admin_token, with_eval=with_page)
    if with_page:
        import gradio as gr

        from ui.i18n import LANGUAGE_HEAD, page_i18n
        from ui.web import CSS, HEAD, THEME, build_ui

        demo = build_ui(page_face)
        app = gr.mount_gradio_app(app, demo, path="/", css=CSS, theme=THEME, head=HEAD,
                                  footer_links=["api"], i18n=page_i18n())
        app.add_middleware(FirstInHead, path="/", html=LANGUAGE_HEAD)
    return app


class FirstInHead:
    """ASGI middleware: ``html`` becomes the first thing in the ``<head>`` of the page at
    ``path``. Gradio adds a Blocks' own ``head`` from its scripts, after its I18n has read
    the browser's language; the language choice (``ui.i18n.LANGUAGE_HEAD``) must run before.
    Every other request passes through untouched (the queue's event streams included)."""

    def __init__(self, app: Any, path: str, html: str) -> None:
        self.app, self.path, self.html = app, path, html.encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def rewrite(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", [])
                       if k.lower() != b"content-length"]
            if dict(headers).get(b"content-type", b"").startswith(b"text/html"):
                body = body.replace(b"<head>", b"<head>" + self.html, 1)
            await send({**start, "headers": [*headers, (b"content-length",
                                                        str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)


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

    from assistant.questionlog.store import open_question_log
    from assistant.settings import get_settings

    settings = get_settings()
    log = open_question_log(settings)
    app = create_app(assistant, log=log, admin_token=settings.admin_token)
    freeze_startup_objects()
    # An assistant built with load_model=False loads its model now, while uvicorn starts: the
    # page is served meanwhile, /healthz says 503 until the model is ready, and questions
    # asked before then wait for it.
    load = getattr(assistant, "load_model_in_background", None)
    if load is not None:
        load()
    print(f"Mingbai is running: http://{host}:{port}/  (API: http://{host}:{port}/v1)", flush=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
    finally:
        if log is not None:
            log.close()  # what is still queued is written before the process ends
