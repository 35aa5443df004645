"""``QuestionLog``: the question log's database, written by one background thread.

Recording never slows or breaks an answer: ``record`` and ``feedback`` put a row on a bounded
queue and return; the writer inserts in batches (up to ``BATCH`` rows or every ``INTERVAL``
seconds). When the queue is full, or the database refuses a batch three times, the rows are
dropped and counted (``dropped``, shown by ``/healthz`` and the operator page); the writer then
disposes of its connections and reconnects on the next batch.

>>> log = QuestionLog("sqlite://")  # an in-memory database, for the example
>>> log.feedback("a1", 1)
True
>>> log.flush() and log.counts()["feedback"]
1
>>> log.close()
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from assistant.questionlog.schema import REASONS, FeedbackRow, QuestionRow
from assistant.settings import Settings
from knowledge.errors import ConfigError

log = logging.getLogger("mingbai.questionlog")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
QUEUE_ROWS = 20_000  # about a minute of heavy traffic; beyond it rows are dropped, not waited on
BATCH = 500
INTERVAL = 0.2  # seconds a row may wait before its batch is written
RETRIES = 3
_STOP = object()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file gets WAL mode (readers never block the writer)."""
    try:
        if url.startswith("sqlite"):
            memory = url in ("sqlite://", "sqlite:///:memory:")  # one shared connection
            engine = create_engine(url, connect_args={"check_same_thread": False},
                                   **({"poolclass": StaticPool} if memory else {}))

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            return engine
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # a malformed URL or a driver that is not installed
        raise ConfigError(f"MINGBAI_DB_URL: cannot use {url.split('@')[-1]!r} ({exc}); use a "
                          "SQLAlchemy URL such as sqlite:///path/questions.db or "
                          "postgresql+psycopg://user:password@127.0.0.1:5432/mingbai") from None


def upgrade(engine: Engine) -> None:
    """Bring the database's schema to the newest revision (Alembic; what ``mingbai db upgrade``
    runs, and every start-up)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class QuestionLog:
    """One database, its schema brought up to date, and the writer thread that fills it."""

    def __init__(self, url: str, *, days: int = 90, migrate: bool = True,
                 queue_rows: int = QUEUE_ROWS) -> None:
        self.url = url
        self.days = days
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(url)
        if migrate:
            upgrade(self.engine)
        self.dropped = 0
        self.written = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_rows)
        self._lock = threading.Lock()
        self._purged: float | None = None  # never yet (monotonic time may start near 0)
        self._thread = threading.Thread(target=self._run, name="question-log", daemon=True)
        self._thread.start()

    # -- writing -------------------------------------------------------------------------------
    def record(self, row: Mapping[str, Any]) -> bool:
        """Queue one ``questions`` row; False (and counted as dropped) when the queue is full."""
        return self._put(("questions", dict(row)))

    def feedback(self, answer_id: str, vote: int, reason: str | None = None,
                 comment: str | None = None) -> bool:
        """Queue a 👍 (+1) or 👎 (-1) on ``answer_id``; ``comment`` must already be masked."""
        if vote not in (1, -1):
            raise ValueError(f"vote must be 1 or -1, not {vote!r}")
        if reason is not None and reason not in REASONS:
            raise ValueError(f"reason must be one of {', '.join(REASONS)}, not {reason!r}")
        return self._put(("feedback", {"answer_id": answer_id, "at": datetime.now(UTC),
                                       "vote": vote, "reason": reason, "comment": comment}))

    def _put(self, item: tuple[str, dict[str, Any]]) -> bool:
        try:
            self._queue.put_nowait(item)
            return True
        except queue.Full:
            with self._lock:
                self.dropped += 1
            return False

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued row is written (or dropped); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Write what is queued, then stop the writer."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout=10)
        self.engine.dispose()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                self._queue.task_done()
                return
            batch = [item]
            deadline = time.monotonic() + INTERVAL
            stop = False
            while len(batch) < BATCH:
                try:
                    nxt = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            self._write(batch)
            self._maybe_purge()  # at the first batch, then hourly
            for _ in batch:
                self._queue.task_done()
            if stop:
                self._queue.task_done()
                return

    def _write(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        tables: dict[str, Any] = {"questions": QuestionRow, "feedback": FeedbackRow}
        for attempt in range(RETRIES):
            try:
                with self.engine.begin() as conn:
                    for name, table in tables.items():
                        rows = [r for t, r in batch if t == name]
                        if rows:
                            conn.execute(insert(table), rows)
                self.written += len(batch)
                return
            except SQLAlchemyError as exc:
                log.warning("question log: writing %d rows failed (%s); attempt %d of %d",
                            len(batch), type(exc).__name__, attempt + 1, RETRIES)
                self.engine.dispose()  # reconnect on the next attempt
                time.sleep(min(2.0, 0.2 * 2**attempt))
        with self._lock:
            self.dropped += len(batch)

    def _maybe_purge(self) -> None:
        if self._purged is not None and time.monotonic() - self._purged < 3600:
            return
        self._purged = time.monotonic()
        try:
            self.purge()
        except SQLAlchemyError as exc:
            log.warning("question log: purging old rows failed (%s)", type(exc).__name__)

    def purge(self, days: int | None = None) -> int:
        """Delete rows older than ``days`` (default: the log's ``MINGBAI_LOG_DAYS``)."""
        cutoff = datetime.now(UTC) - timedelta(days=days or self.days)
        with self.engine.begin() as conn:
            a = conn.execute(delete(QuestionRow).where(QuestionRow.at < cutoff)).rowcount
            b = conn.execute(delete(FeedbackRow).where(FeedbackRow.at < cutoff)).rowcount
        return int(a or 0) + int(b or 0)

    # -- reading (the operator's views; never a consumer face) ----------------------------------
    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                "questions": int(conn.scalar(select(func.count()).select_from(QuestionRow)) or 0),
                "feedback": int(conn.scalar(select(func.count()).select_from(FeedbackRow)) or 0),
            }

    def questions(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Every recorded question since ``since``, oldest first, as dicts."""
        return self._rows(QuestionRow, since)

    def feedback_rows(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Every vote since ``since``, oldest first, as dicts."""
        return self._rows(FeedbackRow, since)

    def _rows(self, model: Any, since: datetime | None) -> list[dict[str, Any]]:
        start = since or datetime(1970, 1, 1, tzinfo=UTC)
        query = (select(*model.__table__.columns).where(model.at >= start)
                 .order_by(model.at, model.id))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def down_voted(self, since: datetime | None = None) -> set[str]:
        """The answer ids whose latest vote is 👎."""
        return down_voted(self.feedback_rows(since))


def down_voted(votes: Iterable[Mapping[str, Any]]) -> set[str]:
    """The answer ids whose latest vote (rows oldest first) is 👎."""
    latest: dict[str, int] = {}
    for row in votes:
        latest[str(row["answer_id"])] = int(row["vote"])
    return {a for a, v in latest.items() if v < 0}


def entry_usage(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How often each entry was the one an answer came from."""
    usage: dict[str, int] = {}
    for row in rows:
        if row.get("top_entry") and not row.get("abstained"):
            usage[row["top_entry"]] = usage.get(row["top_entry"], 0) + 1
    return usage


def open_question_log(settings: Settings) -> QuestionLog | None:
    """The log the settings ask for (``MINGBAI_DB_URL``, ``MINGBAI_LOG_DAYS``), its schema
    upgraded; None when ``MINGBAI_LOG_QUESTIONS=0``."""
    if not settings.log_questions:
        return None
    return QuestionLog(settings.database_url, days=settings.log_days)
