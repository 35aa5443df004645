"""assistant.evaluation: checks and metrics against hand-computed values, with a fake assistant."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from assistant.answer import Answer, Citation
from assistant.errors import MingbaiError
from assistant.evaluation import (
    EvalFileError,
    EvalRow,
    evaluate,
    load_rows,
    percentile,
    recall_at_k,
    retrieval_metrics,
)


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


def test_scam_recall_is_reported_by_family() -> None:
    bot = FakeBot({"a": _answer("knowledge", ["scam-safe-account"], scam=True),
                   "b": _answer("knowledge", ["scam-safe-account"]),
                   "c": _answer("knowledge", ["privacy-x"], scam=True)})  # fmt: skip
    rows = [EvalRow("a", expect_scam=True, expect_doc=("scam-safe-account",)),
            EvalRow("b", expect_scam=True, expect_doc=("scam-safe-account",)),
            EvalRow("c", expect_scam=True, expect_doc=("privacy-x",))]  # fmt: skip
    by_family = evaluate(bot, rows).summary["scam_recall_by_family"]
    assert by_family == {"other": {"count": 1, "warned": 1, "recall": 1.0},
                         "safe_account": {"count": 2, "warned": 1, "recall": 0.5}}  # fmt: skip



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


# -- implementations of the IR metrics: trec_eval (pytrec_eval) and our own, same hand values ----
@pytest.mark.parametrize("library", [True, False], ids=["pytrec_eval", "own"])
def test_retrieval_metrics_match_hand_values_in_every_implementation(library: bool) -> None:
    ranks = [1, 2, 4, None, 11]
    m = retrieval_metrics(ranks, library=library)
    assert m["hit_at_1"] == 0.2
    assert m["hit_at_3"] == 0.4
    assert m["mrr"] == round((1 + 1 / 2 + 1 / 4 + 1 / 11) / 5, 4)
    assert m["ndcg_at_10"] == round((1 + 1 / math.log2(3) + 1 / math.log2(5)) / 5, 4)
    curve = recall_at_k(ranks, library=library)
    assert list(curve) == [str(k) for k in range(1, 11)]
    assert [curve[str(k)] for k in (1, 2, 3, 4, 10)] == [0.2, 0.4, 0.4, 0.6, 0.6]


# -- loading files ---------------------------------------------------------------------------
JSONL = """\
{"question": "花呗是什么", "expect_doc": "huabei", "tags": ["huabei", "plain"], \
"expect_abstain": false}

{"question": "What is Jiebei?", "expect_doc": ["jiebei", "jiebei-2"], "lang": "en"}
"""
CSV = """\
question,expect_doc,tags,expect_abstain,lang
花呗是什么,huabei,huabei|plain,false,
What is Jiebei?,"[""jiebei"", ""jiebei-2""]",,,en
"""
YAML = """\
- question: 花呗是什么
  expect_doc: huabei
  tags: [huabei, plain]
  expect_abstain: false
- question: What is Jiebei?
  expect_doc: [jiebei, jiebei-2]
  lang: en
