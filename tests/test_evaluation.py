"""assistant.evaluation: checks and metrics against hand-computed values, with a fake assistant."""

from __future__ import annotations

import math
from typing import Any

import pytest

from assistant.answer import Answer, Citation
from assistant.evaluation import EvalRow, evaluate, retrieval_metrics


def test_retrieval_metrics_by_hand() -> None:
    m = retrieval_metrics([1, 2, 4, None])
    assert m["hit_at_1"] == 0.25
    assert m["hit_at_3"] == 0.5
    assert m["mrr"] == round((1 + 0.5 + 0.25) / 4, 4)
    assert m["ndcg_at_10"] == round((1 + 1 / math.log2(3) + 1 / math.log2(5)) / 4, 4)
    assert retrieval_metrics([])["mrr"] is None


class FakeBot:
    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers

    def ask(self, question: str, history: Any = None) -> Answer:
        return self.answers[question]


def _answer(
    route: str, ranked: list[str], abstained: bool = False, scam: bool = False, text: str = "ok"
) -> Answer:
    cites = [] if abstained else [Citation(ranked[0], "t", "s", 0.9)]
    return Answer(
        text,
        route,
        cites,
        abstained,
        "warn" if scam else None,
        "zh",  # type: ignore[arg-type]
        retrieved=tuple((d, 0.9) for d in ranked),
    )


def test_summary_counts_each_check() -> None:
    bot = FakeBot(
        {
            "a": _answer("knowledge", ["x", "y"], text="不会开通"),
            "b": _answer("knowledge", ["y", "z", "x"]),
            "c": _answer("out_of_scope", [], abstained=True),
            "d": _answer("knowledge", ["s"], scam=True),
            "e": _answer("knowledge", ["q"], scam=True),
        }
    )
    rows = [
        EvalRow("a", expect_route="knowledge", expect_doc=("x",), must_include=("不会",)),
        EvalRow("b", expect_route="knowledge", expect_doc=("x",), must_include=("re:^o",)),
        EvalRow("c", expect_route="knowledge", expect_abstain=True),
        EvalRow("d", expect_scam=True),
        EvalRow("e", expect_scam=False, must_not_include=("ok",)),
    ]
    run = evaluate(bot, rows)
    s = run.summary
    assert s["count"] == 5
    assert s["route_accuracy"] == round(2 / 3, 4)
    assert s["hit_at_1"] == 0.5 and s["hit_at_3"] == 1.0 and s["mrr"] == round((1 + 1 / 3) / 2, 4)
    assert s["answer_pass_rate"] == round(2 / 3, 4)
    assert s["abstain_recall"] == 1.0
    assert s["scam_precision"] == 0.5 and s["scam_recall"] == 1.0
    assert s["scam_false_alarm_rate"] == 1.0
    failed = [r.row.question for r in run.results if not r.passed]
    assert failed == ["b", "c", "e"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "question"),
        ({"question": "  "}, "question"),
        ({"question": "q", "expect_route": "nowhere"}, "expect_route"),
        ({"question": "q", "expect_scam": "maybe"}, "expect_scam"),
        ({"question": "q", "history": ["hi"]}, "history"),
        ({"question": "q", "must_include": 3}, "must_include"),
    ],
)
def test_bad_rows_say_what_is_wrong(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EvalRow.from_dict(data)


def test_personal_numbers_are_masked_in_results() -> None:
    q = "我手机13812345678"
    run = evaluate(FakeBot({q: _answer("knowledge", ["x"])}), [EvalRow(q)])
    assert run.results[0].row.question == "我手机138****5678"
