"""assistant.decision: the product rule, the strength rule and the action preference, on
hand-made search results (no model), plus the validated rules file."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from assistant.decision import AnsweringRules, DecisionPolicy, load_answering_rules
from assistant.errors import ConfigError
from knowledge.entry import Entry, Section
from knowledge.lexicon import load_lexicon
from retrieval.search import EntryHit, SearchResult


def entry(entry_id: str, products: set[str], actions: set[str] = frozenset(),  # type: ignore[assignment]
          tags: tuple[str, ...] = (), title: str = "题",
          verdict: str = "A verdict.") -> Entry:  # fmt: skip
    section = Section(verdict, ("a point",))
    return Entry(entry_id, title, "Title", tags, ("问",) * 5, ("q",) * 5, ("a source",),
                 date(2026, 12, 1), section, section, products=frozenset(products),
                 actions=frozenset(actions))  # fmt: skip


ENTRIES = {
    e.id: e
    for e in [
        entry("jiebei-early", {"jiebei"}, {"early_repay"}),
        entry("huabei-early", {"huabei"}, {"early_repay"}),
        entry("huabei-instalment-fee", {"huabei"}, {"instalment", "fee"}),
        entry("huabei-instalment-payoff", {"huabei"}, {"instalment", "early_repay"}),
        entry("huabei-instalment-how", {"huabei"}, {"instalment"}),
        entry("scam-safe-account", set(), tags=("scam",)),
        entry("scam-what-to-do-if-scammed", set(), tags=("scam",)),
        entry("privacy-rights", set()),
        entry("compare-huabei-vs-jiebei", {"huabei", "jiebei"}),
        entry("huabei-sesame", {"huabei", "sesame"}),
        entry("sesame-factors", {"sesame"}),
        entry("huabei-limit-dropped", {"huabei"}, {"limit_drop", "reason"}),
        entry("huabei-raise-limit", {"huabei"}, {"raise_limit"}),
        entry("huabei-limit-check", {"huabei"}, {"limit"}),
        entry("huabei-close-a-open-b", {"huabei"}, {"close", "open", "account"}),
        entry("huabei-move-account", {"huabei"}, {"account"}),
        entry("huabei-merchant-not-eligible", {"huabei"}, {"collect", "open"}),
        entry("huabei-cannot-open", {"huabei"}, {"open", "reason"}),
    ]
}


@pytest.fixture
def policy() -> DecisionPolicy:
    rules = load_answering_rules().model_copy(update={"action_margin": 0.02})
    return DecisionPolicy(rules, ENTRIES, load_lexicon(), credit_question=lambda q: True)


def result(*hits: tuple[str, float]) -> SearchResult:
    return SearchResult([EntryHit(i, s, s) for i, s in hits])


def test_a_huabei_question_is_never_answered_from_a_jiebei_entry(policy: DecisionPolicy) -> None:
    d = policy.decide(result(("jiebei-early", 0.95), ("huabei-early", 0.90)),
                      scam=False, query="花呗能提前还吗", lang="zh")  # fmt: skip
    assert [h.entry_id for h in d.chosen] == ["huabei-early"]
    assert d.products == {"huabei"}


def test_misspelled_product_names_count(policy: DecisionPolicy) -> None:
    d = policy.decide(result(("jiebei-early", 0.95), ("huabei-early", 0.90)),
                      scam=False, query="花贝能提前还吗", lang="zh")  # fmt: skip
    assert d.chosen[0].entry_id == "huabei-early"


def test_no_entry_of_the_named_product_says_so(policy: DecisionPolicy) -> None:
    d = policy.decide(result(("jiebei-early", 0.95), ("huabei-early", 0.50)),
                      scam=False, query="花呗能提前还吗", lang="zh")  # fmt: skip
    assert d.abstained and d.reason == "no_entry_for_product"


def test_entries_about_both_or_no_product_may_answer(policy: DecisionPolicy) -> None:
    both = policy.decide(result(("compare-huabei-vs-jiebei", 0.95)), scam=False,
                         query="借呗和花呗哪个好", lang="zh")  # fmt: skip
    assert both.chosen[0].entry_id == "compare-huabei-vs-jiebei"
    general = policy.decide(result(("privacy-rights", 0.95)), scam=False,
                            query="借呗会把我的信息给别人吗", lang="zh")  # fmt: skip
    assert general.chosen[0].entry_id == "privacy-rights"


def test_huabei_and_jiebei_exclude_each_other_even_beside_a_shared_product(
    policy: DecisionPolicy,
) -> None:
    """芝麻信用 + 借呗 is not answered from an entry about 芝麻信用 + 花呗 (it shares 芝麻信用, but
    is about the other one of the exclusive pair); a question naming both may be."""
    hits = result(("huabei-sesame", 0.95), ("sesame-factors", 0.94))
    d = policy.decide(hits, scam=False, query="芝麻信用低了借呗被关了", lang="zh")
    assert d.chosen[0].entry_id == "sesame-factors"
    d = policy.decide(hits, scam=False, query="芝麻信用低了花呗会怎样", lang="zh")
    assert d.chosen[0].entry_id == "huabei-sesame"
    d = policy.decide(hits, scam=False, query="芝麻信用对花呗和借呗都有影响吗", lang="zh")
    assert d.chosen[0].entry_id == "huabei-sesame"
    unruled = DecisionPolicy(policy.rules.model_copy(update={"exclusive_products": ()}),
                             ENTRIES, load_lexicon(), credit_question=lambda q: True)
    d = unruled.decide(hits, scam=False, query="芝麻信用低了借呗被关了", lang="zh")
    assert d.chosen[0].entry_id == "huabei-sesame"  # what the rule prevents


def test_an_entry_about_the_opposite_act_yields_to_a_near_one(policy: DecisionPolicy) -> None:
    """"额度能上调吗" is not answered with why a limit drops when an entry about raising it, or
    one about neither, is within opposed_margin (0.02); farther behind, the best entry stands."""
    near = result(("huabei-limit-dropped", 0.950), ("huabei-limit-check", 0.945),
                  ("huabei-raise-limit", 0.926))
    d = policy.decide(near, scam=False, query="花呗额度可以上调吗", lang="zh")
    # limit-check is not opposed; then raise-limit, within action_margin (0.02) of it, matches
    assert d.chosen[0].entry_id == "huabei-raise-limit"
    d = policy.decide(near, scam=False, query="花呗额度为什么降了", lang="zh")
    assert d.chosen[0].entry_id == "huabei-limit-dropped"  # what was asked
    far = result(("huabei-limit-dropped", 0.950), ("huabei-raise-limit", 0.920))
    d = policy.decide(far, scam=False, query="花呗额度可以上调吗", lang="zh")
    assert d.chosen[0].entry_id == "huabei-limit-dropped"
    only = result(("huabei-limit-dropped", 0.950))
    d = policy.decide(only, scam=False, query="花呗额度可以上调吗", lang="zh")
    assert d.chosen[0].entry_id == "huabei-limit-dropped"  # nothing near to yield to
    off = DecisionPolicy(policy.rules.model_copy(update={"opposed_margin": 0.0}), ENTRIES,
                         load_lexicon(), credit_question=lambda q: True)
    d = off.decide(near, scam=False, query="花呗额度可以上调吗", lang="zh")
    assert d.chosen[0].entry_id == "huabei-limit-dropped"  # what the rule prevents


def test_an_entry_about_the_asked_act_and_its_opposite_is_not_opposed(policy: DecisionPolicy
                                                                      ) -> None:
    """"另一个号注销了, 这个号怎么开不了花呗" asks about opening: the entry about closing one
    account and opening another covers it and stands; one about closing only would yield."""
    hits = result(("huabei-close-a-open-b", 0.974), ("huabei-move-account", 0.965))
    d = policy.decide(hits, scam=False, query="另一个号注销了，这个号为什么开通不了花呗", lang="zh")
    assert d.chosen[0].entry_id == "huabei-close-a-open-b"
    closing_only = {**ENTRIES, "huabei-close-a-open-b": entry(
        "huabei-close-a-open-b", {"huabei"}, {"close", "account"})}
    strict = DecisionPolicy(policy.rules, closing_only, load_lexicon(),
                            credit_question=lambda q: True)
    d = strict.decide(hits, scam=False, query="另一个号注销了，这个号为什么开通不了花呗", lang="zh")
    assert d.chosen[0].entry_id == "huabei-move-account"  # about closing, not opening: yields


def test_a_merchant_entry_does_not_answer_a_buyer_question_when_a_buyers_entry_is_near(
        policy: DecisionPolicy) -> None:
    """"开通花呗怎么不符合条件" is a buyer opening Huabei: the merchant's "not eligible to collect
    with Huabei" entry yields to the buyer's within asked_only_margin (0.02); a question that asks
    about collecting (收款) keeps it, and so does one with nothing near to yield to."""
    hits = result(("huabei-merchant-not-eligible", 0.974), ("huabei-cannot-open", 0.960))
    d = policy.decide(hits, scam=False, query="开通花呗怎么不符合条件", lang="zh")
    assert d.chosen[0].entry_id == "huabei-cannot-open"
    d = policy.decide(hits, scam=False, query="开通花呗收款为什么不符合条件", lang="zh")
    assert d.chosen[0].entry_id == "huabei-merchant-not-eligible"
    far = result(("huabei-merchant-not-eligible", 0.974), ("huabei-cannot-open", 0.950))
    d = policy.decide(far, scam=False, query="开通花呗怎么不符合条件", lang="zh")
    assert d.chosen[0].entry_id == "huabei-merchant-not-eligible"
    off = DecisionPolicy(policy.rules.model_copy(update={"asked_only_margin": 0.0}), ENTRIES,
                         load_lexicon(), credit_question=lambda q: True)
    d = off.decide(hits, scam=False, query="开通花呗怎么不符合条件", lang="zh")
    assert d.chosen[0].entry_id == "huabei-merchant-not-eligible"  # what the rule prevents


def test_a_question_naming_no_product_is_not_filtered(policy: DecisionPolicy) -> None:
    d = policy.decide(result(("jiebei-early", 0.95)), scam=False, query="能提前还吗", lang="zh")
    assert d.chosen[0].entry_id == "jiebei-early"


def test_weak_evidence_abstains(policy: DecisionPolicy) -> None:
    d = policy.decide(result(("huabei-early", 0.5)), scam=False, query="花呗能提前还吗", lang="zh")
    assert d.abstained and d.reason == "weak"
    assert policy.decide(result(), scam=False, query="x", lang="zh").reason == "nothing_found"


def test_a_close_entry_whose_action_matches_is_preferred(policy: DecisionPolicy) -> None:
    close = result(("huabei-instalment-fee", 0.930), ("huabei-instalment-payoff", 0.915))
    d = policy.decide(close, scam=False, query="花呗分期能提前还清吗", lang="zh")
    assert d.chosen[0].entry_id == "huabei-instalment-payoff"  # instalment + early_repay
    far = result(("huabei-instalment-fee", 0.960), ("huabei-instalment-payoff", 0.915))
    d = policy.decide(far, scam=False, query="花呗分期能提前还清吗", lang="zh")
    assert d.chosen[0].entry_id == "huabei-instalment-fee"  # too far behind to be preferred


def test_a_near_tie_about_different_actions_is_ambiguous(policy: DecisionPolicy) -> None:
    tie = result(("huabei-early", 0.951), ("huabei-instalment-how", 0.948))
    d = policy.decide(tie, scam=False, query="花呗这个怎么弄", lang="zh")
    assert d.reason == "ambiguous"
    assert [h.entry_id for h in d.chosen] == ["huabei-early", "huabei-instalment-how"]


@pytest.mark.parametrize(
    ("hits", "query"),
    [
        ((("huabei-early", 0.951), ("huabei-instalment-how", 0.948)), "花呗能提前还吗"),  # asked
        ((("huabei-early", 0.960), ("huabei-instalment-how", 0.948)), "花呗这个怎么弄"),  # far
        ((("huabei-instalment-fee", 0.951), ("huabei-instalment-how", 0.948)),
         "花呗这个怎么弄"),  # both about instalments
        ((("huabei-early", 0.951), ("privacy-rights", 0.950)), "花呗这个怎么弄"),  # no action
    ],
)
def test_a_near_tie_is_answered_when_it_is_not_ambiguous(
    policy: DecisionPolicy, hits: tuple[tuple[str, float], ...], query: str
) -> None:
    d = policy.decide(result(*hits), scam=False, query=query, lang="zh")
    assert d.reason == "answered" and d.chosen[0].entry_id == hits[0][0]


def test_an_exact_question_is_never_ambiguous(policy: DecisionPolicy) -> None:
    exact = SearchResult([EntryHit("huabei-early", 0.951, 0.951, exact=True),
                          EntryHit("huabei-instalment-how", 0.948, 0.948)])  # fmt: skip
    d = policy.decide(exact, scam=False, query="花呗这个怎么弄", lang="zh")
    assert d.reason == "answered"


def test_a_scam_story_is_answered_from_a_scam_entry(policy: DecisionPolicy) -> None:
    d = policy.decide(result(("huabei-early", 0.95), ("scam-safe-account", 0.80)),
                      scam=True, query="客服让我把花呗的钱转到安全账户", lang="zh")  # fmt: skip
    assert d.chosen[0].entry_id == "scam-safe-account" and d.reason == "scam"
    d = policy.decide(result(("huabei-early", 0.95)), scam=True, query="他让我转账", lang="zh")
    assert d.chosen[0].entry_id == "scam-what-to-do-if-scammed"


def test_the_rules_file_is_validated(tmp_path: Path) -> None:
    good = Path("assistant/rules/answering.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "answering.yaml"
    bad.write_text(good + "\nabstian_below: 0.5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"answering.yaml: abstian_below: unknown key"):
        load_answering_rules(bad)
    bad.write_text(good.replace("max_points: 4", "max_points: many"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"max_points: Input should be a valid integer"):
        load_answering_rules(bad)
    assert isinstance(load_answering_rules(), AnsweringRules)


def test_an_ordinary_question_is_not_answered_from_a_scam_entry(policy: DecisionPolicy) -> None:
    hits = result(("scam-safe-account", 0.95), ("huabei-early", 0.93))
    plain = policy.decide(hits, scam=False, query="花呗能提前还吗", lang="zh", about_scams=False)
    assert plain.chosen[0].entry_id == "huabei-early"
    asked = policy.decide(hits, scam=False, query="安全账户是骗局吗", lang="zh", about_scams=True)
    assert asked.chosen[0].entry_id == "scam-safe-account"


def test_a_top_only_entry_answers_as_the_closest_never_as_what_is_left() -> None:
    """The hand-off entry answers "I want a person"; after closer entries were too weak for a
    question naming no product, it is not the answer, though it may still be the second one."""
    entries = {**ENTRIES, "handoff": entry("handoff", set())}
    rules = load_answering_rules().model_copy(update={"top_only_entries": ("handoff",)})
    strict = DecisionPolicy(rules, entries, load_lexicon(), credit_question=lambda q: False)
    left = result(("huabei-early", 0.92), ("handoff", 0.91))  # huabei-early is too weak here
    assert strict.decide(left, scam=False, query="支付宝怎么交电费", lang="zh").chosen == ()
    normal = DecisionPolicy(rules.model_copy(update={"top_only_entries": ()}), entries,
                            load_lexicon(), credit_question=lambda q: False)
    assert normal.decide(left, scam=False, query="支付宝怎么交电费", lang="zh").chosen[0] \
        .entry_id == "handoff"  # what the rule prevents
    first = strict.decide(result(("handoff", 0.95), ("privacy-rights", 0.94)), scam=False,
                          query="在线客服在哪儿", lang="zh")
    assert [h.entry_id for h in first.chosen] == ["handoff", "privacy-rights"]
    second = strict.decide(result(("privacy-rights", 0.95), ("handoff", 0.94)), scam=False,
                           query="在线客服在哪儿", lang="zh")
    assert [h.entry_id for h in second.chosen] == ["privacy-rights", "handoff"]


def test_every_entry_the_answering_rules_name_exists() -> None:
    from knowledge.loader import load_knowledge

    ids = {e.id for e in load_knowledge().entries}
    rules = load_answering_rules()
    named = {rules.scam_fallback_entry, *rules.top_only_entries}
    assert named <= ids, sorted(named - ids)


def test_a_why_cant_question_prefers_the_near_entry_about_why_it_fails() -> None:
    """"为什么花呗充不了话费" is not answered with "通常可以：…" when an entry about the same act
    whose title asks why it fails is within failure_margin (0.02); a question that does not ask
    why it fails, an entry too far, or one about another act leaves the closest entry first."""
    entries = {e.id: e for e in [
        entry("can", {"huabei"}, {"pay"}, title="话费能拿花呗充吗？",
              verdict="通常可以：付款时选花呗。"),
        entry("why-not", {"huabei"}, {"pay"}, title="为什么我的花呗充不了话费？",
              verdict="通常是这一笔暂时不能用花呗。"),
        entry("closed", {"huabei"}, {"closed", "reason"}, title="花呗被关闭了，为什么？",
              verdict="通常是服务方评估的结果。"),
    ]}
    policy = DecisionPolicy(load_answering_rules(), entries, load_lexicon(),
                            credit_question=lambda q: True)

    def top(query: str, *hits: tuple[str, float]) -> str:
        return policy.decide(result(*hits), scam=False, query=query, lang="zh").chosen[0].entry_id

    assert top("为什么花呗充不了话费", ("can", 0.970), ("why-not", 0.960)) == "why-not"
    assert top("我用花呗充话费都不行", ("can", 0.970), ("why-not", 0.960)) == "why-not"
    assert top("话费能拿花呗充吗", ("can", 0.970), ("why-not", 0.960)) == "can"
    assert top("花呗到底能不能交话费", ("can", 0.970), ("why-not", 0.960)) == "can"  # either-or
    exact = SearchResult([EntryHit("can", 0.970, 0.970, exact=True),
                          EntryHit("why-not", 0.960, 0.960)])
    assert policy.decide(exact, scam=False, query="为什么花呗充不了话费",
                         lang="zh").chosen[0].entry_id == "can"  # a listed question stands
    assert top("为什么花呗充不了话费", ("can", 0.970), ("why-not", 0.940)) == "can"
    assert top("为什么花呗充不了话费", ("can", 0.970), ("closed", 0.965)) == "can"


def test_a_rules_file_with_a_broken_regular_expression_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "answering.yaml"
    text = Path("assistant/rules/answering.yaml").read_text(encoding="utf-8")
    assert "  - 为什么|为啥|" in text
    bad.write_text(text.replace("  - 为什么|为啥|", "  - (为什么|为啥|", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="failure_title"):
        load_answering_rules(bad)


def test_an_entry_about_a_broader_act_is_not_opposed(policy: DecisionPolicy) -> None:
    """"另一个号的花呗关闭了, 这个号能重新开通吗" asks to reopen: the entry about closing one
    account and opening another covers it (lexicon ``kind_of``: reopen is a kind of open) and
    stands; without that it would yield as the undoing of reopening."""
    hits = result(("huabei-close-a-open-b", 0.974), ("huabei-move-account", 0.965))
    query = "另一个号的花呗关闭了，这个号能重新开通吗"
    d = policy.decide(hits, scam=False, query=query, lang="zh")
    assert d.chosen[0].entry_id == "huabei-close-a-open-b"
    flat = dataclasses.replace(load_lexicon(), kind_of={})
    bare = DecisionPolicy(policy.rules, ENTRIES, flat, credit_question=lambda q: True)
    assert bare.decide(hits, scam=False, query=query, lang="zh").chosen[0].entry_id == \
        "huabei-move-account"
