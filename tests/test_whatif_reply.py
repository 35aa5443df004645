"""The what-if chat answer: ranges, reasons, one suggestion, assumptions, always the notice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.whatif import NOTICE, Profile, WhatIfReply, estimate_limit, what_if, whatif_reply
from assistant.whatif.slots import looks_like_whatif

EVAL_ROWS = Path(__file__).resolve().parents[1] / "knowledge" / "eval" / "faq.jsonl"


def test_notice_text_is_exact() -> None:
    assert NOTICE["zh"] == "这是教育性质的估算，不是蚂蚁集团的真实模型，也不代表你的真实额度。"
    assert NOTICE["en"] == (
        "This is an educational estimate, not Ant Group's model, and not your real limit."
    )


def test_estimate_question_zh() -> None:
    r = whatif_reply("我芝麻分680,按时还款12个月,借呗额度大概多少?", "zh")
    assert isinstance(r, WhatIfReply) and not r.needs_input
    est = estimate_limit(Profile(sesame_score=680, on_time_months=12))
    assert r.estimate_before == est and r.estimate_after is None
    assert f"¥{est.low:,}–¥{est.high:,}" in r.text
    assert "良好档" in r.text
    assert "和常见情况相比" in r.text and "建议：" in r.text
    assert "你没提到的" in r.text and "近12个月逾期次数 0次" in r.text
    assert r.text.rstrip().endswith(NOTICE["zh"])
    assert "sesame_score" not in r.assumed and "overdue_12m" in r.assumed


def test_change_question_gives_before_and_after() -> None:
    r = whatif_reply("如果逾期两次额度会降吗?", "zh")
    w = what_if(Profile(), overdue_12m=2)
    assert r.estimate_before == w.before and r.estimate_after == w.after
    assert f"¥{w.before.low:,}–¥{w.before.high:,}" in r.text
    assert f"¥{w.after.low:,}–¥{w.after.high:,}" in r.text
    assert "下降" in r.text and NOTICE["zh"] in r.text
    assert "overdue_12m" not in r.assumed  # it was given as the change


def test_english_question_halving_utilization() -> None:
    r = whatif_reply("My Huabei utilization is 80%, if I pay off half will my Jiebei limit go up?",
                     "en")
    assert not r.needs_input
    assert r.estimate_before is not None and r.estimate_after is not None
    assert r.estimate_after.high >= r.estimate_before.high
    assert "Suggestion:" in r.text and "Assumed" in r.text
    assert NOTICE["en"] in r.text and "教育" not in r.text


def test_top_band_suggestion_keeps_habits() -> None:
    r = whatif_reply("sesame 800, no late payments, on time for 5 years, account 6 years, "
                     "utilization 5%, no applications, income 30000, how much can I borrow?", "en")
    assert "top band" in r.text and "what lowers the estimate" not in r.text
    assert "what raises the estimate:\n- Sesame score 800" in r.text


@pytest.mark.parametrize(
    ("text", "lang", "asks_for"),
    [("芝麻分6**,借呗额度大概多少", "zh", "芝麻分"),
     ("我的借呗额度大概多少", "zh", "芝麻分"),
     ("芝麻分1000借呗额度多少", "zh", "350–950"),
     ("sesame score 6**, how much can I borrow?", "en", "Sesame score"),
     ("", "en", "Sesame score"),
     ("🙂🙂🙂", "zh", "芝麻分")],
)
def test_unparseable_asks_for_the_number(text: str, lang: str, asks_for: str) -> None:
    r = whatif_reply(text, lang)
    assert r.needs_input and r.estimate_before is None
    assert asks_for in r.text
    assert NOTICE[lang] in r.text


def test_unknown_lang_falls_back_by_script() -> None:
    assert NOTICE["zh"] in whatif_reply("芝麻分700借呗能借多少", "fr").text
    assert NOTICE["en"] in whatif_reply("sesame 700, how much can I borrow?", "").text


@settings(max_examples=150, deadline=None)
@given(st.text(), st.sampled_from(["zh", "en"]))
def test_never_crashes_and_always_has_the_notice(text: str, lang: str) -> None:
    r = whatif_reply(text, lang)
    assert NOTICE[lang] in r.text


def _rows() -> list[dict[str, object]]:
    """The evaluation rows about what-if routing: personal what-ifs and their look-alikes."""
    rows = [
        json.loads(line)
        for line in EVAL_ROWS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    # Follow-ups ("那如果到了720呢") need the conversation: the assistant resolves them
    # (tests/test_whatif_followup.py), the classifier alone cannot.
    return [
        r
        for r in rows
        if {"whatif", "whatif-negative"} & set(r.get("tags", [])) and not r.get("history")
    ]


def test_eval_rows_are_well_formed() -> None:
    rows = _rows()
    assert len(rows) >= 30
    for row in rows:
        assert row["expect_route"] in ("whatif", "knowledge")
        assert row["lang"] in ("zh", "en")
        assert row["expect_abstain"] is False and row["expect_scam"] is False
    assert sum(r["expect_route"] == "knowledge" for r in rows) >= 8


@pytest.mark.parametrize("row", _rows(), ids=lambda r: str(r["question"])[:40])
def test_eval_rows_route_and_reply(row: dict[str, object]) -> None:
    question, lang = str(row["question"]), str(row["lang"])
    assert looks_like_whatif(question) is (row["expect_route"] == "whatif")
    if row["expect_route"] == "whatif":
        text = whatif_reply(question, lang).text
        for phrase in row["must_include"]:  # type: ignore[attr-defined]
            assert phrase in text



def test_the_lowers_and_raises_lists_hold_only_factors_that_move_the_estimate_that_way() -> None:
    up = whatif_reply("芝麻分从650涨到720，额度会怎样？", "zh").text
    assert "拉高估算的因素：\n- 芝麻分720" in up and "拉低估算的因素" not in up
    assert "按时还款记录" not in up.split("建议")[0]  # a default value moves nothing
    down = whatif_reply("如果我逾期两次，额度会怎样", "zh").text
    assert "拉低估算的因素：\n- 近12个月逾期2次" in down and "拉高估算的因素" not in down
    both = whatif_reply("芝麻分760，近12个月逾期2次，借呗额度大概多少？", "zh").text
    lowers = both.split("拉低估算的因素：")[1].split("拉高")[0]
    raises = both.split("拉高估算的因素：")[1].split("建议")[0]
    assert "逾期" in lowers and "芝麻分" not in lowers
    assert "芝麻分760" in raises and "逾期" not in raises


def test_a_score_change_without_a_product_says_it_is_for_jiebei() -> None:
    assert "借呗额度现在估算" in whatif_reply("芝麻分从650涨到720，额度会怎样？", "zh").text
    en = whatif_reply("If my sesame score goes from 650 to 720, what happens?", "en").text
    assert "estimated Jiebei limit" in en


def test_a_number_too_big_for_a_float_is_out_of_range_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 400-digit income reads as float infinity; it is refused like any too-big number (the
    fuzz benchmark found it logging "slot parsing failed" instead)."""
    question = "月收入" + "9" * 400 + "元，芝麻分700，借呗额度大概多少"
    with caplog.at_level("ERROR"):
        reply = whatif_reply(question, "zh")
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert reply.needs_input
    assert "月收入应为不小于 0 的整数，你给的 一个极大的数 不在范围内" in reply.text
    english = whatif_reply("My monthly income is " + "9" * 400 + " and my Sesame score 700", "en")
    assert "a huge number is outside that" in english.text
