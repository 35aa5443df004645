"""The knowledge-base entry: plain, frozen data parsed from one Markdown file."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from knowledge.lang import Lang

REQUIRED_FIELDS: tuple[str, ...] = (
    "id",
    "title_zh",
    "title_en",
    "tags",
    "questions_zh",
    "questions_en",
    "sources",
    "reviewed",
    "products",
)
MIN_QUESTIONS = 5


@dataclass(frozen=True)
class Section:
    """One language's answer: a one-sentence verdict, then short self-contained points."""

    verdict: str
    points: tuple[str, ...]

    def text(self) -> str:
        return "\n".join([self.verdict, *(f"- {p}" for p in self.points)])


@dataclass(frozen=True)
class Entry:
    id: str
    title_zh: str
    title_en: str
    tags: tuple[str, ...]
    questions_zh: tuple[str, ...]
    questions_en: tuple[str, ...]
    sources: tuple[str, ...]
    reviewed: date
    zh: Section
    en: Section
    path: Path | None = field(default=None, compare=False)
    # What the entry is about and what it answers (ids from knowledge/lexicon.yaml); an entry
    # about no product (a scam pattern, a right under the law) has no products.
    products: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()

    def title(self, lang: Lang) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def section(self, lang: Lang) -> Section:
        return self.zh if lang == "zh" else self.en

    @property
    def is_scam(self) -> bool:
        return "scam" in self.tags

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that is indexed or shown changes."""
        payload = {
            "id": self.id,
            "titles": [self.title_zh, self.title_en],
            "tags": list(self.tags),
            "q": [list(self.questions_zh), list(self.questions_en)],
            "sources": list(self.sources),
            "reviewed": self.reviewed.isoformat(),
            "zh": self.zh.text(),
            "en": self.en.text(),
        }
        raw = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(raw).hexdigest()[:16]
