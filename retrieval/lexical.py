"""Lexical signals: jieba + BM25 over whole entries, and exact matching of listed questions.

Both are cheap (well under a millisecond a query) and are switched on by the search
configuration only where the evaluation shows they help (see docs/benchmarks.md).

>>> tokenize("闲鱼买东西会开通借呗吗")
['闲鱼', '买', '东西', '开通', '借呗']
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from knowledge.entry import Entry
from knowledge.lexicon import LEXICON_PATH, load_lexicon
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


_JIEBA_LOCK = threading.Lock()
_JIEBA: Any = None


def _jieba() -> Any:
    """jieba with our domain words, set up exactly once even when threads race for it.

    Once matters: every ``add_word`` also raises jieba's total frequency, so a second round of
    additions (two threads initialising at once) would change how everything is segmented.
    """
    global _JIEBA
    if _JIEBA is None:
        with _JIEBA_LOCK:
            if _JIEBA is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                for word in load_lexicon().all_zh_words():
                    jieba.add_word(word, freq=200000)
                _JIEBA = jieba
    return _JIEBA


class Tokenized(Protocol):
    """A query already normalised and tokenised (``retrieval.prepared.Prepared``)."""

    @property
    def tokens(self) -> tuple[str, ...]: ...

    @property
    def key(self) -> str: ...


def tokenize(text: str) -> list[str]:
    """Lower-cased jieba tokens without punctuation and stopwords (text is normalised first)."""
    return list(tokens_of_normal(normalize(text).lower()))


@lru_cache(maxsize=8192)
def tokens_of_normal(lower: str) -> tuple[str, ...]:
    """:func:`tokenize` of a text already normalised and lower-cased."""
    words = _jieba().lcut(lower)
    return tuple(w for w in words if _WORD.fullmatch(w) and w not in STOPWORDS)


def tokens_of(query: str | Tokenized) -> Sequence[str]:
    return tokenize(query) if isinstance(query, str) else query.tokens


def warm_up() -> None:
    """Load jieba's dictionary and ours now (~1 s) instead of on the first question."""
    tokenize("借呗 warm up")


def question_key(text: str) -> str:
    """The form in which listed questions are compared exactly: normalised, no punctuation."""
    return key_of_normal(normalize(text).lower())


def key_of_normal(lower: str) -> str:
    """:func:`question_key` of a text already normalised and lower-cased."""
    return _PUNCT.sub("", lower)


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


TOKENS_VERSION = "2"  # bump when tokenize() or entry_texts() change: invalidates cached tokens


def entry_texts(e: Entry) -> tuple[str, str]:
    """Everything lexical signals see of an entry, per language (each is normalised as its own
    language, so English text keeps "Jiebei" while Chinese text gets "借呗")."""
    zh = "\n".join([e.title_zh, *e.questions_zh, e.zh.text()])
    en = "\n".join([e.title_en, *e.questions_en, e.en.text()])
    return zh, en


def tokenize_entries(
    entries: Sequence[Entry], cache_dir: Path | None = None
) -> dict[str, list[str]]:
    """entry id -> tokens. Cached in ``cache_dir`` by content (entries, lexicon, tokenizer), so a
    start-up with an unchanged knowledge base skips tokenising it (about a second)."""
    digest = hashlib.sha256(f"{TOKENS_VERSION}|{LEXICON_PATH.read_bytes().hex()}".encode())
    for e in sorted(entries, key=lambda e: e.id):
        digest.update(f"{e.id}:{e.content_hash}".encode())
    cache = cache_dir / f"tokens-{digest.hexdigest()[:16]}.json" if cache_dir else None
    if cache is not None and cache.is_file():
        try:
            cached: dict[str, list[str]] = json.loads(cache.read_text(encoding="utf-8"))
            return cached
        except (OSError, ValueError):
            pass  # unreadable: rebuild it below
    tokens = {e.id: [t for text in entry_texts(e) for t in tokenize(text)] for e in entries}
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        for old in cache.parent.glob("tokens-*.json"):
            old.unlink(missing_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, cache)
    return tokens


@dataclass(frozen=True)
class WordCounts:
    """How many of the ``entries`` use each stemmed word: counted once, read by the vocabulary
    and by the point order (``retrieval.points``)."""

    entries: int
    df: Mapping[str, int]


def word_counts(tokens: Mapping[str, Sequence[str]]) -> WordCounts:
    """:class:`WordCounts` of entry id -> tokens (:func:`tokenize_entries`)."""
    df: Counter[str] = Counter()
    for words in tokens.values():
        df.update({stem(t) for t in set(words)})
    return WordCounts(len(tokens), df)


class Vocabulary:
    """Every word the knowledge base uses; a query word outside it is a topic we do not cover.

    >>> Vocabulary(word_counts({"an-entry": ["借呗", "额度"]})).unknown("借呗额度和电费")
    ['电费']
    """

    def __init__(self, counts: WordCounts) -> None:
        self._words = counts.df.keys()

    def unknown(self, query: str | Tokenized) -> list[str]:
        return [
            t
            for t in tokens_of(query)
            if stem(t) not in self._words and not t.isdigit() and len(t) > 1
        ]


class QuestionIndex:
    """Exact matches of a query against the questions and titles listed in the entries."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._map: dict[str, str] = {}
        for e in entries:
            for q in (e.title_zh, e.title_en, *e.questions_zh, *e.questions_en):
                self._map.setdefault(question_key(q), e.id)

    def lookup(self, query: str | Tokenized) -> str | None:
        key = question_key(query) if isinstance(query, str) else query.key
        return self._map.get(key) if key else None


class BM25Index:
    """BM25 (bm25s) over one document per entry: titles, questions and answers, both languages."""

    def __init__(self, tokens: Mapping[str, Sequence[str]]) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each build at DEBUG
        self.ids = list(tokens)
        self._bm25 = bm25s.BM25()
        self._bm25.index([list(tokens[i]) for i in self.ids], show_progress=False)

    def scores(self, query: str | Tokenized) -> dict[str, float]:
        """entry id -> BM25 score scaled to [0, 1] by the best score (empty if nothing matches)."""
        tokens = list(tokens_of(query))
        if not tokens or not self.ids:
            return {}
        raw = self._bm25.get_scores(tokens)
        top = float(raw.max()) if len(raw) else 0.0
        if top <= 0:
            return {}
        return {i: float(s) / top for i, s in zip(self.ids, raw, strict=True) if s > 0}
