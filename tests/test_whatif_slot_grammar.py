"""The slot grammar: numerals, units and phrasings normalised; the rules' shape."""

from __future__ import annotations

import pytest

from assistant.whatif import slots
from assistant.whatif.profile import FIELDS
from assistant.whatif.slot_grammar import MAX_CHARS, RULES, cn_to_int, normalize


@pytest.mark.parametrize(
    ("text", "number"),
    [("两", 2), ("十二", 12), ("二十", 20), ("三百", 300), ("六百八", 680), ("七百二十", 720),
     ("六百零八", 608), ("一千五", 1500), ("一万二", 12000), ("两万", 20000), ("六八零", 680),
     ("十", 10), ("一", 1), ("abc", None), ("", None)],
)
def test_chinese_numerals(text: str, number: int | None) -> None:
    assert cn_to_int(text) == number


@pytest.mark.parametrize(
    ("text", "expected"),
    [("６８０", "680"), ("一年半", "18个月"), ("半年", "6个月"), ("1.2万", "12000"),
     ("8k", "8000"), ("12,000", "12000"), ("逾期两次", "逾期2次"), ("twice", "2 times"),
     ("一下子", "一下子"), ("万一逾期", "如果逾期"), ("百分之三十", "30%")],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_rules_cover_every_profile_field() -> None:
    assert {fld for fld, _, _, _ in RULES} == set(FIELDS)
    for fld, kind, pattern, _ in RULES:
        if kind == "from_to":  # the parser reads the "to" value from group 2
            assert pattern.groups >= 2, (fld, pattern.pattern)


def test_slots_still_exports_the_grammar_helpers() -> None:
    assert (slots.cn_to_int, slots.normalize, slots.MAX_CHARS) == (cn_to_int, normalize, MAX_CHARS)
