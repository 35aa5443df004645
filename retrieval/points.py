"""Which bullet of an answer says what the question asks: the points of an entry, reordered.

An entry answers one intent with a verdict and several points, and an answer shows the verdict
and the first few points (``max_points`` in ``assistant/rules/answering.yaml``). A question often
asks for one particular point ("花呗积分翻倍了没到账" is the points entry's double-points bullet,
its sixth), which a fixed cut never showed. So the point that shares the most *specific* words
with the question, by inverse entry frequency, is moved to the front when it says more of the
question than the verdict does; the others keep their written order.

Words are jieba tokens (``retrieval.lexical``); product names and words in most entries weigh
nothing, so "花呗" or "额度" alone never reorders. A point's score is the product of its words'
(entries + 1) / (entries using the word + 1): the exponent of a sum of inverse-frequency logs,
ordered the same way, but a rational number, so every comparison is exact on every machine.

>>> from retrieval.lexical import word_counts
>>> counts = word_counts({"a": ["积分"], "b": ["翻倍"], **{f"e{i}": ["花呗"] for i in range(20)}})
>>> ranker = PointRanker(counts)
>>> ranker.order("积分翻倍了吗", "花呗积分怎么用", ["积分可以兑换权益", "积分翻倍要满足活动条件"])
(1, 0)
>>> ranker.order("花呗", "花呗积分怎么用", ["积分可以兑换权益", "积分翻倍要满足活动条件"])
(0, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

from retrieval.lexical import Tokenized, WordCounts, stem, tokens_of, tokens_of_normal
from retrieval.text import normalize

# A point is moved to the front only for words at least this specific: found in at most
# 1 / MIN_RARITY of the entries (with ~300 entries: in 30 or fewer).
MIN_RARITY = 10


class PointRanker:
    """Orders an entry's points by the specific question words each one contains."""

    def __init__(self, counts: WordCounts) -> None:
        """``counts``: how many entries use each word (``retrieval.lexical.word_counts``)."""
        self.n = max(1, counts.entries)
        self.df = counts.df

    def weight(self, word: str) -> Fraction:
        """(entries + 1) / (entries using ``word`` + 1); 1, nothing, for a word in more than
        1 / MIN_RARITY of the entries."""
        df = self.df.get(word, 0)
        if df * MIN_RARITY > self.n:
            return Fraction(1)
        return Fraction(self.n + 1, df + 1)

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

    def _score(self, asked: set[str], text: str) -> Fraction:
        score = Fraction(1)
        for word in asked & _words(text):
            score *= self.weight(word)
        return score


@lru_cache(maxsize=16384)
def _words(text: str) -> frozenset[str]:
    """A point's stemmed tokens (points are few and fixed: cached)."""
    return frozenset(stem(t) for t in tokens_of_normal(normalize(text).lower()))
