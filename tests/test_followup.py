"""assistant.followup: short follow-ups are rebuilt from the previous user question."""

from __future__ import annotations

import pytest

from assistant.followup import is_followup, resolve_followup

ZH = [{"role": "user", "content": "借呗逾期有什么后果"}, {"role": "assistant", "content": "…"}]
EN = [{"role": "user", "content": "What happens if my Jiebei is overdue?"}]


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("那花呗呢?", ZH, "花呗逾期有什么后果"),
        ("花呗呢？", ZH, "花呗逾期有什么后果"),
        ("那怎么还款", ZH, "借呗 那怎么还款"),
        ("and Huabei?", EN, "What happens if my Huabei is overdue?"),
        ("what about Huabei", EN, "What happens if my Huabei is overdue?"),
        ("how do I repay it?", EN, "Jiebei how do I repay it?"),
        ("and Huabei?", ZH, "花呗逾期有什么后果"),
    ],
)
def test_followups_use_the_history(
    question: str, history: list[dict[str, str]], expected: str
) -> None:
    assert resolve_followup(question, history) == expected


@pytest.mark.parametrize(
    "question", ["花呗怎么提额", "How do I raise my Huabei limit?", "借呗利息高吗"]
)
def test_standalone_questions_are_untouched(question: str) -> None:
    assert not is_followup(question)
    assert resolve_followup(question, ZH) == question


def test_no_history_means_no_rewrite() -> None:
    assert resolve_followup("那花呗呢?", None) == "那花呗呢?"
    assert resolve_followup("那花呗呢?", [{"role": "assistant", "content": "hi"}]) == "那花呗呢?"
