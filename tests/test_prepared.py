"""retrieval.prepared: one text, each view computed once and shared by every step."""

from __future__ import annotations

import pytest

import retrieval.prepared as prepared_module
from retrieval.lexical import question_key, tokenize
from retrieval.prepared import Prepared, prepare
from retrieval.text import normalize


def test_views_match_the_functions_they_stand_for() -> None:
    text = "在閒魚買東西會開通借被嗎？"
    p = Prepared(text)
    assert p.norm == normalize(text)
    assert p.lower == normalize(text).lower()
    assert list(p.tokens) == tokenize(text)
    assert p.key == question_key(text)
    assert p.lang == "zh" and Prepared("How do I repay Huabei early?").lang == "en"
    assert str(p) == text


def test_each_view_is_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(text: str) -> str:
        calls.append(text)
        return normalize(text)

    monkeypatch.setattr(prepared_module, "normalize", counting)
    p = Prepared("借呗能提前还吗")
    for _ in range(3):
        assert p.norm and p.lower and p.tokens and p.key
    assert calls == ["借呗能提前还吗"]
    seen: list[Prepared] = []
    for _ in range(3):
        assert p.view("twice", lambda q: seen.append(q) or len(seen)) == 1
    assert seen == [p]


def test_prepare_keeps_a_prepared_text_and_wraps_a_string() -> None:
    p = Prepared("花呗")
    assert prepare(p) is p
    assert isinstance(prepare("花呗"), Prepared) and prepare("花呗") is not p
    with pytest.raises(TypeError, match="string"):
        Prepared(None)  # type: ignore[arg-type]
