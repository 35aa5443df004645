"""Which bullet of an answer says what the question asks: the points of an entry, reordered.

An entry answers one intent with a verdict and several points, and an answer shows the verdict
and the first few points (``max_points`` in ``assistant/rules/answering.yaml``). A question often
asks for one particular point ("花呗积分翻倍了没到账" is the points entry's double-points bullet,
its sixth), which a fixed cut never showed. So the point that shares the most *specific* words
with the question, by inverse entry frequency, is moved to the front when it says more of the
question than the verdict does; the others keep their written order.

Words are jieba tokens (``retrieval.lexical``); product names and words in most entries weigh
almost nothing, so "花呗" or "额度" alone never reorders. Integer arithmetic on counts and an
exactly rounded log make the order the same on every machine.

>>> ranker = PointRanker({"a": ["积分"], "b": ["翻倍"], **{f"e{i}": ["花呗"] for i in range(20)}})
>>> ranker.order("积分翻倍了吗", "花呗积分怎么用", ["积分可以兑换权益", "积分翻倍要满足活动条件"])
(1, 0)
>>> ranker.order("花呗", "花呗积分怎么用", ["积分可以兑换权益", "积分翻倍要满足活动条件"])
(0, 1)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache

from retrieval.lexical import Tokenized, stem, tokens_of, tokens_of_normal
from retrieval.text import normalize

# A point is moved to the front only for words at least this specific: found in at most
# 1 / MIN_RARITY of the entries (with ~300 entries: in 30 or fewer).
MIN_RARITY = 10


class PointRanker:
    """Orders an entry's points by the specific question words each one contains."""

    def __init__(self, tokens: Mapping[str, Sequence[str]]) -> None:
        """``tokens``: entry id -> its tokens (``retrieval.lexical.tokenize_entries``)."""
        self.n = max(1, len(tokens))
        self.df: Counter[str] = Counter()
        for words in tokens.values():
            self.df.update({stem(t) for t in words})

    def weight(self, word: str) -> float:
        """Inverse entry frequency; 0 for words in more than 1 / MIN_RARITY of the entries."""
        df = self.df.get(word, 0)
        if df * MIN_RARITY > self.n:
            return 0.0
        return math.log((self.n + 1) / (df + 1))

    def order(self, query: str | Tokenized, verdict: str, points: Sequence[str]
              ) -> tuple[int, ...]:
        """Indices of ``points`` in the order to show them (the written order unless one point
        holds more of the question's specific words than the verdict and the first point)."""
        asked = {stem(t) for t in tokens_of(query)}
        written = tuple(range(len(points)))
        if not asked or len(points) < 2:
            return written
        scores = [self._score(asked, p) for p in points]
        best = max(written, key=lambda i: (scores[i], -i))
        if best == 0 or scores[best] <= max(self._score(asked, verdict), scores[0]):
            return written
        return (best, *(i for i in written if i != best))

    def _score(self, asked: set[str], text: str) -> float:
        return math.fsum(self.weight(w) for w in sorted(asked & _words(text)))


@lru_cache(maxsize=16384)
def _words(text: str) -> frozenset[str]:
    """A point's stemmed tokens (points are few and fixed: cached)."""
    return frozenset(stem(t) for t in tokens_of_normal(normalize(text).lower()))
