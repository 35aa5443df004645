"""Routing, decided in code: personal what-if questions go to the rules scorer, questions about
other subjects or products are out of scope, the rest go to the knowledge base.

>>> Router.load().route("芝麻分从650涨到720,借呗额度会怎样?")
'whatif'
>>> Router.load().route("今天北京天气怎么样")
'out_of_scope'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.answer import Route
from retrieval.text import normalize

_DIGITS = re.compile(r"\d{2,}")
SCOPE_RULES_PATH = Path(__file__).resolve().parent / "rules" / "scope.yaml"


def _compile(path: Path, data: dict[str, list[str]], key: str) -> tuple[re.Pattern[str], ...]:
    try:
        return tuple(re.compile(p, re.I) for p in data.get(key, []))
    except re.error as exc:
        raise ValueError(f"{path}: bad pattern under '{key}': {exc}") from exc


@dataclass(frozen=True)
class Router:
    products: tuple[re.Pattern[str], ...]
    topics: tuple[re.Pattern[str], ...]
    out_of_scope: tuple[re.Pattern[str], ...]
    account_lookup: tuple[re.Pattern[str], ...]

    @classmethod
    @lru_cache(maxsize=2)
    def load(cls, path: Path = SCOPE_RULES_PATH) -> Router:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(
            _compile(path, data, "products"),
            _compile(path, data, "topics"),
            _compile(path, data, "out_of_scope"),
            _compile(path, data, "account_lookup"),
        )

    def names_product(self, text: str) -> bool:
        return any(p.search(text) for p in self.products)

    def in_domain(self, question: str) -> bool:
        """True when the question names one of our products or a consumer-credit topic."""
        text = normalize(question)
        return self.names_product(text) or any(p.search(text) for p in self.topics)

    def route(self, question: str) -> Route:
        from assistant.whatif import looks_like_whatif

        text = normalize(question)
        lookup = any(p.search(text) for p in self.account_lookup) and not _DIGITS.search(text)
        if not lookup and looks_like_whatif(question):
            return "whatif"
        if not self.names_product(text) and any(p.search(text) for p in self.out_of_scope):
            return "out_of_scope"
        return "knowledge"
