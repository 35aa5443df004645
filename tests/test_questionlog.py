"""assistant.questionlog: the log, its writer, the recording surface, feedback in the faces, and
that nothing unmasked is ever stored. SQLite here; tests/test_questionlog_pg.py runs the same
store against a real PostgreSQL when one is reachable."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from assistant.answer import Answer, Citation
from assistant.questionlog.recording import Recorded
from assistant.questionlog.store import QuestionLog
from assistant.whatif.simulate import Simulation, simulate

ID_CARD = "11010519491231002X"  # checksum-valid
MOBILE = "13812345678"
CARD = "6222021234567894"  # passes the Luhn check, so the masker must catch it
FULL_WIDTH_MOBILE = "１３９８７６５４３２１"
SECRETS = (ID_CARD, MOBILE, CARD, "13987654321", "87654321")
PERSONAL = (f"我身份证{ID_CARD}手机{MOBILE}卡号{CARD}，另一个手机{FULL_WIDTH_MOBILE}，"
            f"还有abc{MOBILE}xyz，借呗怎么提前还")


class FakeBot:
    """Answers every question from one entry; the masked question comes back as the real
    assistant returns it."""

    def __init__(self) -> None:
        self.ready = True
        self.versions = {"rules": "r123", "index": "coll:kb456"}

    def ask_many(self, questions: Sequence[str],
                 histories: Sequence[Any] | None = None) -> list[Answer]:
        from assistant.privacy import mask_personal_data

        return [Answer(f"答：{mask_personal_data(q)}", "knowledge",
                       [Citation("jiebei-early-repayment", "借呗能提前还吗", "能", 0.91)], False,
                       None, "zh", retrieved=(("jiebei-early-repayment", 0.91), ("x", 0.88)),
                       question=mask_personal_data(q)) for q in questions]

    def ask(self, question: str, history: Any = None) -> Answer:
        return self.ask_many([question], [history])[0]

    def what_if(self, profile: Mapping[str, Any], changes: Mapping[str, Any] | None = None,
                target_band: str | None = None) -> Simulation:
        return simulate(profile, changes, target_band)

    def knowledge_entries(self) -> list[Any]:
        return []

    def find_entries(self, query: str, k: int = 10) -> list[Citation]:
        return []


@pytest.fixture
def log(tmp_path: Path) -> Any:
    qlog = QuestionLog(f"sqlite:///{tmp_path / 'questions.db'}")
    yield qlog
    qlog.close()


def test_rows_are_written_in_the_background_and_read_back(log: QuestionLog) -> None:
    rec = Recorded(FakeBot(), log, "api")
    answer = rec.ask("借呗能提前还吗")
    assert answer.id and len(answer.id) == 32
    assert rec.feedback(answer.id, -1, "wrong", "没回答") is True
    assert log.flush()
    (row,) = log.questions()
    assert row["id"] == answer.id and row["face"] == "api" and row["route"] == "knowledge"
    assert row["cited"] == [["jiebei-early-repayment", 0.91]]
    assert row["top_entry"] == "jiebei-early-repayment"
    assert row["margin"] == pytest.approx(0.03) and row["rules_version"] == "r123"
    assert row["index_version"] == "coll:kb456" and row["latency_ms"] >= 0
    assert not row["abstained"] and not row["clarifying"] and not row["scam"]
    (fb,) = log.feedback_rows()
    assert (fb["answer_id"], fb["vote"], fb["reason"], fb["comment"]) == (answer.id, -1, "wrong",
                                                                          "没回答")
    assert log.down_voted() == {answer.id}
    assert "答：" not in json.dumps(row, default=str)  # never the answer text


def test_a_conversation_is_followed_by_its_last_answer(log: QuestionLog) -> None:
    rec = Recorded(FakeBot(), log, "page")
    first = rec.ask("花呗逾期有什么后果")
    history = [{"role": "user", "content": "花呗逾期有什么后果"},
               {"role": "assistant", "content": first.text}]
    second = rec.ask("那借呗呢", history)
    other = rec.ask("花呗逾期有什么后果")  # a new conversation, same words
    log.flush()
    rows = {r["id"]: r for r in log.questions()}
    assert rows[second.id]["conversation"] == rows[first.id]["conversation"] == first.id
    assert rows[other.id]["conversation"] == other.id


def test_bad_feedback_is_refused_naming_what_is_wrong(log: QuestionLog) -> None:
    rec = Recorded(FakeBot(), log, "api")
    with pytest.raises(ValueError, match="vote must be 1 or -1"):
        rec.feedback("abc", 0)
    with pytest.raises(ValueError, match="reason must be one of"):
        rec.feedback("abc", -1, "boring")
    with pytest.raises(ValueError, match="answer id"):
        rec.feedback("x" * 100, 1)


def test_a_full_queue_drops_and_counts_instead_of_waiting(tmp_path: Path) -> None:
    qlog = QuestionLog(f"sqlite:///{tmp_path / 'q.db'}", queue_rows=1)
    gate = qlog.engine.connect()  # an open write transaction holds the SQLite writer back
    gate.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        start = time.perf_counter()
        results = [qlog.feedback(f"a{i}", 1) for i in range(50)]
        assert time.perf_counter() - start < 0.5  # never waits for the database
        assert results.count(False) >= 45 and qlog.dropped >= 45
    finally:
        gate.rollback()
        gate.close()
        qlog.close()


def test_a_failing_database_loses_rows_counted_and_the_writer_recovers(tmp_path: Path) -> None:
    qlog = QuestionLog(f"sqlite:///{tmp_path / 'q.db'}")
    broken = {"on": True}

    @event.listens_for(qlog.engine, "before_cursor_execute")
    def _fail(*_: Any) -> None:
        if broken["on"]:
            raise OperationalError("INSERT", {}, Exception("database is down"))

    rec = Recorded(FakeBot(), qlog, "api")
    answer = rec.ask("借呗能提前还吗")  # the answer goes on while the database is down
    assert answer.citations
    assert qlog.flush(timeout=15) and qlog.dropped == 1
    broken["on"] = False
    rec.ask("借呗能提前还吗")
    assert qlog.flush()
    assert qlog.counts()["questions"] == 1 and qlog.dropped == 1
    qlog.close()


def test_old_rows_are_purged(log: QuestionLog) -> None:
    log.record({"id": "old", "at": datetime.now(UTC) - timedelta(days=120), "conversation": "c",
                "face": "api", "lang": "zh", "route": "knowledge", "question": "q", "cited": [],
                "top_entry": None, "top_score": None, "margin": None, "abstained": True,
                "clarifying": False, "scam": False, "latency_ms": 1.0, "rules_version": "",
                "index_version": ""})
    log.feedback("new", 1)
    log.flush()  # the writer purges at its first batch, then hourly
    assert log.counts() == {"questions": 0, "feedback": 1}
    log.feedback("older", 1)
    log.flush()
    assert log.purge(days=1) == 0  # nothing is a day old yet
    with log.engine.begin() as conn:
        conn.exec_driver_sql("update feedback set at = '2000-01-01 00:00:00.000000'")
    assert log.purge() == 2 and log.counts() == {"questions": 0, "feedback": 0}


def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "MINGBAI_HOME": str(tmp_path)}
    for _ in range(2):
        out = subprocess.run([str(Path(".venv/bin/mingbai")), "db", "upgrade"], env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
    con = sqlite3.connect(tmp_path / "questions.db")
    tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    assert {"questions", "feedback", "alembic_version"} <= tables
    assert con.execute("select version_num from alembic_version").fetchone() == ("0001",)


# -- the faces ----------------------------------------------------------------------------------
def test_the_api_returns_the_id_and_takes_feedback_on_it(log: QuestionLog) -> None:
    from ui.server import create_app

    client = TestClient(create_app(FakeBot(), with_page=False, log=log))
    done = client.post("/v1/chat/completions",
                       json={"messages": [{"role": "user", "content": "借呗能提前还吗"}]}).json()
    assert done["id"].startswith("chatcmpl-") and done["mingbai"]["id"] == done["id"][9:]
    ok = client.post("/v1/feedback", json={"id": done["id"], "vote": "down",
                                           "reason": "not_answered", "comment": f"手机{MOBILE}"})
    assert ok.status_code == 200 and ok.json()["ok"] is True
    bad = client.post("/v1/feedback", json={"id": done["id"], "vote": "meh"})
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "vote"
    assert client.get("/healthz").json()["question_log"]["dropped"] == 0
    log.flush()
    (fb,) = log.feedback_rows()
    assert fb["answer_id"] == done["id"][9:] and fb["comment"] == "手机138****5678"


def test_without_a_log_the_api_says_feedback_is_off() -> None:
    from ui.server import create_app

    client = TestClient(create_app(FakeBot(), with_page=False))
    off = client.post("/v1/feedback", json={"id": "chatcmpl-x", "vote": "up"})
    assert off.status_code == 404 and "MINGBAI_LOG_QUESTIONS" in off.json()["error"]["message"]


def test_page_votes_and_reasons_reach_the_log(log: QuestionLog) -> None:
    from ui import web

    rec = Recorded(FakeBot(), log, "page")
    *_, (_, turns, _) = web.chat_stream(rec, "借呗能提前还吗", [], delay=0)
    *_, (_, turns, _) = web.chat_stream(rec, "那花呗呢", turns, delay=0)
    assert web.record_feedback(rec, turns, 1, True)  # the first answer: 👍
    assert web.record_feedback(rec, turns, [3, None], "答错了")  # the second: a reason
    assert web.FEEDBACK_REASONS["Wrong"] == web.FEEDBACK_REASONS["答错了"]  # on an English page
    assert not web.record_feedback(rec, turns, 2, True)  # a user message takes no vote
    log.flush()
    votes = [(f["answer_id"], f["vote"], f["reason"]) for f in log.feedback_rows()]
    assert votes == [(turns[0]["id"], 1, None), (turns[1]["id"], -1, "wrong")]


# -- privacy ------------------------------------------------------------------------------------
def _stored(path: Path) -> str:
    """Every table's rows and the database files' bytes (WAL included), as one string."""
    con = sqlite3.connect(path)
    rows = [json.dumps(r, ensure_ascii=False, default=str)
            for table in ("questions", "feedback") for r in con.execute(f"select * from {table}")]
    con.close()
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    return "\n".join(rows) + raw.decode("utf-8", "replace") + raw.decode("utf-16-le", "replace")


def test_nothing_unmasked_is_stored_from_the_page_or_the_api(tmp_path: Path) -> None:
    from ui import web
    from ui.server import create_app

    path = tmp_path / "questions.db"
    qlog = QuestionLog(f"sqlite:///{path}")
    client = TestClient(create_app(FakeBot(), with_page=False, log=qlog))
    done = client.post("/v1/chat/completions",
                       json={"messages": [{"role": "user", "content": PERSONAL}]}).json()
    client.post("/v1/ask", json={"question": PERSONAL})
    client.post("/v1/feedback", json={"id": done["id"], "vote": "down", "comment": PERSONAL})
    page = Recorded(FakeBot(), qlog, "page")
    *_, (_, turns, _) = web.chat_stream(page, PERSONAL, [], delay=0)
    page.feedback(turns[0]["id"], -1, "other", PERSONAL)
    assert qlog.flush()
    qlog.close()
    stored = _stored(path)
    assert stored.count("138****5678") >= 4  # the rows are there, masked
    for secret in SECRETS:
        assert secret not in stored, secret


@pytest.mark.slow
def test_nothing_unmasked_is_stored_from_the_command_line(  # type: ignore[no-untyped-def]
    bot, model_path: str, session_home: Path
) -> None:
    import os

    env = {**os.environ, "MINGBAI_HOME": str(session_home), "MINGBAI_EMBED_MODEL": model_path}
    out = subprocess.run([str(Path(".venv/bin/mingbai")), "ask", PERSONAL, "--json"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    answer_id = json.loads(out.stdout)["id"]
    path = session_home / "questions.db"
    con = sqlite3.connect(path)
    face = con.execute("select face from questions where id = ?", (answer_id,)).fetchone()
    con.close()
    assert face == ("cli",)
    stored = _stored(path)
    for secret in SECRETS:
        assert secret not in stored, secret


def test_the_app_closes_the_log_when_it_shuts_down(tmp_path: Path) -> None:
    """uvicorn ends a graceful shutdown (SIGTERM) by re-raising the signal, so `mingbai serve`
    never reaches a `finally`: the app's shutdown event closes the log instead, writing what is
    queued (measured before this: 10 of 138 rows answered during a SIGTERM were lost; after: 0
    of 160)."""
    from ui.server import create_app

    qlog = QuestionLog(f"sqlite:///{tmp_path / 'q.db'}")
    with TestClient(create_app(FakeBot(), with_page=False, log=qlog)) as client:
        for _ in range(5):
            assert client.post("/v1/ask", json={"question": "借呗能提前还吗"}).status_code == 200
    assert not qlog._thread.is_alive()  # closed by the shutdown event, not by us
    reader = QuestionLog(f"sqlite:///{tmp_path / 'q.db'}", migrate=False)
    assert reader.counts()["questions"] == 5
    reader.close()


def test_a_page_comment_goes_with_the_vote_given_on_the_last_answer(log: QuestionLog) -> None:
    from ui import web

    rec = Recorded(FakeBot(), log, "page")
    *_, (_, turns, _) = web.chat_stream(rec, "借呗能提前还吗", [], delay=0)
    answer_id = turns[-1]["id"]
    assert web.record_comment(rec, turns, {}, f"没说清楚，我手机{MOBILE}")  # no vote: 👎 other
    assert web.record_comment(rec, turns, {answer_id: 1}, "很清楚")  # after a 👍
    assert not web.record_comment(rec, turns, {}, "   ")  # nothing to record
    assert not web.record_comment(rec, [], {}, "no answer yet")
    log.flush()
    rows = [(f["vote"], f["reason"], f["comment"]) for f in log.feedback_rows()]
    assert rows == [(-1, "other", "没说清楚，我手机138****5678"), (1, None, "很清楚")]
