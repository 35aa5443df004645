"""knowledge.lexicon: products and actions are read from lexicon.yaml; the pairs of actions that
undo each other name only known actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.errors import ConfigError
from knowledge.lexicon import LEXICON_PATH, load_lexicon


def test_opposites_are_symmetric() -> None:
    lexicon = load_lexicon()
    assert lexicon.opposed_to(frozenset({"raise_limit"})) == {"limit_drop"}
    assert "raise_limit" in lexicon.opposed_to(frozenset({"limit_drop"}))
    assert lexicon.opposed_to(frozenset({"fee"})) == frozenset()
    assert "limit_drop" in lexicon.actions_in("为啥最近给我降了")


def test_asking_why_is_an_action_that_cause_entries_name() -> None:
    """"为什么/为啥…" asks for a cause; the entries whose title explains one name ``reason``, so
    among near-ties the action preference answers a why-question with the cause."""
    from knowledge.loader import load_knowledge

    lexicon = load_lexicon()
    assert "reason" in lexicon.actions_in("为啥借呗审核一直不通过")
    assert "reason" not in lexicon.actions_in("借呗审核要多久")
    entries = {e.id: e for e in load_knowledge().entries}
    assert "reason" in entries["huabei-cannot-be-used-reasons"].actions
    assert "reason" in entries["huabei-early-repay-button-missing"].actions  # a failure's cause
    assert "reason" not in entries["huabei-limit-used-still-pay"].actions


@pytest.mark.parametrize(
    ("pairs", "message"),
    [("  - [raise_limit, teleport]\n", "'opposites' names unknown action\\(s\\) teleport"),
     ("  - [raise_limit]\n", "opposites.0.1: Field required")],
)  # fmt: skip
def test_a_bad_opposite_names_the_file_and_the_action(
    tmp_path: Path, pairs: str, message: str
) -> None:
    good = LEXICON_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "lexicon.yaml"
    bad.write_text(good.replace("opposites:\n", "opposites:\n" + pairs, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=f"lexicon.yaml: .*{message}"):
        load_lexicon(bad)


def test_an_unknown_key_or_a_wrong_type_names_the_file_and_the_key(tmp_path: Path) -> None:
    good = LEXICON_PATH.read_text(encoding="utf-8")
    typo = tmp_path / "lexicon.yaml"
    typo.write_text(good.replace("domain_words:", "domain_word:", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"lexicon.yaml: domain_word: unknown key"):
        load_lexicon(typo)
    typo.write_text(good + "\nproducts: 3\n", encoding="utf-8")  # the later key wins in YAML
    with pytest.raises(ConfigError, match=r"lexicon.yaml: products: Input should be a valid dict"):
        load_lexicon(typo)


def test_an_act_is_a_kind_of_a_broader_one_and_an_unknown_one_is_named(tmp_path: Path) -> None:
    lexicon = load_lexicon()
    assert lexicon.broader("reopen") == {"open"}
    assert lexicon.broader("open") == frozenset()
    good = LEXICON_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "lexicon.yaml"
    bad.write_text(good.replace("  reopen: [open]\n", "  reopen: [teleport]\n", 1),
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="'kind_of' names unknown action\\(s\\) teleport"):
        load_lexicon(bad)


def test_something_gone_is_an_action_that_missing_entries_name() -> None:
    """"借呗入口突然不显示了" asks where something went: a near-tie with a coupon entry goes to the
    entry about a missing entrance; a temporary raise is the temporary limit, not a raise."""
    from knowledge.loader import load_knowledge

    lexicon = load_lexicon()
    assert "missing" in lexicon.actions_in("我的借呗突然不显示了")
    assert "missing" not in lexicon.actions_in("借呗怎么隐藏起来")
    assert lexicon.actions_in("怎么临时提高花呗的额度") >= {"temp_limit"}
    assert "raise_limit" not in lexicon.actions_in("怎么临时提高花呗的额度")
    entries = {e.id: e for e in load_knowledge().entries}
    assert "missing" in entries["jiebei-entry-missing"].actions
    assert "missing" not in entries["jiebei-interest-free-coupon"].actions


def test_opening_again_and_the_number_of_months_are_read_as_users_write_them() -> None:
    """再打开 and the common 在/再 slip (能否在开通) are reopening, but 现在开通 is not; the
    number of instalments (期数) is the term, while a repayment falling due (还款期到了) is
    not."""
    from knowledge.loader import load_knowledge

    lexicon = load_lexicon()
    assert "reopen" in lexicon.actions_in("借呗停了还会再打开吗")
    assert "reopen" in lexicon.actions_in("花呗关了能否在开通")
    assert "reopen" not in lexicon.actions_in("我现在开通花呗有多少额度")
    assert "term" in lexicon.actions_in("借呗的期数变少了")
    assert "term" not in lexicon.actions_in("借呗这个月还款期到了怎么还")
    entries = {e.id: e for e in load_knowledge().entries}
    assert "instalment" in entries["jiebei-repayment-methods"].actions  # its title asks this


def test_a_word_kept_from_a_misspelling_must_hold_one(tmp_path: Path) -> None:
    good = LEXICON_PATH.read_text(encoding="utf-8")
    terms = {t.zh: t for t in load_lexicon().terms}
    assert "支付保费" in terms["支付宝"].not_in
    bad = tmp_path / "lexicon.yaml"
    bad.write_text(good.replace("not_in: [支付保费", "not_in: [保险费", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"terms\.\d+\.not_in: 保险费 hold\(s\) none"):
        load_lexicon(bad)
