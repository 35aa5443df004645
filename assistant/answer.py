"""What an answer is: plain frozen data that crosses every boundary (API, UI, HTTP, evaluation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# "conversation": a greeting or thanks, answered with one line
Route = Literal["knowledge", "whatif", "out_of_scope", "conversation"]


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    snippet: str
    score: float
    sources: tuple[str, ...] = ()
    reviewed: str = ""


@dataclass(frozen=True)
class Answer:
    text: str
    route: Route
    citations: list[Citation]
    abstained: bool
    scam_warning: str | None
    language: Literal["zh", "en"]
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # e.g. "question trimmed to 2,000 characters"
    retrieved: tuple[tuple[str, float], ...] = ()  # (entry id, score) ranking behind the answer
    clarifying: bool = False  # unclear, or a near-tie: the answer asks what it is about
    suggestions: tuple[str, ...] = ()  # questions the user can send next (answerable ones)
    suggestion_ids: tuple[str, ...] = ()  # the entries that answer them
    # A message asking several questions: one answer per question, in order (``text`` and
    # ``citations`` above are all of them together); empty for a message asking one.
    parts: tuple[Answer, ...] = ()
    question: str = ""  # the question this answer (or part) answers, as masked
    id: str = ""  # set by the question log (assistant.questionlog.recording): the feedback key
