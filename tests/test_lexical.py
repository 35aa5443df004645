"""retrieval.lexical: jieba tokens with the domain dictionary, BM25, unknown words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.loader import load_knowledge
from retrieval.lexical import (
    BM25Index,
    QuestionIndex,
    Vocabulary,
    stem,
    tokenize,
    tokenize_entries,
    word_counts,
)


@pytest.fixture(scope="module")
def entries():  # type: ignore[no-untyped-def]
    return load_knowledge().entries


def test_domain_words_stay_whole() -> None:
    assert tokenize("网商贷和借呗哪个好") == ["网商贷", "借呗", "哪个", "好"]
    assert "芝麻分" in tokenize("芝麻分怎么涨")
    assert tokenize("在閒魚買東西") == ["闲鱼", "买", "东西"]


def test_bm25_prefers_the_matching_entry(entries) -> None:  # type: ignore[no-untyped-def]
    scores = BM25Index(tokenize_entries(entries)).scores("网商贷和借呗有什么区别")
    assert max(scores, key=scores.__getitem__) == "jiebei-vs-wangshangdai"
    assert max(scores.values()) == 1.0
    assert BM25Index(tokenize_entries(entries)).scores("的 了 吗") == {}


def test_unknown_words(entries) -> None:  # type: ignore[no-untyped-def]
    vocab = Vocabulary(word_counts(tokenize_entries(entries)))
    assert vocab.unknown("支付宝怎么交停车费") == ["停车费"]
    assert vocab.unknown("花呗分期手续费") == []
    assert vocab.unknown("芝麻分680") == []


def test_exact_question_lookup_ignores_punctuation(entries) -> None:  # type: ignore[no-untyped-def]
    index = QuestionIndex(entries)
    assert index.lookup("在闲鱼买东西会开通借呗吗") == "xianyu-buying-does-not-open-jiebei"
    assert index.lookup("在闲鱼买东西会开通借呗吗？！") == "xianyu-buying-does-not-open-jiebei"
    assert index.lookup("完全无关") is None


@pytest.mark.parametrize(
    ("word", "root"),
    [
        ("repayments", "repayment"),
        ("limits", "limit"),
        ("charged", "charg"),
        ("借呗", "借呗"),
        ("fees", "fees"),
    ],
)
def test_stem(word: str, root: str) -> None:
    assert stem(word) == root


def test_entry_tokens_are_cached_by_content(entries, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    first = tokenize_entries(entries[:3], tmp_path)
    (cache,) = tmp_path.glob("tokens-*.json")
    assert tokenize_entries(entries[:3], tmp_path) == first == tokenize_entries(entries[:3])
    changed = [replace(entries[0], title_en="Completely different words"), *entries[1:3]]
    assert tokenize_entries(changed, tmp_path)[entries[0].id] != first[entries[0].id]
    assert not cache.exists() and len(list(tmp_path.glob("tokens-*.json"))) == 1


def _jieba_total(threads: int) -> int:
    code = (
        "import threading, jieba\n"
        "from retrieval.lexical import _jieba\n"
        f"ts = [threading.Thread(target=_jieba) for _ in range({threads})]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "print(jieba.dt.total)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    return int(out.stdout.strip())


def test_domain_words_are_added_once_even_when_threads_race() -> None:
    # each add_word raises jieba's total frequency: adding twice would change segmentation
    assert _jieba_total(8) == _jieba_total(1)
