"""The JSON API: OpenAI-compatible chat completions (citations kept), plus Mingbai's own routes.

    POST /v1/chat/completions   OpenAI Chat Completions (model "mingbai"; stream: true → SSE)
    GET  /v1/models             the one model
    POST /v1/ask                {"question", "history"?} → the whole Answer
    POST /v1/what-if            {"profile": {...}, "changes"?: {...}, "target_band"?, "lang"?}
    GET  /healthz               200 when the model and index are ready, else 503

Bad requests get JSON errors in OpenAI's shape with the right 4xx status, never a 500.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.answer import Answer
from assistant.errors import MingbaiError
from assistant.serialize import answer_json, citations_json, extension_json, simulation_json
from assistant.surface import Surface
from ui.batching import Batcher

MODEL_ID = "mingbai"
MAX_BODY_BYTES = 64 * 1024
STREAM_CHUNK_CHARS = 24


AssistantLike = Surface  # the name servers and tests have used
# -- request bodies -------------------------------------------------------------------------
class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # OpenAI "content parts"
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, top_p...: accepted, ignored
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class AskRequest(BaseModel):
    question: str
    history: list[dict[str, str]] | None = None


class WhatIfRequest(BaseModel):
    profile: dict[str, Any] = Field(default_factory=dict)
    changes: dict[str, Any] = Field(default_factory=dict)
    target_band: str | None = None
    lang: Literal["zh", "en"] = "zh"


class FeedbackRequest(BaseModel):
    """👍/👎 on an answer: ``id`` is the completion's id (``chatcmpl-…``) or the answer's ``id``."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=60)
    vote: Literal["up", "down"]
    reason: Literal["not_answered", "wrong", "unclear", "other"] | None = None
    comment: str | None = Field(None, max_length=2000)


# -- errors ---------------------------------------------------------------------------------
def error(status: int, message: str, *, param: str | None = None, kind: str = "") -> JSONResponse:
    kind = kind or ("invalid_request_error" if status < 500 else "server_error")
    body = {"error": {"message": message, "type": kind, "param": param, "code": status}}
    return JSONResponse(body, status_code=status)


class BodyLimit:
    """Reject bodies over ``limit`` bytes with 413, whether or not Content-Length is sent.

    The body (at most ``limit`` bytes) is read here and replayed to the app, so an oversized
    chunked upload is refused before any handler sees it.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._reject(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._reject(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error(413, f"request body is larger than {self.limit // 1024} KB")
        await response(scope, receive, send)


def _first_error(exc: RequestValidationError) -> tuple[str, str]:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    return where, f"{where or 'body'}: {first.get('msg', 'invalid request')}"


# -- the app --------------------------------------------------------------------------------
def _split_history(messages: Sequence[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The last user message is the question; earlier user/assistant turns are the history."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise ValueError("messages must end with a user message")
    history = [{"role": m.role, "content": m.text()} for m in turns[:-1]]
    return turns[-1].text(), history


def create_api(assistant: Surface, app: FastAPI | None = None) -> FastAPI:
    """Add Mingbai's JSON routes to ``app`` (a new FastAPI app by default)."""
    app = app or FastAPI(
        title="Mingbai API",
        version="1",
        docs_url="/v1/docs",
        openapi_url="/v1/openapi.json",
        redoc_url=None,
    )
    app.add_middleware(BodyLimit)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        where, message = _first_error(exc)
        return error(400 if "JSON" in message else 422, message, param=where or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = "not found" if exc.status_code == 404 else str(exc.detail)
        return error(exc.status_code, message)

    batcher = Batcher(assistant)

    async def answer(question: str, history: list[dict[str, str]]) -> Answer | JSONResponse:
        try:
            return await batcher.ask(question, history or None)
        except (ValueError, TypeError) as exc:
            return error(400, str(exc), param="question")

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        ready = bool(assistant.ready)
        body: dict[str, Any] = {"status": "ok" if ready else "starting", "model_ready": ready,
                                "index_ready": True}
        log = getattr(assistant, "log", None)
        if log is not None:  # the question log's writer: rows written and dropped
            body["question_log"] = {"written": log.written, "dropped": log.dropped}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.post("/v1/feedback")
    async def feedback(body: FeedbackRequest) -> JSONResponse:
        record = getattr(assistant, "feedback", None)
        if record is None or getattr(assistant, "log", None) is None:
            return error(404, "feedback is not recorded here (MINGBAI_LOG_QUESTIONS=0)",
                         param="id")
        answer_id = body.id.removeprefix("chatcmpl-")
        try:
            record(answer_id, 1 if body.vote == "up" else -1, body.reason, body.comment)
        except ValueError as exc:
            return error(422, str(exc), param="id")
        return JSONResponse({"ok": True, "id": body.id})

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "mingbai"}],
        }

    @app.post("/v1/ask")
    async def ask(body: AskRequest) -> Any:
        result = await answer(body.question, body.history or [])
        return result if isinstance(result, JSONResponse) else answer_json(result)

    @app.post("/v1/what-if")
    async def what_if(body: WhatIfRequest) -> Any:
        try:
            sim = assistant.what_if(body.profile, body.changes, body.target_band)
        except MingbaiError as exc:  # names the field; never parsed out of the message
            return error(422, str(exc), param=exc.field)
        return simulation_json(sim, body.lang)

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(body: ChatRequest) -> JSONResponse | StreamingResponse:
        try:
            question, history = _split_history(body.messages)
        except ValueError as exc:
            return error(400, str(exc), param="messages")
        result = await answer(question, history)
        if isinstance(result, JSONResponse):
            return result
        completion_id = f"chatcmpl-{result.id or uuid.uuid4().hex}"  # the feedback key
        created = int(time.time())
        if body.stream:
            return StreamingResponse(
                _stream(result, completion_id, created), media_type="text/event-stream"
            )
        return JSONResponse(_completion(result, completion_id, created, question))

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def unknown(rest: str) -> JSONResponse:
        # Registered last: only paths under /v1 that no route above matched land here, so the
        # page mounted at / never answers for the API with its own error format.
        return error(404, "not found", param=f"/v1/{rest}")

    return app


def _completion(answer: Answer, cid: str, created: int, question: str) -> dict[str, Any]:
    cites = citations_json(answer.citations)
    extra = extension_json(answer)
    prompt_tokens, completion_tokens = len(question), len(answer.text)  # characters, honestly
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text, "citations": cites},
                "finish_reason": "stop",
                "citations": cites,
                "mingbai": extra,
            }
        ],
        "citations": cites,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "mingbai": extra,
    }


async def _stream(answer: Answer, cid: str, created: int) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, **extra}
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [choice],
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    text = answer.text
    for start in range(0, len(text), STREAM_CHUNK_CHARS):
        yield chunk({"content": text[start : start + STREAM_CHUNK_CHARS]})
        await asyncio.sleep(0)
    cites = citations_json(answer.citations)
    yield chunk({}, "stop", citations=cites, mingbai=extension_json(answer))
    yield "data: [DONE]\n\n"
