"""The slot parser: numbers and changes out of Chinese and English questions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.whatif.profile import FIELDS
from assistant.whatif.slots import Relative, Slots, looks_like_whatif, parse_slots

HALF = Relative("mul", 0.5)

# (question, values, changes, missing_required, is_personal_whatif)
PHRASINGS: list[tuple[str, dict[str, Any], dict[str, Any], tuple[str, ...], bool]] = [
    # -- the issue's examples
    ("我芝麻分680,按时还款12个月,借呗额度大概多少?",
     {"sesame_score": 680, "on_time_months": 12}, {}, (), True),
    ("如果逾期两次额度会降吗?", {}, {"overdue_12m": 2}, (), True),
    ("If I pay off half my Huabei, will my Jiebei limit go up?", {}, {"utilization": HALF}, (),
     True),
    ("芝麻分从650涨到720,借呗额度会怎样?", {"sesame_score": 650}, {"sesame_score": 720}, (), True),
    ("逾期两次", {"overdue_12m": 2}, {}, (), False),
    ("按时还款一年", {"on_time_months": 12}, {}, (), False),
    ("最近半年申请了8次网贷", {"applications_6m": 8}, {}, (), False),
    ("pay off half my Huabei", {}, {"utilization": HALF}, (), True),
    ("utilization 30%", {"utilization": 0.3}, {}, (), False),
    ("用了三成额度", {"utilization": 0.3}, {}, (), True),
    ("花呗用了一半", {"utilization": 0.5}, {}, (), True),
    # -- Chinese numerals, full-width digits, units
    ("按时还款一年半，芝麻分七百二", {"on_time_months": 18, "sesame_score": 720}, {}, (), False),
    ("我的芝麻分是六百八十分，借呗额度能有多少", {"sesame_score": 680}, {}, (), True),
    ("芝麻分６８０，借呗能借多少", {"sesame_score": 680}, {}, (), True),
    ("芝麻分７２０，花呗用了一半，借呗额度大概多少?",
     {"sesame_score": 720, "utilization": 0.5}, {}, (), True),
    ("芝麻分700，逾期过两次，月薪八千，能借多少",
     {"sesame_score": 700, "overdue_12m": 2, "monthly_income": 8000}, {}, (), True),
    ("月收入1.2万，芝麻分700，借呗额度多少",
     {"monthly_income": 12000, "sesame_score": 700}, {}, (), True),
    ("按时还款两年，最近半年申请了三次网贷，芝麻分七百，借呗能借多少",
     {"on_time_months": 24, "applications_6m": 3, "sesame_score": 700}, {}, (), True),
    ("账户开了三年，逾期过一次，借呗额度会是多少",
     {"account_age_months": 36, "overdue_12m": 1}, {}, (), True),
    ("支付宝用了5年，芝麻分720，没有逾期，借呗大概能借多少",
     {"account_age_months": 60, "sesame_score": 720, "overdue_12m": 0}, {}, (), True),
    ("用了三成额度，芝麻分690，借呗额度能有多少？",
     {"utilization": 0.3, "sesame_score": 690}, {}, (), True),
    ("我花呗额度用了80%，芝麻分650，借呗额度大概多少",
     {"utilization": 0.8, "sesame_score": 650}, {}, (), True),
    ("最近3个月查询了10次，借呗额度会受影响吗", {"applications_6m": 10}, {}, (), True),
    ("闲鱼卖了30单，芝麻分650，借呗额度会高一点吗",
     {"xianyu_orders_12m": 30, "sesame_score": 650}, {}, (), True),
    ("芝麻分從650漲到720，借唄額度會怎樣？",
     {"sesame_score": 650}, {"sesame_score": 720}, (), True),
    # -- hypothetical and relative changes
    ("如果我芝麻分提高到750，借呗额度会涨多少", {}, {"sesame_score": 750}, (), True),
    ("芝麻分680，要是再申请5次网贷，额度会降吗",
     {"sesame_score": 680}, {"applications_6m": Relative("add", 5)}, (), True),
    ("如果我再按时还款一年，额度能涨吗", {}, {"on_time_months": Relative("add", 12)}, (), True),
    ("芝麻分680，如果我把花呗全部还清，借呗额度会变吗",
     {"sesame_score": 680}, {"utilization": 0.0}, (), True),
    ("如果逾期了额度会降吗", {}, {"overdue_12m": Relative("add", 1)}, (), True),
    ("逾期两次会影响借呗额度吗", {}, {"overdue_12m": 2}, (), True),
    # -- masked, vague and out-of-range numbers: ask
    ("芝麻分6**,借呗额度大概多少", {}, {}, ("sesame_score",), True),
    ("芝麻分6xx，额度大概多少", {}, {}, ("sesame_score",), True),
    ("我芝麻分600多，借呗能有多少", {}, {}, ("sesame_score",), True),
    ("最近申请了好几次网贷，借呗额度会降吗", {}, {}, ("applications_6m",), True),
    ("芝麻分1000借呗额度多少", {}, {}, ("sesame_score",), True),
    ("我的借呗额度大概多少", {}, {}, ("sesame_score",), True),
    ("sesame score 6**, how much can I borrow?", {}, {}, ("sesame_score",), True),
    # -- English
    ("My sesame score is 680 and I've paid on time for a year. What would my Jiebei limit be?",
     {"sesame_score": 680, "on_time_months": 12}, {}, (), True),
    ("I have a 700 sesame score and 2 late payments, how much can I borrow on Jiebei?",
     {"sesame_score": 700, "overdue_12m": 2}, {}, (), True),
    ("If my sesame score goes from 650 to 720, will my Jiebei limit go up?",
     {"sesame_score": 650}, {"sesame_score": 720}, (), True),
    ("what if I miss a payment, will my jiebei limit drop?", {}, {"overdue_12m": 1}, (), True),
    ("I applied for 6 loans in the last 6 months, will my Jiebei limit drop?",
     {"applications_6m": 6}, {}, (), True),
    ("If I apply for 3 more loans, will my limit go down?",
     {}, {"applications_6m": Relative("add", 3)}, (), True),
    ("sesame 650, no late payments, account 3 years old, what's my Jiebei limit?",
     {"sesame_score": 650, "overdue_12m": 0, "account_age_months": 36}, {}, (), True),
    ("I've been on time for 24 months and my sesame score is 700, estimate my jiebei limit",
     {"on_time_months": 24, "sesame_score": 700}, {}, (), True),
    ("I've used 90% of my credit limits. How much could I get on Jiebei?",
     {"utilization": 0.9}, {}, (), True),
    ("I earn 10k a month, sesame 720, what's my jiebei limit?",
     {"monthly_income": 10000, "sesame_score": 720}, {}, (), True),
    ("I make 15000 yuan a month and my sesame score is 710. How much Jiebei limit could I get?",
     {"monthly_income": 15000, "sesame_score": 710}, {}, (), True),
    ("If I keep paying on time for another year, will my Jiebei limit go up?",
     {}, {"on_time_months": Relative("add", 12)}, (), True),
    ("My Huabei utilization is 80%, if I bring it down to 20% will my Jiebei limit go up?",
     {"utilization": 0.8}, {"utilization": 0.2}, (), True),
    ("Will selling 20 things on Xianyu raise my Jiebei limit?",
     {"xianyu_orders_12m": 20}, {}, (), True),
    ("What if my sesame score was 750 - how much would my Jiebei limit be?",
     {"sesame_score": 750}, {}, (), True),
    # -- general questions: nothing personal to estimate
    ("借呗额度是怎么定的?", {}, {}, (), False),
    ("what does the Jiebei limit depend on?", {}, {}, (), False),
    ("借呗逾期有什么后果", {}, {}, (), False),
    ("花呗怎么提额", {}, {}, (), False),
    ("借呗额度从5万降到2000是为什么", {}, {}, (), False),
    ("有人说交500元可以把借呗额度提到5万，是真的吗", {}, {}, (), False),
    ("把借呗全部还清后可借金额为什么没回到原来", {}, {}, (), False),
    ("借呗借一笔钱，利息是怎么计算的", {}, {}, (), False),
    ("What happens if I'm late on Jiebei?", {}, {}, (), False),
]


@pytest.mark.parametrize(("text", "values", "changes", "missing", "personal"), PHRASINGS,
                         ids=[p[0][:40] for p in PHRASINGS])
def test_phrasing(text: str, values: dict[str, Any], changes: dict[str, Any],
                  missing: tuple[str, ...], personal: bool) -> None:
    s = parse_slots(text)
    assert dict(s.values) == values
    assert dict(s.changes) == changes
    assert s.missing_required == missing
    assert s.is_personal_whatif is personal
    assert s.assumed == tuple(f for f in FIELDS if f not in values)


def test_there_are_at_least_forty_phrasings_in_both_languages() -> None:
    zh = [p for p in PHRASINGS if any("\u4e00" <= c <= "\u9fff" for c in p[0])]
    assert len(PHRASINGS) >= 40 and len(zh) >= 20 and len(PHRASINGS) - len(zh) >= 15


@pytest.mark.parametrize(
    "question",
    ["我芝麻分680,按时还款12个月,借呗额度大概多少?", "如果逾期两次额度会降吗?",
     "If I pay off half my Huabei, will my Jiebei limit go up?",
     "芝麻分从650涨到720,借呗额度会怎样?"],
)
def test_issue_positives(question: str) -> None:
    assert looks_like_whatif(question)


@pytest.mark.parametrize(
    "question",
    ["借呗额度是怎么定的?", "what does the Jiebei limit depend on?", "借呗逾期有什么后果",
     "花呗怎么提额", "芝麻分650能开通借呗吗", "逾期一次会影响芝麻分吗", "为什么我的借呗额度这么低",
     "How does Alipay decide how much Huabei credit I get?", "is 700 a good sesame score?",
     # a claimed requirement, eligibility or fees: the knowledge base answers, not the scorer
     "借呗是不是要芝麻分600分以上才能开", "芝麻分650能开借呗吗",
     "you need at least 700 Sesame points to get Jiebei, true?",
     "my sesame score is 650, can I get jiebei?",
     "If I spread it over 6 months, how much extra do I pay on Huabei?", "花呗分12期利息多少",
     # a zero read from a negation, told in passing; a how-to question (real questions answered
     # with made-up estimates before)
     "我是不是没有借呗额度了", "我从来没逾期过 借呗额度为啥突然没了",
     "my Jiebei limit dropped to zero and I never paid late", "按时还了两年花呗 咋提额",
     "为什么借呗额度没用完却借不了钱了",
     # numbers told in a question about where something is shown or what to do
     "借呗额度全用完了 还想借钱咋办", "下个月钱不够 花呗先还三成行不行", "我借呗额度有多少去哪看",
     # a why question with a masked number; a number about repaying, nothing asked about a limit
     "为啥我芝麻分都***了借呗额度还这么低", "如果这期先分期 下期能不能一次全还掉",
     # paying off early, asked about the account being closed (a real question got an estimate)
     "如果我把借呗提前都还了 借呗会不会被关掉", "If I pay off Jiebei early, will it be closed?",
     # a count told in a question about when, whether or what it costs; a Huabei limit (real
     # questions of these kinds got a Jiebei estimate)
     "借呗被拒了一次 过多久可以再申请", "逾期过一回 借呗还能不能借款", "逾期一次以后花呗用不了了",
     "花呗分期后当月就全部还清 还收手续费吗", "借呗先还了一半 下次还款日是哪天",
     "开通花呗的话我能有多少额度", "芝麻分才***能不能开花呗么"],
)
def test_issue_negatives(question: str) -> None:
    assert not looks_like_whatif(question)


def test_slots_shape() -> None:
    s = parse_slots("芝麻分700")
    assert isinstance(s, Slots)
    assert s.values == {"sesame_score": 700}
    assert "sesame_score" not in s.assumed and "overdue_12m" in s.assumed
    assert Relative("mul", 0.5).apply(0.6) == 0.3 and Relative("add", 2).apply(1) == 3


@settings(max_examples=300)
@given(st.text())
def test_never_raises_on_random_text(text: str) -> None:
    s = parse_slots(text)
    assert isinstance(s.is_personal_whatif, bool)
    assert isinstance(looks_like_whatif(text), bool)


@settings(max_examples=100)
@given(st.text(alphabet="芝麻分逾期按时还款申请网贷花呗借呗额度用了一半两十百千万如果0123456789%*.,年个月次"))
def test_never_raises_on_dense_domain_text(text: str) -> None:
    parse_slots(text)


def test_huge_and_odd_inputs_are_safe() -> None:
    odd = ["芝麻分680，" * 100_000, "x" * 1_000_000, "\x00\ud800\U0001f600" * 1000, "9" * 50_000]
    for text in odd:
        parse_slots(text)
        looks_like_whatif(text)
    assert not looks_like_whatif(None)  # type: ignore[arg-type]
