"""assistant.followup: short follow-ups are rebuilt from the previous user question."""

from __future__ import annotations

import pytest

from assistant.followup import is_followup, recent_story, resolve_followup

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
        ("那花呗逾期呢", ZH, "花呗逾期有什么后果"),
        ("what about for Huabei then?", EN, "What happens if my Huabei is overdue?"),
        # longer follow-ups that name no product keep their words and gain the products
        ("那如果只晚了一天呢 也会被记上去吗", ZH, "借呗 那如果只晚了一天呢 也会被记上去吗"),
        ("嗯，那只还一部分的话每个月要还的钱会变吗", ZH,
         "借呗 嗯,那只还一部分的话每个月要还的钱会变吗"),
        ("ok and if I never pay it back at all, does the bank find out?", EN,
         "Jiebei ok and if I never pay it back at all, does the bank find out?"),
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


@pytest.mark.parametrize(
    ("question", "history"),
    [
        # they name a product and ask something of their own: not "what about <product>?"
        ("那个花呗分期手续费怎么算", ZH),
        ("and what about Huabei's interest rate?", EN),
        # too long to be read as leaning on the previous question
        ("那我想问一下如果一个人同时有好几个平台的贷款而且每个月都只还最低还款额的话以后还能不能申请房贷呢",
         ZH),
    ],
)
def test_followups_that_say_more_are_kept_whole(
    question: str, history: list[dict[str, str]]
) -> None:
    assert resolve_followup(question, history) == question


def test_no_history_means_no_rewrite() -> None:
    assert resolve_followup("那花呗呢?", None) == "那花呗呢?"
    assert resolve_followup("那花呗呢?", [{"role": "assistant", "content": "hi"}]) == "那花呗呢?"


def test_recent_story_joins_the_last_user_messages() -> None:
    history = [
        {"role": "user", "content": "第一句"},
        {"role": "assistant", "content": "…"},
        {"role": "user", "content": "第二句"},
        {"role": "assistant", "content": "…"},
        {"role": "user", "content": "第三句"},
    ]
    assert recent_story("现在呢", history) == "第二句。第三句。现在呢"
    assert recent_story("and now?", [{"role": "user", "content": "A buyer called"}]) == (
        "A buyer called. and now?"
    )
    assert recent_story("现在呢", None) is None
    assert recent_story("现在呢", [{"role": "assistant", "content": "hi"}]) is None


SCAM_STORY = [
    {"role": "user", "content": "有人给我打电话说是支付宝客服，说我的花呗要关闭"},
    {"role": "assistant", "content": "⚠️ 警惕诈骗……"},
]


def test_a_new_ordinary_question_does_not_continue_a_scam_story() -> None:
    assert recent_story("借呗能提前还吗", SCAM_STORY) is None
    assert recent_story("How do I repay Jiebei early?", SCAM_STORY) is None
    assert recent_story("现在要我把验证码报给他，要给吗", SCAM_STORY) is not None
    assert recent_story("he wants my code now", SCAM_STORY) is not None


def test_the_bot_drops_the_warning_once_the_story_is_over(bot) -> None:  # type: ignore[no-untyped-def]
    told = bot.ask("现在要我把验证码报给他，要给吗", history=SCAM_STORY)
    assert told.scam_warning is not None
    after = bot.ask("借呗能提前还吗", history=SCAM_STORY)
    assert after.scam_warning is None and not after.abstained
