"""The operator page: ``/admin`` (the log's figures, the gaps, entries due for review) and the
developer evaluation tab at ``/admin/eval``, separate from the consumer page.

Off unless ``MINGBAI_ADMIN_TOKEN`` is set. Every request must carry the token: the header
``Authorization: Bearer <token>``, or once ``/admin?token=<token>`` (which sets an HttpOnly
cookie and redirects to the page without it). Anything else gets 401. The consumer faces cannot
read the log: only these routes do.
"""

from __future__ import annotations

import base64
import hmac
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.questionlog.store import QuestionLog, down_voted
from assistant.questionlog.summary import (
    REVIEW_AFTER_DAYS,
    down_share_by_entry,
    feedback_by_day,
    past_review,
    usage,
)

COOKIE = "mingbai_admin"
TEMPLATE = Path(__file__).resolve().parent / "operator.html.j2"
DAYS = 30  # the page shows the last 30 days


def authorized(request: Request, token: str) -> bool:
    """The request carries ``token`` (header or cookie), compared in constant time."""
    header = request.headers.get("authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


class OperatorGuard:
    """ASGI middleware: ``/admin`` and everything under it need the token; other paths pass
    untouched (the consumer page's streaming is not wrapped)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not (
            path == "/admin" or path.startswith("/admin/")
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        query = request.query_params.get("token")
        response: Response | None = None
        if path == "/admin" and query:
            if hmac.compare_digest(query.encode(), self.token.encode()):
                response = RedirectResponse("/admin", status_code=303)
                response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            else:
                response = _denied()
        elif not authorized(request, self.token):
            response = _denied()
        if response is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await response(scope, receive, send)
        else:  # a websocket without the token: refuse the handshake
            await send({"type": "websocket.close", "code": 1008})


def _denied() -> JSONResponse:
    return JSONResponse({"error": {"message": "operator token required (MINGBAI_ADMIN_TOKEN)",
                                   "type": "unauthorized", "code": 401}}, status_code=401)


def summary(assistant: Any, log: QuestionLog | None, since: datetime,
            with_gaps: bool = True) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready values."""
    entries = assistant.knowledge_entries()
    rows = log.questions(since) if log else []
    votes = log.feedback_rows(since) if log else []
    gaps: list[Any] = []
    if with_gaps and rows:
        from assistant.questionlog.gaps import gaps_of

        gaps = gaps_of(assistant, rows, down_voted(votes))  # the rows read above, not again
    most, least = usage(rows, entries)
    return {
        "since": since.date().isoformat(),
        "versions": getattr(assistant, "versions", {"rules": "?", "index": "?"}),
        "counts": log.counts() if log else {"questions": 0, "feedback": 0},
        "written": log.written if log else 0,
        "dropped": log.dropped if log else 0,
        "feedback_by_day": feedback_by_day(votes),
        "down": down_share_by_entry(rows, votes),
        "most": most, "least": least,
        "past": past_review(entries),
        "review_days": REVIEW_AFTER_DAYS,
        "gaps": [{"count": g.count, "examples": g.examples, "why": dict(g.why),
                  "nearest": g.nearest} for g in gaps],
    }


def _plot(days: list[dict[str, Any]]) -> str:
    """👍 and 👎 per day as a PNG, base64 (empty without votes)."""
    if not days:
        return ""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 2.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    xs = [d["day"] for d in days]
    ax.bar(xs, [d["up"] for d in days], color="#1a73e8", label="up")
    ax.bar(xs, [-d["down"] for d in days], color="#d93025", label="down")
    ax.axhline(0, color="#5f6368", linewidth=0.8)
    ax.set_ylabel("answers")
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax.legend(loc="upper left", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def add_operator(app: FastAPI, assistant: Any, log: QuestionLog | None, token: str,
                 with_eval: bool = True) -> FastAPI:
    """Add ``/admin`` (and ``/admin/eval``) to ``app``, behind ``token``."""
    if not token:
        raise ValueError("the operator page needs MINGBAI_ADMIN_TOKEN")
    from jinja2 import Environment, StrictUndefined, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True), undefined=StrictUndefined)
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    app.add_middleware(OperatorGuard, token=token)

    since = lambda: datetime.now(UTC) - timedelta(days=DAYS)  # noqa: E731

    @app.get("/admin", include_in_schema=False)
    def page() -> HTMLResponse:
        data = summary(assistant, log, since())
        return HTMLResponse(template.render(**data, plot=_plot(data["feedback_by_day"])))

    @app.get("/admin/api/summary", include_in_schema=False)
    def summary_json(gaps: bool = False) -> JSONResponse:
        return JSONResponse(summary(assistant, log, since(), with_gaps=gaps))

    if with_eval:
        import gradio as gr

        from ui.eval_tab import eval_tab
        from ui.web import CSS, THEME

        with gr.Blocks(title="明白 Mingbai · 评测 Evaluation", analytics_enabled=False) as demo:
            gr.Markdown("# 明白 Mingbai · 评测 Evaluation\n[← 运营 Operator](/admin)")
            with gr.Tabs():
                eval_tab(assistant)()
        gr.mount_gradio_app(app, demo, path="/admin/eval", css=CSS, theme=THEME)
    return app
