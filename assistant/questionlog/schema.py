"""The question log's tables. Change them only with a new Alembic revision in ``migrations/``.

Nothing unmasked is stored: ``questions.question`` and ``feedback.comment`` are masked
(``assistant.privacy``) before they reach the writer, and the answer text is not kept (the cited
entries rebuild it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class QuestionRow(Base):
    """One answered message."""

    __tablename__ = "questions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the answer id faces return
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    conversation: Mapped[str] = mapped_column(String(40), index=True)
    face: Mapped[str] = mapped_column(String(16))  # page, api, mcp, cli
    lang: Mapped[str] = mapped_column(String(2))
    route: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)  # masked
    cited: Mapped[list[list[object]]] = mapped_column(JSON)  # [[entry id, score], ...]
    top_entry: Mapped[str | None] = mapped_column(String(120), index=True)
    top_score: Mapped[float | None] = mapped_column(Float)
    margin: Mapped[float | None] = mapped_column(Float)  # best minus second-best retrieved score
    abstained: Mapped[bool] = mapped_column(Boolean)
    clarifying: Mapped[bool] = mapped_column(Boolean)
    scam: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float] = mapped_column(Float)
    rules_version: Mapped[str] = mapped_column(String(16))
    index_version: Mapped[str] = mapped_column(String(80))


class FeedbackRow(Base):
    """👍 or 👎 on one answer, with an optional reason and a masked comment."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    vote: Mapped[int] = mapped_column(Integer)  # +1 or -1
    reason: Mapped[str | None] = mapped_column(String(16))  # not_answered, wrong, unclear, other
    comment: Mapped[str | None] = mapped_column(Text)  # masked


REASONS = {
    "not_answered": ("没回答我的问题", "did not answer my question"),
    "wrong": ("答错了", "wrong"),
    "unclear": ("看不懂", "hard to understand"),
    "other": ("其他", "other"),
}
