"""The page's 评测 Evaluation tab: upload a FAQ file, watch progress, read the report.

The handler is a plain function (``run_evaluation``), so it is tested without a browser; the
report itself is the same self-contained HTML that ``mingbai eval`` writes.
"""

from __future__ import annotations

import html
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.evaluation import Asker, EvalFileError, evaluate, load_rows
from assistant.evaluation.report import DEFAULT_TARGETS, write_report
from assistant.privacy import mask_personal_data

SHOWN = ("count", "route_accuracy", "hit_at_1", "hit_at_3", "mrr", "answer_pass_rate",
         "abstain_precision", "abstain_recall", "scam_recall", "scam_false_alarm_rate",
         "p50_ms", "p95_ms")  # fmt: skip
LOWER_IS_BETTER = {"scam_false_alarm_rate", "p50_ms", "p95_ms"}
MAX_ROWS = 5000
_PROGRESS = gr.Progress()  # Gradio injects the live tracker for parameters defaulting to one


def summary_markdown(summary: dict[str, Any], bad: list[str], warnings: list[str]) -> str:
    lines = ["| 指标 metric | 值 value | 目标 target |", "| --- | --- | --- |"]
    for key in SHOWN:
        value, goal = summary.get(key), DEFAULT_TARGETS.get(key)
        mark = ""
        if goal is not None and isinstance(value, int | float):
            ok = value <= goal if key in LOWER_IS_BETTER else value >= goal
            mark = " ✅" if ok else " ❌"
        target = "" if goal is None else (f"<= {goal}" if key in LOWER_IS_BETTER else f">= {goal}")
        lines.append(f"| {key} | {value}{mark} | {target} |")
    notes = [f"- 跳过的坏行 skipped bad row: {html.escape(b)}" for b in bad[:20]]
    notes += [f"- 警告 warning: {html.escape(w)}" for w in warnings[:20]]
    return "\n".join([*lines, "", *notes] if notes else lines)


def run_evaluation(
    assistant: Asker,
    file_path: str | None,
    progress: Callable[..., Any] | None = None,
    out_root: Path | None = None,
) -> tuple[str, str | None]:
    """Evaluate an uploaded file; return (Markdown summary, path of report.html or None)."""
    if not file_path:
        return "请先上传文件 Upload a .jsonl, .csv or .yaml file first.", None
    try:
        loaded = load_rows(Path(file_path))
    except EvalFileError as exc:
        message = html.escape(mask_personal_data(str(exc)))
        return f"**无法读取 Cannot read the file**: {message}", None
    if not loaded.rows:
        return "**没有可用的行 No usable rows** — every row was invalid.", None
    if len(loaded.rows) > MAX_ROWS:
        too_many = f"**文件太大 Too many rows**: at most {MAX_ROWS} here; use `mingbai eval`."
        return too_many, None
    total = len(loaded.rows)
    done = 0

    def tick(_: object) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done / total, desc=f"{done}/{total}")

    run = evaluate(assistant, loaded.rows, workers=1, on_result=tick)
    root = out_root or Path(tempfile.gettempdir()) / "mingbai-eval"
    out_dir = root / time.strftime("%Y%m%d-%H%M%S")
    report = write_report(run, out_dir, meta={"file": Path(file_path).name, "source": "web"})
    bad = [mask_personal_data(f"line {b.line}: {b.message}") for b in loaded.bad]
    warnings = [mask_personal_data(w) for w in loaded.warnings]
    return summary_markdown(run.summary, bad, warnings), str(report.html)


def eval_tab(assistant: Asker) -> Callable[[], None]:
    """A builder for ``build_ui(..., extra_tabs=[eval_tab(assistant)])``."""

    def build() -> None:
        with gr.Tab("评测 Evaluation"):
            gr.Markdown(
                "上传 FAQ 评测文件（JSONL、CSV 或 YAML，每行一个 `question`，可选 `expect_doc`、"
                "`expect_route`、`must_include`…），查看指标和报告。 Upload a FAQ file and get the "
                "same report as `mingbai eval`."
            )
            upload = gr.File(label="评测文件 FAQ file", file_types=[".jsonl", ".csv", ".yaml",
                                                                  ".yml"])  # fmt: skip
            start = gr.Button("开始评测 Run evaluation", variant="primary")
            summary = gr.Markdown(elem_id="mb-eval-summary")
            report = gr.File(label="报告 Report (report.html)", elem_id="mb-eval-report")

            def handle(path: str | None, progress: gr.Progress = _PROGRESS) -> tuple[str, Any]:
                return run_evaluation(assistant, path, progress)

            start.click(handle, inputs=upload, outputs=[summary, report],
                        api_visibility="private", concurrency_limit=1)  # fmt: skip

    return build
