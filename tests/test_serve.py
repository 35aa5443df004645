"""`mingbai serve` for real: a subprocess on 127.0.0.1, talked to by real clients
(httpx, gradio_client, the official openai package)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow


def test_page_and_health(server: str) -> None:
    page = httpx.get(f"{server}/", timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower()
    health = httpx.get(f"{server}/healthz").json()
    log = health.pop("question_log")  # `mingbai serve` records questions by default
    assert health == {"status": "ok", "model_ready": True, "index_ready": True}
    assert log["dropped"] == 0 and log["written"] >= 0


def test_gradio_client_ask_and_what_if(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    text = client.predict("在闲鱼买东西会开通借呗吗?", api_name="/ask")
    assert "不会" in text and "[1]" in text
    result = client.predict({"sesame_score": 700}, {"overdue_12m": 2}, api_name="/what_if")
    assert result["after"]["high"] < result["before"]["high"]
    assert "educational estimate" in result["notice"]["en"]


def test_openai_client_plain_and_streaming(server: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key="not-needed", max_retries=0)
    assert [m.id for m in client.models.list()] == ["mingbai"]
    reply = client.chat.completions.create(
        model="mingbai",
        messages=[{"role": "user", "content": "Does buying on Xianyu open Jiebei?"}],
    )
    message = reply.choices[0].message
    assert message.content.startswith("**No")
    citations = (message.model_extra or {})["citations"]
    assert citations[0]["doc_id"] == "xianyu-buying-does-not-open-jiebei"

    stream = client.chat.completions.create(
        model="mingbai",
        stream=True,
        messages=[
            {"role": "user", "content": "借呗逾期了会怎样"},
            {"role": "assistant", "content": "……"},
            {"role": "user", "content": "那花呗呢?"},
        ],
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "花呗" in text
    last = chunks[-1].choices[0]
    assert last.finish_reason == "stop"
    assert (last.model_extra or {})["citations"][0]["doc_id"] == "huabei-overdue-consequences"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/v1/ask", {"question": ""}, 400),
        ("POST", "/v1/what-if", {"profile": {"sesame_score": 2000}}, 422),
        ("POST", "/v1/ask", {"question": "x" * 70_000}, 413),
        ("GET", "/v1/unknown", None, 404),
    ],
)
def test_bad_input_never_500(
    server: str, method: str, path: str, body: object, status: int
) -> None:
    r = httpx.request(method, f"{server}{path}", json=body, timeout=30)
    assert r.status_code == status and "error" in r.json()


def test_the_language_script_comes_first_in_the_pages_head_only() -> None:
    """ui.server.FirstInHead: the page at its path gets the script right after <head> (with a
    matching Content-Length); other paths and other content types pass untouched."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse, JSONResponse
    from fastapi.testclient import TestClient

    from ui.server import FirstInHead

    app = FastAPI()

    @app.get("/")
    def page() -> HTMLResponse:
        return HTMLResponse("<html><head><meta charset='utf-8'></head><body>页</body></html>")

    @app.get("/other")
    def other() -> HTMLResponse:
        return HTMLResponse("<html><head></head></html>")

    @app.get("/data")
    def data() -> JSONResponse:
        return JSONResponse({"text": "<head>"})

    app.add_middleware(FirstInHead, path="/", html="<script>first()</script>")
    client = TestClient(app)
    shown = client.get("/")
    assert shown.text.startswith("<html><head><script>first()</script><meta")
    assert int(shown.headers["content-length"]) == len(shown.content)
    assert "first()" not in client.get("/other").text
    assert client.get("/data").json() == {"text": "<head>"}
