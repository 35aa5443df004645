"""assistant.composer: the grounded composer only copies knowledge-base sentences."""

from __future__ import annotations

import pytest

from assistant.composer import ComposeInput, GroundedComposer, abstain_text, sources_block
from knowledge.loader import load_knowledge


@pytest.fixture(scope="module")
def kb():  # type: ignore[no-untyped-def]
    return load_knowledge().by_id()


def test_verdict_first_then_points(kb) -> None:  # type: ignore[no-untyped-def]
    entry = kb["xianyu-buying-does-not-open-jiebei"]
    text = GroundedComposer().compose(ComposeInput("q", "zh", [entry], None, max_points=3))
    assert text.startswith(f"**{entry.zh.verdict}** [1]")
    for point in entry.zh.points[:3]:
        assert f"- {point}" in text
    assert entry.zh.points[3] not in text


def test_every_line_comes_from_the_entries(kb) -> None:  # type: ignore[no-untyped-def]
    a, b = kb["huabei-overdue-consequences"], kb["jiebei-overdue-consequences"]
    text = GroundedComposer().compose(ComposeInput("q", "en", [a, b], None))
    known = {a.en.verdict, f"{b.title('en')} {b.en.verdict}", *a.en.points}
    for line in filter(None, text.splitlines()):
        stripped = line.removeprefix("**").removeprefix("- ").removeprefix("See also: ")
        stripped = stripped.replace("** [1]", "").replace(" [2]", "")
        assert stripped in known, line


def test_see_also_names_the_question_its_verdict_answers(kb) -> None:  # type: ignore[no-untyped-def]
    a, b = kb["jiebei-vs-wangshangdai"], kb["jiebei-what-is-jiebei"]
    text = GroundedComposer().compose(ComposeInput("q", "zh", [a, b], None))
    assert f"另见: {b.title('zh')}{b.zh.verdict} [2]" in text.splitlines()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_choice_gives_each_question_and_verdict_then_asks(kb, lang) -> None:  # type: ignore[no-untyped-def]
    a, b = kb["huabei-limit-dropped"], kb["huabei-autodebit-unexpected"]
    text = GroundedComposer().compose(ComposeInput("q", lang, [a, b], None, choice=True))
    blocks = text.split("\n\n")
    for block, n, e in ((blocks[1], 1, a), (blocks[2], 2, b)):
        section = e.section(lang)
        points = [f"- {p}" for p in section.points[:2]]  # four bullets shared by two entries
        assert block.split("\n") == [f"**{n}. {e.title(lang)}**", f"{section.verdict} [{n}]",
                                      *points]  # fmt: skip
    assert len(blocks) == 4 and blocks[3].endswith(("。", "."))


def test_scam_warning_comes_first(kb) -> None:  # type: ignore[no-untyped-def]
    entry = kb["scam-safe-account"]
    text = GroundedComposer().compose(ComposeInput("q", "zh", [entry], "⚠️ 警惕诈骗"))
    assert text.startswith("⚠️ 警惕诈骗")


def test_sources_are_numbered_with_reviewed_dates(kb) -> None:  # type: ignore[no-untyped-def]
    entries = [kb["huabei-what-is-huabei"], kb["compare-huabei-vs-jiebei"]]
    block = sources_block(entries, "en")
    lines = block.splitlines()
    assert lines[0] == "Sources:"
    assert lines[1].startswith("[1] " + entries[0].title_en)
    assert lines[2].startswith("[2] ")
    assert "reviewed 2026-" in lines[1]


def test_abstain_text_says_it_does_not_know() -> None:
    assert "不知道" in abstain_text("zh", False, None)
    assert "don't know" in abstain_text("en", True, None)
    assert abstain_text("en", True, "WARNING").startswith("WARNING")
