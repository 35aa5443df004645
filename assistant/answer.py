"""What an answer is: plain frozen data that crosses every boundary (API, UI, HTTP, evaluation)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Route = Literal["knowledge", "whatif", "out_of_scope"]


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["citations"] = [asdict(c) for c in self.citations]
        return data
