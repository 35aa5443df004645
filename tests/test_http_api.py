"""ui.http_api with a fake assistant: formats, streaming, and every bad-input status."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from assistant.answer import Answer, Citation
from assistant.whatif.simulate import Simulation, simulate
from ui.http_api import MAX_BODY_BYTES, create_api


class FakeAssistant:
    ready = True

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def what_if(self, profile: Mapping[str, object], changes: Mapping[str, object] | None = None,
                target_band: str | None = None) -> Simulation:  # fmt: skip
        return simulate(profile, changes, target_band)  # the scorer itself: no model involved

    def ask(self, question: str, history: Sequence[Mapping[str, str]] | None = None) -> Answer:
        self.calls.append((question, history))
        if not question.strip():
            raise ValueError("question is empty: ask something")
        cite = Citation(
            "huabei-what-is-huabei",
            "花呗是什么",
            "花呗是消费信贷。",
            0.93,
            ("《花呗用户服务合同》",),
            "2026-11-28",
        )
        return Answer(
            f"**花呗是消费信贷。** [1]\n\n来源：\n[1] 花呗是什么 ({question})",
            "knowledge",
            [cite],
            False,
            None,
            "zh",
            {"total_ms": 1.0},
        )


@pytest.fixture
def fake() -> FakeAssistant:
    return FakeAssistant()


@pytest.fixture
def client(fake: FakeAssistant) -> TestClient:
    return TestClient(create_api(fake))


def test_chat_completion_keeps_citations(client: TestClient, fake: FakeAssistant) -> None:
    r = client.post(
        "/v1/chat/completions",
        json={
            "model": "mingbai",
            "messages": [
                {"role": "system", "content": "be nice"},
                {"role": "user", "content": "借呗逾期会怎样"},
                {"role": "assistant", "content": "会有罚息"},
                {"role": "user", "content": "那花呗呢?"},
            ],
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "mingbai"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant" and "[1]" in message["content"]
    assert message["citations"][0]["doc_id"] == "huabei-what-is-huabei"
    assert body["choices"][0]["citations"] == message["citations"]
    assert body["mingbai"]["route"] == "knowledge"
    question, history = fake.calls[-1]
    assert question == "那花呗呢?"
    assert history == [
        {"role": "user", "content": "借呗逾期会怎样"},
        {"role": "assistant", "content": "会有罚息"},
    ]


def test_content_parts_are_accepted(client: TestClient, fake: FakeAssistant) -> None:
    r = client.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": [{"type": "text", "text": "花呗是什么"}]}]},
    )
    assert r.status_code == 200 and fake.calls[-1][0] == "花呗是什么"


def test_streaming_is_server_sent_events(client: TestClient) -> None:
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "花呗是什么"}], "stream": True},
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.startswith("**花呗是消费信贷。** [1]")
    last = chunks[-1]["choices"][0]
    assert last["finish_reason"] == "stop" and last["citations"][0]["index"] == 1
    assert len(chunks) > 3


def test_models_ask_and_health(client: TestClient) -> None:
    assert client.get("/v1/models").json()["data"][0]["id"] == "mingbai"
    ans = client.post("/v1/ask", json={"question": "花呗是什么"}).json()
    assert ans["route"] == "knowledge" and ans["citations"][0]["sources"]
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_health_is_503_while_starting(fake: FakeAssistant) -> None:
    fake.ready = False
    assert TestClient(create_api(fake)).get("/healthz").status_code == 503


def test_what_if(client: TestClient) -> None:
    r = client.post(
        "/v1/what-if",
        json={"profile": {"sesame_score": 700}, "changes": {"overdue_12m": 2}, "lang": "en"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["after"]["high"] <= body["before"]["high"]
    assert body["changed"] == {"overdue_12m": [0, 2]}
    assert "educational estimate" in body["notice"]


@pytest.mark.parametrize(
    ("path", "payload", "status", "needle"),
    [
        ("/v1/ask", {"question": "   "}, 400, "question is empty"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": ""}]}, 400, "empty"),
        ("/v1/chat/completions", {"messages": []}, 422, "messages"),
        (
            "/v1/chat/completions",
            {"messages": [{"role": "assistant", "content": "hi"}]},
            400,
            "end with a user message",
        ),
        ("/v1/chat/completions", {"messages": [{"role": "wizard", "content": "x"}]}, 422, "role"),
        ("/v1/what-if", {"profile": {"sesame_score": 1000}}, 422, "sesame_score"),
        ("/v1/what-if", {"profile": {"shoe_size": 42}}, 422, "shoe_size"),
        ("/v1/what-if", {"profile": {}, "changes": {"utilization": 7}}, 422, "utilization"),
        ("/v1/ask", {"nope": 1}, 422, "question"),
    ],
)
def test_bad_requests_get_json_4xx(
    client: TestClient, path: str, payload: object, status: int, needle: str
) -> None:
    r = client.post(path, json=payload)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert needle in err["message"] or needle == err.get("param")


def test_malformed_json_is_400(client: TestClient) -> None:
    r = client.post("/v1/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()


def test_body_over_64_kb_is_413(client: TestClient) -> None:
    big = {"question": "x" * (MAX_BODY_BYTES + 10)}
    r = client.post("/v1/ask", json=big)
    assert r.status_code == 413 and "64 KB" in r.json()["error"]["message"]

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"question": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    r = client.post("/v1/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_unknown_route_is_json_404(client: TestClient) -> None:
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["message"] == "not found"


class PartsAssistant(FakeAssistant):
    """Answers every message as two parts, the second a clarifying question."""

    def ask(self, question: str, history: Sequence[Mapping[str, str]] | None = None) -> Answer:
        one = super().ask("花呗是什么", history)
        two = Answer("你想问花呗的哪方面？", "knowledge", [], False, None, "zh", clarifying=True,
                     suggestions=("花呗怎么还款？",), question="花呗")  # fmt: skip
        return Answer(f"{one.text}\n\n{two.text}", "knowledge", one.citations, False, None, "zh",
                      parts=(replace(one, question="花呗是什么"), two))  # fmt: skip


def test_the_extension_object_is_on_the_choice_streaming_or_not() -> None:
    client = TestClient(create_api(PartsAssistant()))
    body = {"model": "mingbai", "messages": [{"role": "user", "content": "花呗是什么？花呗"}]}
    plain = client.post("/v1/chat/completions", json=body).json()
    ext = plain["choices"][0]["mingbai"]
    assert ext == plain["mingbai"]
    assert [p["question"] for p in ext["parts"]] == ["花呗是什么", "花呗"]
    assert ext["parts"][0]["citations"][0]["doc_id"] == "huabei-what-is-huabei"
    assert ext["parts"][1]["clarifying"] and ext["parts"][1]["citations"] == []
    with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as r:
        lines = [x for x in r.iter_lines() if x.startswith("data: {")]
    last = json.loads(lines[-1][6:])["choices"][0]
    assert last["finish_reason"] == "stop"
    assert last["mingbai"] == ext and last["citations"] == plain["choices"][0]["citations"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"profile": {"sesame_score": "lots"}}, "sesame_score"),
        ({"profile": {"shoe_size": 42}}, "shoe_size"),
        ({"profile": {}, "changes": {"utilization": 7}}, "utilization"),
        ({"profile": {}, "target_band": "platinum"}, "target_band"),
    ],
)
def test_a_bad_what_if_names_its_field_in_param(
    client: TestClient, payload: object, field: str
) -> None:
    err = client.post("/v1/what-if", json=payload).json()["error"]
    assert err["param"] == field, err  # from the error's field, not parsed out of its message


def test_feedback_reasons_agree_across_the_api_the_page_and_the_log() -> None:
    """The API's ``reason`` values, the page's 👎 options (each language) and the question log's
    REASONS are one list: a reason added to one and not the others fails here, not in use."""
    from typing import get_args

    from assistant.questionlog.schema import REASONS
    from ui.http_api import FeedbackRequest
    from ui.web import FEEDBACK_OPTIONS

    annotation = FeedbackRequest.model_fields["reason"].annotation
    api = {v for arg in get_args(annotation) for v in get_args(arg)}
    assert api == set(REASONS)
    for lang, options in FEEDBACK_OPTIONS.items():
        assert set(options.values()) == set(REASONS), lang
        assert len(options) == len(REASONS), lang  # one label per reason
