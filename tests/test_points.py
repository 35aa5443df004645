"""retrieval.points: the bullet that says what was asked is shown first."""

from __future__ import annotations

from assistant import Assistant
from assistant.composer import ComposeInput, GroundedComposer
from knowledge import load_knowledge
from retrieval.lexical import word_counts
from retrieval.points import PointRanker

FILLER = {f"e{i}": ["花呗", "额度"] for i in range(40)}  # words in most entries weigh nothing


def test_the_point_with_the_specific_asked_words_moves_first_others_keep_their_order() -> None:
    ranker = PointRanker(word_counts({"a": ["积分"], "b": ["翻倍", "双倍"], **FILLER}))
    points = ["积分能兑换权益", "花呗额度不能提现", "活动写着积分翻倍的要满足条件"]
    assert ranker.order("花呗积分没有翻倍", "花呗积分怎么用", points) == (2, 0, 1)


def test_common_words_or_words_the_verdict_already_says_do_not_reorder() -> None:
    ranker = PointRanker(word_counts({"a": ["积分"], "b": ["翻倍"], **FILLER}))
    points = ["积分能兑换权益", "花呗额度要看评估", "活动写着积分翻倍的要满足条件"]
    assert ranker.order("花呗额度", "花呗积分怎么用", points) == (0, 1, 2)  # common words only
    assert ranker.order("积分翻倍", "积分翻倍要看活动", points) == (0, 1, 2)  # the verdict says it
    assert ranker.order("", "v", points) == (0, 1, 2)
    assert ranker.order("积分翻倍", "v", ["只有一条"]) == (0,)


def test_the_composer_shows_a_point_beyond_the_cut_when_it_comes_first() -> None:
    entry = next(e for e in load_knowledge().entries if len(e.zh.points) > 4)
    last = len(entry.zh.points) - 1
    order = (last, *range(last))
    body = GroundedComposer().compose(ComposeInput("q", "zh", [entry], None, 4, False, order))
    lines = [line for line in body.splitlines() if line.startswith("- ")]
    assert lines[0] == f"- {entry.zh.points[last]}" and len(lines) == 4
    plain = GroundedComposer().compose(ComposeInput("q", "zh", [entry], None, 4))
    assert f"- {entry.zh.points[last]}" not in plain


def test_an_answer_leads_with_the_bullet_the_question_asks_about(bot: Assistant) -> None:
    """The points entry's double-points bullet is its last; asked about, it is the first shown."""
    answer = bot.ask("花呗积分翻倍活动的积分一直没到账")
    bullets = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert answer.citations[0].doc_id == "huabei-points"
    assert "翻倍" in bullets[0]