"""


@pytest.mark.parametrize(
    ("name", "text", "lines"),
    [("f.jsonl", JSONL, [1, 3]), ("f.csv", CSV, [2, 3]), ("f.yaml", YAML, [1, 5])],
)
def test_every_format_gives_the_same_rows(
    tmp_path: Path, name: str, text: str, lines: list[int]
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    loaded = load_rows(path)
    assert loaded.bad == [] and loaded.warnings == []
    assert [r.line for r in loaded.rows] == lines
    first, second = loaded.rows
    assert first.question == "花呗是什么" and first.expect_doc == ("huabei",)
    assert first.tags == ("huabei", "plain") and first.expect_abstain is False
    assert second.expect_doc == ("jiebei", "jiebei-2") and second.lang == "en"
    assert second.expect_abstain is None


@pytest.mark.parametrize(
    ("name", "text", "bad"),
    [
        (
            "f.jsonl",
            '{"question": "ok"}\n{"question": \n[1]\n{"question": "q", "lang": "fr"}\n',
            [(2, "not valid JSON"), (3, "JSON object"), (4, "'lang'")],
        ),
        (
            "f.csv",
            'question,expect_route,tags\nok,,\nq,nowhere,\n,knowledge,\nq,,"[1"\nq,,,extra\n',
            [(3, "expect_route"), (4, "question"), (5, "'tags'"), (6, "4 cells")],
        ),
        (
            "f.yaml",
            "- question: ok\n- just text\n- question: q\n  must_include: 're:(['\n",
            [(2, "mapping"), (3, "regular expression")],
        ),
    ],
)
def test_bad_rows_are_kept_aside_with_their_line(
    tmp_path: Path, name: str, text: str, bad: list[tuple[int, str]]
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    loaded = load_rows(path)
    assert [r.question for r in loaded.rows] == ["ok"]
    assert [b.line for b in loaded.bad] == [line for line, _ in bad]
    for got, (_, words) in zip(loaded.bad, bad, strict=True):
        assert words in got.message, got


def test_unknown_columns_warn_once_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(
        '{"question": "a", "expected_route": "knowledge"}\n'
        '{"question": "b", "expected_route": "knowledge", "zzz": 1}\n',
        encoding="utf-8",
    )
    loaded = load_rows(path)
    assert len(loaded.rows) == 2
    assert len(loaded.warnings) == 2
    assert "'expected_route' (line 1)" in loaded.warnings[0]
    assert "did you mean 'expect_route'" in loaded.warnings[0]
    assert "'zzz' (line 2)" in loaded.warnings[1]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.jsonl", "", "no questions"),
        ("blank.jsonl", "\n  \n", "no questions"),
        ("header.csv", "question,tags\n", "no questions"),
        ("empty.yaml", "[]\n", "no questions"),
        ("noquestion.csv", "q,tags\na,b\n", "no 'question' column"),
        ("mapping.yaml", "question: a\n", "list of rows"),
        ("broken.yaml", "- question: a\n- [b\n", "broken.yaml:3: not valid YAML"),
        ("latin1.jsonl", b'{"question": "caf\xe9"}', "UTF-8"),
        ("faq.txt", "question\n", "use .jsonl, .csv or .yaml"),
        ("missing.jsonl", None, "no such file"),
    ],
)
def test_unusable_files_are_a_clear_error(
    tmp_path: Path, name: str, content: str | bytes | None, words: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalFileError, match=re.escape(words)) as err:
        load_rows(path)
    assert str(path) in str(err.value)
    assert isinstance(err.value, MingbaiError)


# -- running ---------------------------------------------------------------------------------
class BatchBot(FakeBot):
    """``ask_many`` like the real assistant; records the batches it was given."""

    def __init__(self, answers: dict[str, Answer], fail_on: str | None = None) -> None:
        super().__init__(answers)
        self.batches: list[list[str]] = []
        self.fail_on = fail_on

    def ask(self, question: str, history: Any = None) -> Answer:
        if question == self.fail_on:
            raise ValueError(f"cannot answer {question!r}")
        return super().ask(question, history)

    def ask_many(self, questions: list[str], histories: list[Any]) -> list[Answer]:
        assert len(histories) == len(questions)
        self.batches.append(list(questions))
        return [self.ask(q, h) for q, h in zip(questions, histories, strict=True)]


def _many(n: int) -> tuple[dict[str, Answer], list[EvalRow]]:
    answers, rows = {}, []
    for i in range(n):
        q = f"q{i}"
        ranked = ["x", "y"] if i % 3 else ["y", "x"]
        answers[q] = _answer("knowledge", ranked, scam=i % 7 == 0)
        row = EvalRow(q, line=i + 1, expect_route="knowledge", expect_doc=("x",),
                      expect_scam=False, tags=(f"t{i % 4}",))  # fmt: skip
        rows.append(row)
    return answers, rows


def _comparable(run: Any) -> list[Any]:
    return [(r.row, r.answer, r.checks, r.rank) for r in run.results]


def test_questions_are_batched_and_workers_change_nothing_but_speed() -> None:
    answers, rows = _many(70)
    one = BatchBot(answers)
    serial = evaluate(one, rows, batch_size=32)
    assert [len(b) for b in one.batches] == [32, 32, 6]
    two = BatchBot(answers)
    seen: list[str] = []
    parallel = evaluate(
        two, rows, workers=2, batch_size=8, on_result=lambda r: seen.append(r.row.question)
    )
    assert len(two.batches) == 9
    assert sorted(seen) == sorted(r.question for r in rows)
    assert _comparable(parallel) == _comparable(serial)
    drop = ("p50_ms", "p95_ms", "by_tag")
    assert {k: v for k, v in parallel.summary.items() if k not in drop} == {
        k: v for k, v in serial.summary.items() if k not in drop
    }
    # latency is the batch's wall time shared equally by its questions
    assert len({r.latency_ms for r in serial.results[:32]}) == 1


def test_a_question_that_raises_fails_alone() -> None:
    answers, rows = _many(5)
    run = evaluate(BatchBot(answers, fail_on="q2"), rows)
    assert [r.passed for r in run.results].count(False) >= 1
    broken = run.results[2]
    assert broken.buckets == ["error"]
    assert "cannot answer 'q2'" in broken.checks[0].reason
    assert run.summary["failures"]["error"] == 1
    assert all(r.checks[0].name != "error" for i, r in enumerate(run.results) if i != 2)


def test_failure_buckets_and_tag_breakdown_by_hand() -> None:
    bot = FakeBot(
        {
            "miss": _answer("knowledge", ["a", "b"]),
            "low": _answer("knowledge", ["a", "x"]),
            "route": _answer("out_of_scope", [], abstained=True),
            "abstain-not": _answer("knowledge", ["a"]),
            "abstain-wrong": _answer("knowledge", ["x"], abstained=True),
            "scam-missed": _answer("knowledge", ["s"]),
            "scam-false": _answer("knowledge", ["s"], scam=True),
            "phrase": _answer("knowledge", ["x"], text="hello"),
            "fine": _answer("knowledge", ["x"], text="hello"),
        }
    )
    rows = [
        EvalRow("miss", expect_doc=("x",), tags=("a",)),
        EvalRow("low", expect_doc=("x",), tags=("a",)),
        EvalRow("route", expect_route="knowledge", tags=("a",)),
        EvalRow("abstain-not", expect_abstain=True, tags=("b",)),
        EvalRow("abstain-wrong", expect_doc=("x",), expect_abstain=False, tags=("b",)),
        EvalRow("scam-missed", expect_scam=True, tags=("b",)),
        EvalRow("scam-false", expect_scam=False),
        EvalRow("phrase", must_include=("bye",), tags=("a", "b")),
        EvalRow("fine", expect_doc=("x",), must_include=("hello",), lang="zh", tags=("a",)),
    ]
    run = evaluate(bot, rows)
    assert [r.buckets for r in run.results] == [
        ["retrieval_miss"],
        ["ranked_too_low"],
        ["wrong_route"],
        ["should_have_abstained"],
        ["abstained_wrongly"],
        ["scam_missed"],
        ["false_scam_alarm"],
        ["missing_phrase"],
        [],
    ]
    failures = run.summary["failures"]
    assert sum(failures.values()) == 8 and failures["wrong_language"] == 0
    tag_a = run.summary["by_tag"]["a"]
    assert tag_a["count"] == 5 and tag_a["passed"] == 1 and tag_a["pass_rate"] == 0.2
    # tag a's retrieval rows: miss (rank None), low (rank 2), fine (rank 1)
    assert tag_a["hit_at_1"] == round(1 / 3, 4) and tag_a["mrr"] == round(1.5 / 3, 4)
    assert tag_a["recall_at_k"]["2"] == round(2 / 3, 4)
    assert tag_a["failures"]["retrieval_miss"] == 1 and tag_a["failures"]["scam_missed"] == 0
    tag_b = run.summary["by_tag"]["b"]
    assert tag_b["count"] == 4 and tag_b["abstain_accuracy"] == 0.0
    assert tag_b["scam_recall"] == 0.0 and tag_b["answer_pass_rate"] == 0.0
    assert set(run.summary["by_tag"]) == {"a", "b"}


def test_everything_in_the_results_is_masked() -> None:
    phone, card, idcard = "13812345678", "6222020200112233446", "11010519491231002X"
    q = f"我手机{phone}"
    bot = FakeBot({q: _answer("knowledge", ["x"], text=f"卡号{card}")})
    row = EvalRow(
        q,
        history=({"role": "user", "content": f"身份证{idcard}"},),
        must_not_include=(card,),
        must_include=(idcard,),
    )
    result = evaluate(bot, [row]).results[0]
    text = repr(result)
    for raw in (phone, card, idcard):
        assert raw not in text
    assert result.checks[0].passed is False  # checked on the raw answer, then masked
    assert "6222" in result.answer.text and "3446" in result.answer.text


def test_percentile_is_nearest_rank() -> None:
    values = [5.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0.5) == 2.0
    assert percentile(values, 0.95) == 5.0
    assert percentile(values, 0.25) == 1.0
    assert percentile([], 0.95) == 0.0
