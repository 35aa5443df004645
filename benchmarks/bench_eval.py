"""Benchmark ``mingbai eval``: ``python -m benchmarks.bench_eval`` prints JSON.

Builds a 1,000-question JSONL file by cycling ``knowledge/eval/faq.jsonl``, then, with the real
assistant (warm: the model is loaded first), times ``evaluate`` with 1 and 2 workers and the
report writing, and measures report.html. Per-question latency inside a run is the wall time of
its batch divided by the batch size.

Targets (issue 5): 1,000 questions in <= 60 s on 2 cores; the report under 5 MB.
"""

from __future__ import annotations

import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

FAQ = Path(__file__).resolve().parents[1] / "knowledge" / "eval" / "faq.jsonl"
N = 1000


def build_file(path: Path, n: int = N) -> Path:
    lines = [line for line in FAQ.read_text(encoding="utf-8").splitlines() if line.strip()]
    path.write_text("\n".join(itertools.islice(itertools.cycle(lines), n)) + "\n", "utf-8")
    return path


def run(n: int = N, repeats: int = 3) -> dict[str, Any]:
    """Every measurement as a JSON-ready dict (wall times: median of ``repeats``)."""
    from assistant import Assistant
    from assistant.evaluation import evaluate, load_rows
    from assistant.evaluation.report import write_report

    t0 = time.perf_counter()
    bot = Assistant()
    bot.wait_ready()
    ready_s = round(time.perf_counter() - t0, 2)
    out: dict[str, Any] = {"questions": n, "repeats": repeats, "assistant_ready_s": ready_s}
    with tempfile.TemporaryDirectory() as tmp:
        rows = load_rows(build_file(Path(tmp) / "faq1000.jsonl", n)).rows
        evaluate(bot, rows[:64])  # warm caches (jieba, Chroma) outside the timings
        answers: dict[int, list[Any]] = {}
        walls: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(repeats):  # alternate, so load from elsewhere hits both alike
            for workers in (1, 2):
                t0 = time.perf_counter()
                result = evaluate(bot, rows, workers=workers)
                walls[workers].append(time.perf_counter() - t0)
                answers[workers] = [(r.answer.text, r.answer.route, r.rank) for r in result.results]
                t1 = time.perf_counter()
                report = write_report(result, Path(tmp) / f"w{workers}")
                out[f"workers_{workers}"] = {
                    "wall_s": round(statistics.median(walls[workers]), 2),
                    "wall_s_min": round(min(walls[workers]), 2),
                    "questions_per_s": round(n / statistics.median(walls[workers]), 1),
                    "report_s": round(time.perf_counter() - t1, 2),
                    "p50_ms": result.summary["p50_ms"],
                    "p95_ms": result.summary["p95_ms"],
                }
                out["report_bytes"] = report.html.stat().st_size
                out["results_bytes"] = report.results.stat().st_size
        out["workers_2_same_answers"] = answers[1] == answers[2]
    out["targets_met"] = {
        "1000_questions_le_60s": min(out["workers_1"]["wall_s"], out["workers_2"]["wall_s"]) <= 60,
        "report_lt_5mb": out["report_bytes"] < 5_000_000,
    }
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
