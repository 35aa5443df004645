"""The question log on a real PostgreSQL (the shared log of several replicas): migrations, the
writer, reads, purging, a database that goes away and comes back, and nothing unmasked stored.

Runs when MINGBAI_TEST_PG_URL names a reachable server (`.ci/run` starts one with
`.ci/postgres.sh`), or one answers at the default URL below; otherwise skipped, saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from assistant.questionlog.recording import Recorded
from assistant.questionlog.store import QuestionLog
from tests.test_questionlog import PERSONAL, SECRETS, FakeBot

DEFAULT_URL = "postgresql+psycopg://mingbai_ci:mingbai_ci_pw@127.0.0.1:5432/mingbai_test"
URL = os.environ.get("MINGBAI_TEST_PG_URL") or DEFAULT_URL


def _reachable(url: str) -> str | None:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # no server, no role, no database: say which
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


_why = _reachable(URL)
if _why is not None:
    if os.environ.get("MINGBAI_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL at {URL.split('@')[-1]} is required here: {_why}")
    pytest.skip(f"no PostgreSQL at {URL.split('@')[-1]} ({_why}); .ci/postgres.sh starts one",
                allow_module_level=True)


@pytest.fixture
def log() -> Iterator[QuestionLog]:
    """A fresh schema of its own, so parallel test workers never share tables."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(URL, pool_pre_ping=True)
    with admin.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    url = URL + ("&" if "?" in URL else "?") + f"options=-csearch_path%3D{schema}"
    qlog = QuestionLog(url)
    yield qlog
    qlog.close()
    with admin.begin() as conn:
        conn.execute(text(f"drop schema {schema} cascade"))
    admin.dispose()


def test_rows_and_feedback_round_trip(log: QuestionLog) -> None:
    rec = Recorded(FakeBot(), log, "api")
    answers = rec.ask_many(["借呗能提前还吗", "花呗怎么关"])
    rec.feedback(answers[0].id, -1, "not_answered", PERSONAL)
    assert log.flush()
    rows = log.questions()
    assert [r["id"] for r in rows] == [a.id for a in answers]
    assert rows[0]["cited"] == [["jiebei-early-repayment", 0.91]] and rows[0]["at"].tzinfo
    assert log.down_voted() == {answers[0].id}
    with log.engine.connect() as conn:
        version = conn.execute(text("select version_num from alembic_version")).scalar()
        stored = " ".join(str(r) for t in ("questions", "feedback")
                          for r in conn.execute(text(f"select * from {t}")))
    assert version == "0001"
    for secret in SECRETS:
        assert secret not in stored


def test_the_writer_survives_the_server_dropping_its_connections(log: QuestionLog) -> None:
    rec = Recorded(FakeBot(), log, "api")
    rec.ask("借呗能提前还吗")
    assert log.flush()
    admin = create_engine(URL, pool_pre_ping=True)
    with admin.begin() as conn:  # what a restart does to every open connection
        conn.execute(text("select pg_terminate_backend(pid) from pg_stat_activity "
                          "where usename = current_user and pid <> pg_backend_pid()"))
    admin.dispose()
    for _ in range(5):
        rec.ask("花呗怎么关")
    assert log.flush(timeout=20)
    assert log.counts()["questions"] + log.dropped == 6 and log.counts()["questions"] >= 5


def test_purge(log: QuestionLog) -> None:
    log.feedback("a", 1)
    log.flush()
    with log.engine.begin() as conn:
        conn.execute(text("update feedback set at = now() - interval '200 days'"))
    assert log.purge(90) == 1


