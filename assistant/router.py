"""Routing, decided in code: personal what-if questions go to the rules scorer, questions about
other subjects or products are out of scope, the rest go to the knowledge base.

>>> Router.load().route("芝麻分从650涨到720,借呗额度会怎样?")
'whatif'
>>> Router.load().route("今天北京天气怎么样")
'out_of_scope'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from assistant.answer import Route
from assistant.patterns import load_pattern_groups
from retrieval.prepared import Text, prepare

_DIGITS = re.compile(r"\d{2,}")
SCOPE_RULES_PATH = Path(__file__).resolve().parent / "rules" / "scope.yaml"


@dataclass(frozen=True)
class Router:
    products: tuple[re.Pattern[str], ...]
    platforms: tuple[re.Pattern[str], ...]
    topics: tuple[re.Pattern[str], ...]
    out_of_scope: tuple[re.Pattern[str], ...]
    account_lookup: tuple[re.Pattern[str], ...]

    @classmethod
    @lru_cache(maxsize=2)
    def load(cls, path: Path = SCOPE_RULES_PATH) -> Router:
        return cls(**load_pattern_groups(path, [f.name for f in fields(cls)]))

    def names_product(self, text: str) -> bool:
        return any(p.search(text) for p in self.products)

    def in_domain(self, question: Text) -> bool:
        """True when the question names one of our products, the apps they live in, or a
        consumer-credit topic (an Alipay question we cannot answer is "I don't know", not
        "out of scope")."""
        q = prepare(question)
        return self.credit_question(q) or any(p.search(q.norm) for p in self.platforms)

    def credit_question(self, question: Text) -> bool:
        """True when the question names one of our products or a consumer-credit topic (naming
        only Alipay or Taobao is not enough: the answer needs the stricter evidence)."""
        text = prepare(question).norm
        return self.names_product(text) or any(p.search(text) for p in self.topics)

    def route(self, question: Text) -> Route:
        from assistant.whatif import looks_like_whatif

        q = prepare(question)
        text = q.norm
        lookup = any(p.search(text) for p in self.account_lookup) and not _DIGITS.search(text)
        if not lookup and looks_like_whatif(q):
            return "whatif"
        named = self.names_product(text) or any(p.search(text) for p in self.platforms)
        if not named and any(p.search(text) for p in self.out_of_scope):
            return "out_of_scope"
        return "knowledge"
