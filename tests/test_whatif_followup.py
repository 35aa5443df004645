"""assistant.whatif.followup: a short follow-up continues the conversation's last what-if."""

from __future__ import annotations

import pytest

from assistant.router import Router
from assistant.whatif import parse_slots
from assistant.whatif.followup import resolve_whatif_followup

ROUTER = Router.load()


def _is_whatif(text: str) -> bool:
    return ROUTER.route(text) == "whatif"


def _history(*questions: str) -> list[dict[str, str]]:
    out = []
    for q in questions:
        out += [{"role": "user", "content": q}, {"role": "assistant", "content": "……"}]
    return out


ZH_BASE = "芝麻分680，借呗额度大概多少"
EN_BASE = "my sesame score is 680, roughly what jiebei limit could I get?"
LONG = "那芝麻分涨到750以后，花呗和借呗哪个更划算，能不能详细讲讲各自的利息和还款方式呢"


@pytest.mark.parametrize(
    ("question", "history", "changes"),
    [
        ("要是涨到750呢", _history(ZH_BASE), {"sesame_score": 750}),
        ("那800呢", _history(ZH_BASE, "要是涨到750呢"), {"sesame_score": 800}),  # a chain
        ("那要是逾期两次呢", _history(ZH_BASE), {"overdue_12m": 2}),
        ("what about 750?", _history(EN_BASE), {"sesame_score": 750}),
        ("and if my score drops to 600?", _history(EN_BASE), {"sesame_score": 600}),
    ],
)
def test_follow_ups_carry_the_earlier_question(
    question: str, history: list[dict[str, str]], changes: dict[str, int]
) -> None:
    merged = resolve_whatif_followup(question, history, _is_whatif)
    assert merged is not None
    slots = parse_slots(merged)
    assert slots.values.get("sesame_score") == 680
    for name, value in changes.items():
        assert slots.changes[name] == value


@pytest.mark.parametrize(
    ("question", "history"),
    [
        ("那花呗呢", _history(ZH_BASE)),  # no number, no change: a knowledge follow-up
        ("要是涨到750呢", _history("借呗逾期有什么后果")),  # the earlier question was no what-if
        ("要是涨到750呢", None),
        # which field would 800 be? not guessed
        ("那800呢", _history("芝麻分680，月收入8000，借呗额度大概多少")),
        # too long to be a follow-up
        (LONG, _history(ZH_BASE)),
    ],
)
def test_other_messages_are_left_alone(
    question: str, history: list[dict[str, str]] | None
) -> None:
    assert resolve_whatif_followup(question, history, _is_whatif) is None


def test_the_assistant_answers_a_follow_up_with_an_estimate(bot) -> None:  # type: ignore[no-untyped-def]
    answer = bot.ask("要是涨到750呢", _history(ZH_BASE))
    assert answer.route == "whatif"
    assert "教育性质的估算" in answer.text
    plain = bot.ask("那花呗呢", _history("借呗逾期有什么后果"))
    assert plain.route == "knowledge"
