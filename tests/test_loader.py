"""knowledge.loader: the bundled base is complete and valid; bad files are reported precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.loader import entry_file, load_knowledge

GOOD = entry_file("xianyu-buying-does-not-open-jiebei").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bundled():  # type: ignore[no-untyped-def]
    return load_knowledge()


def test_bundled_entries_load_without_errors(bundled) -> None:  # type: ignore[no-untyped-def]
    assert bundled.errors == []
    assert len(bundled.entries) >= 60


def test_every_entry_is_complete(bundled) -> None:  # type: ignore[no-untyped-def]
    for e in bundled.entries:
        assert len(e.questions_zh) >= 5 and len(e.questions_en) >= 5, e.id
        assert e.sources and e.reviewed.year >= 2026, e.id
        for lang in ("zh", "en"):
            verdict = e.section(lang).verdict
            assert verdict and len(verdict) < 400, (e.id, lang)
        assert e.zh.points and e.en.points, e.id


def test_questions_are_not_shared_between_entries(bundled) -> None:  # type: ignore[no-untyped-def]
    from retrieval.lexical import question_key

    owner: dict[str, str] = {}
    for e in bundled.entries:
        for q in (*e.questions_zh, *e.questions_en):
            key = question_key(q)
            assert owner.setdefault(key, e.id) == e.id, f"{q!r} in {owner[key]} and {e.id}"


@pytest.mark.parametrize(
    "prefix_or_id",
    [
        "xianyu-buying-does-not-open-jiebei",
        "jiebei-eligibility-provider-assessment",
        "jiebei-limit-factors",
        "jiebei-limit-after-repayment",
        "jiebei-interest-and-fees",
        "jiebei-repayment-methods",
        "jiebei-early-repayment",
        "jiebei-overdue-consequences",
        "jiebei-lenders",
        "jiebei-vs-wangshangdai",
        "jiebei-age-requirements",
        "huabei-what-is-huabei",
        "huabei-pay-on-xianyu",
        "huabei-instalments-and-fees",
        "huabei-close-and-reopen",
        "huabei-cannot-be-used-reasons",
        "huabei-merchant-fees",
        "compare-huabei-vs-jiebei",
        "sesame-score-factors",
        "sesame-xianyu-trading-effect",
        "credit-report-which-products-report",
        "credit-report-negative-record-duration",
        "credit-report-free-self-check",
        "xianyu-escrow-how-it-works",
        "xianyu-refund-and-dispute",
        "xianyu-off-platform-payment-risk",
        "scam-fake-customer-service",
        "scam-open-credit-to-receive-payment",
        "scam-safe-account",
        "scam-move-to-wechat-private",
        "scam-what-to-do-if-scammed",
        "privacy-automated-decision-explanation",
        "privacy-access-correct-delete",
        "help-where-to-complain",
    ],
)
def test_required_topics_are_covered(bundled, prefix_or_id: str) -> None:  # type: ignore[no-untyped-def]
    assert prefix_or_id in bundled.by_id()


def test_scam_entries_end_with_the_safe_steps(bundled) -> None:  # type: ignore[no-untyped-def]
    for e in bundled.entries:
        if e.is_scam:
            text = e.zh.text()
            assert "110" in text and "96110" in text, e.id


def test_pipl_article_24_is_cited(bundled) -> None:  # type: ignore[no-untyped-def]
    entry = bundled.by_id()["privacy-automated-decision-explanation"]
    assert any("第二十四条" in s or "24" in s for s in entry.sources)


def _copy_two_good(tmp_path: Path) -> Path:
    d = tmp_path / "kb"
    d.mkdir()
    shutil.copy(entry_file("xianyu-buying-does-not-open-jiebei"), d)
    shutil.copy(entry_file("huabei-what-is-huabei"), d)
    return d


def test_broken_yaml_names_file_field_and_line(tmp_path: Path) -> None:
    d = _copy_two_good(tmp_path)
    bad = GOOD.replace("id: xianyu-buying-does-not-open-jiebei", "id: broken-entry").replace(
        "tags: [xianyu, jiebei, seed]", "tags: [xianyu, jiebei"
    )
    (d / "broken-entry.md").write_text(bad, encoding="utf-8")
    result = load_knowledge(d)
    assert len(result.entries) == 2
    (err,) = result.errors
    assert err.path.name == "broken-entry.md"
    assert err.field == "front matter"
    assert err.line >= 5
    assert "broken YAML" in str(err) and "broken-entry.md:" in str(err)


def test_missing_field_is_reported_with_its_name(tmp_path: Path) -> None:
    d = _copy_two_good(tmp_path)
    text = GOOD.replace("id: xianyu-buying-does-not-open-jiebei", "id: no-sources")
    start = text.index("sources:")
    end = text.index("reviewed:")
    (d / "no-sources.md").write_text(text[:start] + text[end:], encoding="utf-8")
    result = load_knowledge(d)
    assert len(result.entries) == 2
    (err,) = result.errors
    assert (err.field, err.path.name) == ("sources", "no-sources.md")
    assert "missing" in err.message


def test_too_few_questions_names_the_field_and_line(tmp_path: Path) -> None:
    d = _copy_two_good(tmp_path)
    text = GOOD.replace("id: xianyu-buying-does-not-open-jiebei", "id: few-questions")
    start = text.index("questions_en:")
    end = text.index("sources:")
    text = text[:start] + "questions_en:\n  - only one?\n" + text[end:]
    (d / "few-questions.md").write_text(text, encoding="utf-8")
    (err,) = load_knowledge(d).errors
    assert err.field == "questions_en"
    assert err.line == text[: text.index("questions_en:")].count("\n") + 1


def test_duplicate_id_is_reported_and_first_one_kept(tmp_path: Path) -> None:
    d = _copy_two_good(tmp_path)
    sub = d / "more"
    sub.mkdir()
    shutil.copy(entry_file("xianyu-buying-does-not-open-jiebei"), sub)
    result = load_knowledge(d)
    assert len(result.entries) == 2
    (err,) = result.errors
    assert err.field == "id" and "duplicate" in err.message and err.line == 2


def test_missing_language_section(tmp_path: Path) -> None:
    d = _copy_two_good(tmp_path)
    text = GOOD.replace("id: xianyu-buying-does-not-open-jiebei", "id: no-english")
    (d / "no-english.md").write_text(text.split("## English")[0], encoding="utf-8")
    (err,) = load_knowledge(d).errors
    assert err.field == "body:en"


def test_id_must_match_file_name(tmp_path: Path) -> None:
    d = _copy_two_good(tmp_path)
    (d / "other-name.md").write_text(GOOD, encoding="utf-8")
    (err,) = load_knowledge(d).errors
    assert err.field == "id" and "other-name.md" in err.message


@pytest.mark.parametrize(
    ("products", "actions", "field", "words"),
    [
        ("[huabei, cashcard]", None, "products", "unknown value(s) cashcard; valid: credit_card"),
        ("[general, huabei]", None, "products", "'general' cannot be combined"),
        (None, None, "products", "missing"),
        ("[xianyu]", "[repay, teleport]", "actions", "unknown value(s) teleport; valid: "),
    ],
)
def test_products_and_actions_come_from_the_lexicon(
    tmp_path: Path, products: str | None, actions: str | None, field: str, words: str
) -> None:
    d = _copy_two_good(tmp_path)
    text = GOOD.replace("id: xianyu-buying-does-not-open-jiebei", "id: vocab")
    lines = [ln for ln in text.splitlines() if not ln.startswith("products:")]
    at = lines.index(next(ln for ln in lines if ln.startswith("tags:"))) + 1
    extra = ([f"products: {products}"] if products else []) + (
        [f"actions: {actions}"] if actions else []
    )
    (d / "vocab.md").write_text("\n".join(lines[:at] + extra + lines[at:]), encoding="utf-8")
    (err,) = load_knowledge(d).errors
    assert err.field == field and words in err.message, err


def test_products_and_actions_are_loaded_as_sets() -> None:
    entries = load_knowledge().by_id()
    assert entries["xianyu-buying-does-not-open-jiebei"].products >= {"xianyu", "jiebei"}
    assert entries["scam-safe-account"].products == frozenset()  # products: [general]
