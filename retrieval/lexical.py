"""Lexical signals: jieba + BM25 over whole entries, and exact matching of listed questions.

Both are cheap (well under a millisecond a query) and are switched on by the search
configuration only where the evaluation shows they help (see docs/benchmarks.md).

>>> tokenize("闲鱼买东西会开通借呗吗")
['闲鱼', '买', '东西', '会', '开通', '借呗']
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from knowledge.entry import Entry
from knowledge.lexicon import load_lexicon
from retrieval.text import normalize

_WORD = re.compile(r"[\w\u4e00-\u9fff]+")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "是",
        "我",
        "你",
        "他",
        "她",
        "在",
        "有",
        "和",
        "就",
        "都",
        "也",
        "还",
        "会",
        "要",
        "能",
        "可以",
        "怎么",
        "什么",
        "为什么",
        "如何",
        "这个",
        "那个",
        "这",
        "那",
        "么",
        "嘛",
        "请问",
        "一下",
        "是不是",
        "the",
        "a",
        "an",
        "is",
        "are",
        "do",
        "does",
        "did",
        "to",
        "of",
        "in",
        "on",
        "for",
        "my",
        "i",
        "me",
        "it",
        "be",
        "can",
        "will",
        "what",
        "how",
        "why",
        "and",
        "or",
        "if",
        "with",
        "at",
        "by",
    ]
)


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for word in load_lexicon().all_zh_words():
        jieba.add_word(word, freq=200000)
    return jieba


def tokenize(text: str) -> list[str]:
    """Lower-cased jieba tokens without punctuation and stopwords (text is normalised first)."""
    words = _jieba().lcut(normalize(text).lower())
    return [w for w in words if _WORD.fullmatch(w) and w not in STOPWORDS]


def question_key(text: str) -> str:
    """The form in which listed questions are compared exactly: normalised, no punctuation."""
    return _PUNCT.sub("", normalize(text).lower())


_SUFFIXES = ("ies", "ing", "ed", "es", "ly", "s")


def stem(token: str) -> str:
    """A deliberately crude English stemmer: enough to match plural and tense variants.

    >>> stem("repayments"), stem("frozen"), stem("charged")
    ('repayment', 'frozen', 'charg')
    """
    if not token.isascii() or len(token) <= 4:
        return token
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return token


class Vocabulary:
    """Every word the knowledge base uses; a query word outside it is a topic we do not cover.

    >>> Vocabulary(entries).unknown("支付宝怎么交电费")
    ['电费']
    """

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._words = {
            stem(t) for e in entries for text in BM25Index.texts(e) for t in tokenize(text)
        }

    def unknown(self, query: str) -> list[str]:
        return [
            t
            for t in tokenize(query)
            if stem(t) not in self._words and not t.isdigit() and len(t) > 1
        ]


class QuestionIndex:
    """Exact matches of a query against the questions and titles listed in the entries."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._map: dict[str, str] = {}
        for e in entries:
            for q in (e.title_zh, e.title_en, *e.questions_zh, *e.questions_en):
                self._map.setdefault(question_key(q), e.id)

    def lookup(self, query: str) -> str | None:
        key = question_key(query)
        return self._map.get(key) if key else None


class BM25Index:
    """BM25 (bm25s) over one document per entry: titles, questions and answers, both languages."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        import bm25s

        self.ids = [e.id for e in entries]
        corpus = [tokenize(" ".join(self.texts(e))) for e in entries]
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)

    @staticmethod
    def texts(e: Entry) -> list[str]:
        return [
            e.title_zh,
            e.title_en,
            *e.questions_zh,
            *e.questions_en,
            e.zh.text(),
            e.en.text(),
        ]

    def scores(self, query: str) -> dict[str, float]:
        """entry id -> BM25 score scaled to [0, 1] by the best score (empty if nothing matches)."""
        tokens = tokenize(query)
        if not tokens or not self.ids:
            return {}
        raw = self._bm25.get_scores(tokens)
        top = float(raw.max()) if len(raw) else 0.0
        if top <= 0:
            return {}
        return {i: float(s) / top for i, s in zip(self.ids, raw, strict=True) if s > 0}
