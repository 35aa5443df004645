"""``mingbai eval`` and assistant.evaluation.report, with a fake assistant built here (no model)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.answer import Answer, Citation
from assistant.evaluation import HIGHER_IS_BETTER, EvalRow, evaluate, load_rows
from assistant.evaluation import cli as eval_cli
from assistant.evaluation.cli import parse_thresholds
from assistant.evaluation.report import load_run, write_report
from ui.cli import app

runner = CliRunner()
FAQ = Path(__file__).resolve().parents[1] / "knowledge" / "eval" / "faq.jsonl"
PHONE, CARD, IDCARD = "13812345678", "6222020200112233446", "11010519491231002X"


def answer(
    text: str = "不会开通借呗。",
    route: str = "knowledge",
    docs: Sequence[str] = ("x",),
    *,
    abstained: bool = False,
    scam: bool = False,
    title: str = "a title",
) -> Answer:
    cites = [] if abstained else [Citation(docs[0], title, "snippet", 0.9)] if docs else []
    return Answer(
        text,
        route,  # type: ignore[arg-type]
        cites,
        abstained,
        "小心诈骗" if scam else None,
        "zh",
        retrieved=tuple((d, round(0.9 - i / 100, 4)) for i, d in enumerate(docs)),
    )


class FakeAssistant:
    """Hand-made answers by question; anything else gets ``default``."""

    def __init__(self, answers: dict[str, Answer] | None = None, default: Answer | None = None):
        self.answers = answers or {}
        self.default = default or answer()
        self.batches: list[list[str]] = []

    def ask(self, question: str, history: Any = None) -> Answer:
        return self.ask_many([question], [history])[0]

    def ask_many(self, questions: Sequence[str], histories: Any = None) -> list[Answer]:
        self.batches.append(list(questions))
        return [self.answers.get(q, self.default) for q in questions]


@pytest.fixture
def use_bot(monkeypatch: pytest.MonkeyPatch) -> Callable[[FakeAssistant], FakeAssistant]:
    def install(bot: FakeAssistant) -> FakeAssistant:
        monkeypatch.setattr(eval_cli, "assistant_factory", lambda: bot)
        return bot

    install(FakeAssistant())
    return install


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


ROWS = [
    {"question": "在闲鱼买东西会开通借呗吗?", "expect_route": "knowledge", "expect_doc": "x",
     "must_include": "不会", "tags": ["xianyu"]},
    {"question": "今天天气怎么样", "expect_route": "out_of_scope", "expect_abstain": True,
     "tags": ["out_of_scope"]},
    {"question": "买家让我开通借呗才能收款", "expect_scam": True, "tags": ["scam", "xianyu"]},
]  # fmt: skip


def good_bot() -> FakeAssistant:
    return FakeAssistant(
        {
            ROWS[1]["question"]: answer("我不知道。", "out_of_scope", (), abstained=True),
            ROWS[2]["question"]: answer(scam=True),
        }
    )


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["eval", *args])


# -- the command -----------------------------------------------------------------------------
def test_a_clean_run_writes_three_files_and_exits_0(tmp_path: Path, use_bot: Any) -> None:
    bot = use_bot(good_bot())
    faq = write_jsonl(tmp_path / "faq.jsonl", ROWS)
    result = invoke(str(faq), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"results.jsonl", "summary.json", "report.html"}
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    for key in ("count", "route_accuracy", "hit_at_1", "hit_at_3", "mrr", "ndcg_at_10",
                "answer_pass_rate", "abstain_accuracy", "abstain_precision", "abstain_recall",
                "scam_precision", "scam_recall", "p50_ms", "p95_ms", "by_tag",
                "failures"):  # fmt: skip
        assert key in summary, key
    assert summary["count"] == 3 and summary["passed"] == 3
    assert summary["by_tag"]["xianyu"]["count"] == 2
    records = [json.loads(x) for x in (out / "results.jsonl").read_text("utf-8").splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3]
    first = records[0]
    assert first["answer"] == "不会开通借呗。" and first["route"] == "knowledge"
    assert first["citations"][0]["doc_id"] == "x"
    assert {c["name"]: c["passed"] for c in first["checks"]} == {
        "route": True, "doc": True, "include": True
    }  # fmt: skip
    assert all(c["reason"] for c in first["checks"]) and "latency_ms" in first
    assert bot.batches == [[r["question"] for r in ROWS]]
    assert "route_accuracy" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == f"report: {out / 'report.html'}"


def test_default_out_is_a_timestamped_folder_under_eval_out(
    tmp_path: Path, use_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    faq = write_jsonl(tmp_path / "faq.jsonl", ROWS[:1])
    assert invoke(str(faq)).exit_code == 0
    (run_dir,) = (tmp_path / "eval-out").iterdir()
    assert re.fullmatch(r"\d{8}-\d{6}", run_dir.name)
    assert (run_dir / "report.html").is_file()


def test_fail_under_lists_each_failing_metric(tmp_path: Path, use_bot: Any) -> None:
    use_bot(FakeAssistant(default=answer(route="whatif")))  # every route wrong, doc still right
    faq = write_jsonl(tmp_path / "faq.jsonl", ROWS[:2])
    args = [str(faq), "--out", str(tmp_path / "o")]
    result = invoke(*args, "--fail-under", "route_accuracy=0.98", "--fail-under",
                    "hit_at_3=0.5,mrr=0.5", "--fail-under", "scam_recall=0.9")  # fmt: skip
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: route_accuracy = 0, below --fail-under 0.98",
        "error: scam_recall = n/a (no question measures it), below --fail-under 0.9",
    ]
    assert invoke(*args, "--fail-under", "hit_at_3=1,mrr=1").exit_code == 0
    over = invoke(*args, "--fail-over", "scam_false_alarm_rate=0.03", "--fail-over", "p95_ms=-1")
    assert over.exit_code == 1
    assert "scam_false_alarm_rate = n/a (no question measures it), above" in over.stderr
    assert re.search(r"error: p95_ms = [\d.e-]+, above --fail-over -1\n", over.stderr)
    assert invoke(*args, "--fail-over", "p95_ms=1e9").exit_code == 0


def test_gate_uses_the_targets_file_and_the_command_line_adds_to_it(
    tmp_path: Path, use_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.evaluation import targets as eval_targets

    targets = tmp_path / "targets.yaml"
    targets.write_text("at_least: {route_accuracy: 0.98}\nat_most: {p95_ms: 1000000000}\n", "utf-8")
    monkeypatch.setattr(eval_targets, "TARGETS_PATH", targets)
    use_bot(FakeAssistant(default=answer(route="whatif")))  # every route wrong
    faq = write_jsonl(tmp_path / "faq.jsonl", ROWS[:2])
    args = [str(faq), "--out", str(tmp_path / "o")]
    assert invoke(*args).exit_code == 0  # no gate asked
    gated = invoke(*args, "--gate")
    assert gated.exit_code == 1
    assert "error: route_accuracy = 0, below --fail-under 0.98" in gated.stderr
    both = invoke(*args, "--gate", "--fail-under", "hit_at_3=1.1")
    assert "hit_at_3 = 1, below --fail-under 1.1" in both.stderr
    targets.write_text("at_least: {speed: 1}\n", "utf-8")
    eval_targets._load.cache_clear()
    bad = invoke(*args, "--gate")
    assert bad.exit_code == 2 and "at_least.speed: not a metric" in bad.stderr
    eval_targets._load.cache_clear()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--fail-under", "speed=0.9"], "unknown metric 'speed'; valid metrics: pass_rate, "),
        (["--fail-under", "p95_ms=60"], "lower is better, so use --fail-over p95_ms=60"),
        (["--fail-over", "mrr=0.3"], "higher is better, so use --fail-under mrr=0.3"),
        (["--fail-under", "mrr"], "expects METRIC=VALUE"),
        (["--fail-under", "mrr=high"], "'high' is not a number"),
        (["--compare", "nowhere"], "no results.jsonl and summary.json here"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, use_bot: Any, args: list[str], words: str) -> None:
    faq = write_jsonl(tmp_path / "faq.jsonl", ROWS[:1])
    result = invoke(str(faq), "--out", str(tmp_path / "o"), *args)
    assert result.exit_code == 2
    assert words in result.stderr
    assert not (tmp_path / "o").exists()  # nothing ran


def test_unknown_metric_error_lists_every_valid_name() -> None:
    with pytest.raises(eval_cli.UsageError) as err:
        parse_thresholds(["nope=1"], lower=False)
    for name in HIGHER_IS_BETTER:
        assert name in str(err.value)


def test_thresholds_repeat_or_share_one_flag_with_commas() -> None:
    assert parse_thresholds(["hit_at_3=0.9", "mrr=0.8,ndcg_at_10=0.7"], lower=False) == {
        "hit_at_3": 0.9, "mrr": 0.8, "ndcg_at_10": 0.7}  # fmt: skip


def test_bad_rows_are_listed_with_lines_and_fail_unless_skip_bad(
    tmp_path: Path, use_bot: Any
) -> None:
    faq = tmp_path / "faq.jsonl"
    faq.write_text(
        json.dumps(ROWS[0], ensure_ascii=False) + '\n{"question": ""}\nnot json\n'
        '{"question": "q", "colour": "red"}\n',
        encoding="utf-8",
    )
    result = invoke(str(faq), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert f"{faq}:2: 'question' is required" in result.stderr
    assert f"{faq}:3: not valid JSON" in result.stderr
    assert "warning:" in result.stderr and "unknown column 'colour' (line 4)" in result.stderr
    assert "2 bad rows skipped" in result.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    assert summary["count"] == 2 and len(summary["meta"]["bad_rows"]) == 2
    skipped = invoke(str(faq), "--out", str(tmp_path / "o2"), "--skip-bad")
    assert skipped.exit_code == 0 and f"{faq}:3" in skipped.stderr


@pytest.mark.parametrize(
    ("content", "words"), [("", "the file has no questions"), (None, "no such file")]
)
def test_empty_or_missing_file_is_a_one_line_error(
    tmp_path: Path, use_bot: Any, content: str | None, words: str
) -> None:
    faq = tmp_path / "faq.jsonl"
    if content is not None:
        faq.write_text(content, encoding="utf-8")
    result = invoke(str(faq), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert words in result.stderr and str(faq) in result.stderr


def test_all_rows_bad_is_an_error(tmp_path: Path, use_bot: Any) -> None:
    faq = tmp_path / "faq.csv"
    faq.write_text("question,expect_route\n,knowledge\n", encoding="utf-8")
    result = invoke(str(faq), "--out", str(tmp_path / "o"), "--skip-bad")
    assert result.exit_code == 1 and "no usable rows (1 bad" in result.stderr


def test_workers_2_writes_the_same_results_as_workers_1(tmp_path: Path, use_bot: Any) -> None:
    use_bot(good_bot())
    rows = [{**ROWS[i % 3], "id": f"r{i}"} for i in range(100)]
    faq = write_jsonl(tmp_path / "faq.jsonl", rows)

    def results(workers: str) -> list[dict[str, Any]]:
        out = tmp_path / f"w{workers}"
        args = ["--workers", workers, "--batch-size", "8"]
        assert invoke(str(faq), "--out", str(out), *args).exit_code == 0
        lines = (out / "results.jsonl").read_text("utf-8").splitlines()
        return [{k: v for k, v in json.loads(x).items() if k != "latency_ms"} for x in lines]

    assert results("2") == results("1")


# -- compare ---------------------------------------------------------------------------------
def test_compare_lists_regressions_first_then_fixes(tmp_path: Path, use_bot: Any) -> None:
    rows = [{"question": f"问题{i}", "expect_doc": "x", "tags": ["t"]} for i in range(4)]
    faq = write_jsonl(tmp_path / "faq.jsonl", rows)
    wrong = answer(docs=("y", "x"))
    use_bot(FakeAssistant({"问题3": wrong}))
    assert invoke(str(faq), "--out", str(tmp_path / "before")).exit_code == 0
    use_bot(FakeAssistant({"问题1": wrong, "问题2": answer(docs=("z",))}))
    before, after = str(tmp_path / "before"), str(tmp_path / "after")
    result = invoke(str(faq), "--out", after, "--compare", before)
    assert result.exit_code == 0, result.output
    assert "2 newly failing, 1 fixed" in result.stdout
    summary = json.loads((tmp_path / "after" / "summary.json").read_text("utf-8"))
    cmp = summary["comparison"]
    # worst first: a retrieval miss (问题2) before an entry ranked too low (问题1)
    assert [r["line"] for r in cmp["regressions"]] == [3, 2]
    assert [r["line"] for r in cmp["fixed"]] == [4]
    assert cmp["deltas"]["hit_at_1"] == {"before": 0.75, "after": 0.5, "delta": -0.25}
    page = (tmp_path / "after" / "report.html").read_text("utf-8")
    regress, fixed = page.index("Regressions"), page.index("Fixed (failed before")
    assert page.index("Compared with the previous run") < page.index("<h2>Summary")
    assert regress < page.index("问题2") < page.index("问题1") < fixed < page.index("问题3")


# -- the report ------------------------------------------------------------------------------
def test_markup_from_questions_and_answers_is_escaped(tmp_path: Path, use_bot: Any) -> None:
    evil = "<script>alert(1)</script>"
    use_bot(FakeAssistant(default=answer(f"answer {evil}", docs=(f"doc{evil}",), title=evil)))
    rows = [{"question": f"q {evil}", "expect_doc": "x", "tags": [evil], "must_include": evil}]
    faq = write_jsonl(tmp_path / "faq.jsonl", rows)
    assert invoke(str(faq), "--out", str(tmp_path / "o"), "--skip-bad").exit_code == 0
    page = (tmp_path / "o" / "report.html").read_text("utf-8")
    assert "<script" not in page and "alert(1)</" not in page
    assert "q &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "answer &lt;script&gt;" in page and "doc&lt;script&gt;" in page


def test_report_is_self_contained_and_phone_ready(tmp_path: Path, use_bot: Any) -> None:
    use_bot(good_bot())
    faq = write_jsonl(tmp_path / "faq.jsonl", ROWS)
    assert invoke(str(faq), "--out", str(tmp_path / "o")).exit_code == 0
    page = (tmp_path / "o" / "report.html").read_text("utf-8")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "max-width" in page and "overflow-x:auto" in page and "PingFang SC" in page
    assert page.count('src="data:image/png;base64,') == 3  # tags, latency, recall@k
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "<link" not in page and "<script" not in page


def test_personal_numbers_are_masked_in_all_three_outputs(tmp_path: Path, use_bot: Any) -> None:
    use_bot(FakeAssistant(default=answer(f"你的卡{CARD}，手机{PHONE}", title=f"身份证{IDCARD}")))
    rows = [
        {"question": f"我的手机{PHONE}和身份证{IDCARD}", "expect_doc": "y",
         "must_not_include": [CARD], "history": [{"role": "user", "content": f"卡{CARD}"}]},
        {"question": f"卡号{CARD}", "expect_route": f"x{PHONE}"},
    ]  # fmt: skip
    faq = write_jsonl(tmp_path / "faq.jsonl", rows)
    result = invoke(str(faq), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1  # the second row is bad
    for name in ("results.jsonl", "summary.json", "report.html"):
        text = (tmp_path / "o" / name).read_text("utf-8")
        for raw in (PHONE, CARD, IDCARD):
            assert raw not in text, (name, raw)
    for raw in (PHONE, CARD, IDCARD):
        assert raw not in result.output
    assert "138****5678" in (tmp_path / "o" / "results.jsonl").read_text("utf-8")


def _synthetic(n: int, *, failing: bool) -> Any:
    long_text = "这是一个很长的回答，包含很多细节。" * 200  # ~3,400 characters
    rows = [
        EvalRow(f"第{i}个问题：花呗和借呗有什么区别？" * 3, line=i + 1, expect_route="knowledge",
                expect_doc=("x",), must_include=("区别",), tags=(f"tag{i % 25}", "all"))
        for i in range(n)
    ]  # fmt: skip
    bad = answer(long_text, docs=tuple(f"doc-{j}" for j in range(10)))
    good = answer(long_text + "区别", docs=("x",))
    bot = FakeAssistant(default=bad if failing else good)
    return evaluate(bot, rows), long_text


def test_report_for_1000_failing_questions_stays_under_5_mb(tmp_path: Path) -> None:
    before, _ = _synthetic(1000, failing=False)
    write_report(before, tmp_path / "before")
    run, long_text = _synthetic(1000, failing=True)
    report = write_report(run, tmp_path / "after", previous=load_run(tmp_path / "before"))
    assert report.comparison is not None and len(report.comparison.regressions) == 1000
    assert report.html.stat().st_size < 5_000_000
    page = report.html.read_text("utf-8")
    assert page.count("<article") == 1000 and long_text not in page  # cut in the report...
    assert "more characters in results.jsonl" in page
    first = json.loads(report.results.read_text("utf-8").splitlines()[0])
    assert first["answer"] == long_text  # ...whole in results.jsonl


def test_formats_load_the_same_run(tmp_path: Path, use_bot: Any) -> None:
    use_bot(good_bot())
    csv = tmp_path / "faq.csv"
    csv.write_text(
        "question,expect_route,expect_doc,expect_abstain,expect_scam,must_include,tags\n"
        + "".join(
            f"{r['question']},{r.get('expect_route', '')},{r.get('expect_doc', '')},"
            f"{r.get('expect_abstain', '')},{r.get('expect_scam', '')},"
            f"{r.get('must_include', '')},{'|'.join(r['tags'])}\n"
            for r in ROWS
        ),
        encoding="utf-8",
    )
    yaml_file = tmp_path / "faq.yaml"
    yaml_file.write_text(
        "".join(
            "- " + "\n  ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in r.items())
            + "\n"
            for r in ROWS
        ),
        encoding="utf-8",
    )
    summaries = []
    for path in (write_jsonl(tmp_path / "faq.jsonl", ROWS), csv, yaml_file):
        assert load_rows(path).bad == []
        assert invoke(str(path), "--out", str(tmp_path / path.suffix)).exit_code == 0
        s = json.loads((tmp_path / path.suffix / "summary.json").read_text("utf-8"))
        untimed = {tag: {k: v for k, v in m.items() if not k.endswith("_ms")}
                   for tag, m in s["by_tag"].items()}  # latencies differ run to run
        summaries.append({**{k: s[k] for k in ("count", "passed", "route_accuracy")},
                          "by_tag": untimed})
    assert summaries[0] == summaries[1] == summaries[2]
    assert summaries[0]["by_tag"]["xianyu"]["passed"] == 2


# -- the real assistant, once ----------------------------------------------------------------
@pytest.mark.slow
def test_real_assistant_end_to_end(bot: Any, tmp_path: Path) -> None:
    loaded = load_rows(FAQ)
    run = evaluate(bot, loaded.rows[:50], workers=2, batch_size=16)
    report = write_report(run, tmp_path / "run", meta={"file": str(FAQ)})
    assert run.summary["count"] == 50
    assert run.summary["route_accuracy"] is not None and run.summary["route_accuracy"] >= 0.9
    assert len(report.results.read_text("utf-8").splitlines()) == 50
    assert json.loads(report.summary.read_text("utf-8"))["count"] == 50
    assert report.html.read_text("utf-8").count("data:image/png;base64,") == 3
