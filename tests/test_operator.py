"""ui.operator: the operator page and its JSON, behind MINGBAI_ADMIN_TOKEN; the figures it shows
(assistant.questionlog.summary)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.questionlog.recording import Recorded
from assistant.questionlog.store import QuestionLog
from assistant.questionlog.summary import past_review, usage
from knowledge.loader import load_knowledge
from tests.test_questionlog import FakeBot

TOKEN = "op-token-7f3a"
INJECTIONS = ("' OR '1'='1", "1; DROP TABLE questions; --", "\" OR \"\"=\"", "admin'--")


class Bot(FakeBot):
    """With an embedder for the gaps: one dimension per question length (enough to group)."""

    components = SimpleNamespace(search=SimpleNamespace(
        embed_many=lambda texts: [[1.0, float(len(t))] for t in texts],
        search=lambda q, k=3: SimpleNamespace(hits=[])))

    def knowledge_entries(self) -> list[Any]:
        return sorted(load_knowledge().by_id().values(), key=lambda e: e.id)


@pytest.fixture
def setup(tmp_path: Path) -> Any:
    from ui.server import create_app

    log = QuestionLog(f"sqlite:///{tmp_path / 'q.db'}")
    bot = Bot()
    rec = Recorded(bot, log, "api")
    answers = [rec.ask("借呗能提前还吗"), rec.ask("花呗怎么关")]
    rec.feedback(answers[0].id, -1, "wrong")
    rec.feedback(answers[1].id, 1)
    log.flush()
    client = TestClient(create_app(bot, with_page=False, log=log, admin_token=TOKEN))
    yield client, log
    log.close()


def test_without_the_token_everything_is_refused(setup: Any) -> None:
    client, _ = setup
    for path in ("/admin", "/admin/", "/admin/api/summary", "/admin/api/summary?gaps=1",
                 "/admin/eval/", "/admin/../admin"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 401, path
        assert "operator token required" in r.text
    wrong = client.get("/admin", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert client.get("/admin?token=nope", follow_redirects=False).status_code == 401


def test_injection_strings_in_every_parameter_are_refused_or_harmless(setup: Any) -> None:
    client, log = setup
    for bad in INJECTIONS:
        assert client.get("/admin", params={"token": bad}, follow_redirects=False
                          ).status_code == 401
        assert client.get("/admin", headers={"Authorization": f"Bearer {bad}"}).status_code == 401
        assert client.get("/admin/api/summary", headers={"Cookie": f"mingbai_admin={bad!r}"}
                          ).status_code == 401
        ok = client.get("/admin/api/summary", params={"gaps": bad},
                        headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code in (200, 422)  # a non-boolean is a validation error, no more
    assert log.counts() == {"questions": 2, "feedback": 2}  # nothing was dropped or changed


def test_with_the_token_the_page_shows_the_log(setup: Any) -> None:
    client, _ = setup
    auth = {"Authorization": f"Bearer {TOKEN}"}
    data = client.get("/admin/api/summary", headers=auth).json()
    assert data["counts"] == {"questions": 2, "feedback": 2} and data["dropped"] == 0
    assert data["down"][0] == {"entry": "jiebei-early-repayment", "votes": 2, "down": 1,
                               "down_share": 0.5}
    assert data["most"][0] == ["jiebei-early-repayment", 2]
    assert sum(d["up"] + d["down"] for d in data["feedback_by_day"]) == 2
    page = client.get("/admin", headers=auth)
    assert page.status_code == 200 and "👎 by entry" in page.text
    assert "Gaps: what went unanswered (1 groups)" in page.text  # the down-voted answer
    assert "jiebei-early-repayment" in page.text and "data:image/png;base64," in page.text


def test_the_token_in_the_url_becomes_a_cookie(setup: Any) -> None:
    client, _ = setup
    first = client.get(f"/admin?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/admin"
    assert "httponly" in first.headers["set-cookie"].lower()
    assert client.get("/admin").status_code == 200  # the cookie is sent from now on


def test_the_consumer_api_cannot_read_the_log(setup: Any) -> None:
    client, _ = setup
    for path in ("/v1/log", "/v1/questions", "/v1/feedback", "/v1/admin"):
        assert client.get(path).status_code in (404, 405), path


def test_the_operator_page_is_off_without_a_token(tmp_path: Path) -> None:
    from ui.server import create_app

    client = TestClient(create_app(Bot(), with_page=False))
    assert client.get("/admin").status_code == 404


def test_usage_and_entries_past_review() -> None:
    entries = Bot().knowledge_entries()
    rows = [{"top_entry": "jiebei-early-repayment", "abstained": False},
            {"top_entry": "jiebei-early-repayment", "abstained": False},
            {"top_entry": "huabei-what-is-huabei", "abstained": True}]
    most, least = usage(rows, entries, n=3)
    assert most[0] == ("jiebei-early-repayment", 2) and all(n == 0 for _, n in least)
    assert past_review(entries, today=date(2026, 12, 1)) == []  # all reviewed this year
    due = past_review(entries, today=date(2028, 1, 1))
    assert len(due) == len(entries) and due == sorted(due, key=lambda t: (t[1], t[0]))


def test_the_evaluation_tab_moved_to_the_operator_page(tmp_path: Path) -> None:
    from ui.server import create_app

    log = QuestionLog(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        client = TestClient(create_app(Bot(), log=log, admin_token=TOKEN))
        assert client.get("/admin/eval/").status_code == 401
        page = client.get("/admin/eval/", headers={"Authorization": f"Bearer {TOKEN}"})
        assert page.status_code == 200 and "评测 Evaluation" in page.text
        consumer = client.get("/")
        assert consumer.status_code == 200 and "评测 Evaluation" not in consumer.text
    finally:
        log.close()
