"""Write an evaluation run to a folder: ``results.jsonl``, ``summary.json`` and ``report.html``.

The report is one self-contained file (inline CSS, plots as base64 PNG from ``plots``)
that reads on a phone. Every text that came from a question, an answer or an entry is
HTML-escaped and has personal numbers masked; long answers are cut in the report only.

>>> before = load_run(Path("eval-out/before"))  # doctest: +SKIP
>>> report = write_report(run, Path("eval-out/now"), previous=before)  # doctest: +SKIP
>>> report.html, len(report.comparison.regressions)  # doctest: +SKIP
(PosixPath('eval-out/now/report.html'), 2)
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from assistant.evaluation.plots import MAX_TAG_BARS as MAX_TAG_BARS  # re-exported
from assistant.evaluation.plots import cjk_font as cjk_font  # re-exported
from assistant.evaluation.plots import latency_histogram, recall_curve, tag_bars
from assistant.evaluation.run import FAILURE_BUCKETS, METRICS, EvalFileError, EvalRun, RowResult
from assistant.evaluation.targets import load_targets
from assistant.privacy import mask_personal_data

# The targets, shown in every report; gated only when asked (`mingbai eval --gate`/--fail-under).
DEFAULT_TARGETS = load_targets().all()
ANSWER_CHARS = 400  # the report cuts answers here; results.jsonl keeps them whole
QUESTION_CHARS = 600
# How bad a failure is, to list the worst first (safety first, then wrong answers, then form).
SEVERITY = {
    "error": 9, "scam_missed": 8, "should_have_abstained": 7, "wrong_route": 6,
    "false_scam_alarm": 5, "abstained_wrongly": 5, "retrieval_miss": 4, "ranked_too_low": 3,
    "missing_phrase": 2, "wrong_language": 2,
}  # fmt: skip


@dataclass(frozen=True)
class PreviousRun:
    path: Path
    summary: dict[str, Any]
    records: list[dict[str, Any]]


@dataclass
class Comparison:
    previous: Path
    deltas: dict[str, tuple[float | None, float | None]]  # metric -> (before, after)
    regressions: list[dict[str, Any]]  # passed before, fail now (worst first)
    fixed: list[dict[str, Any]]  # failed before, pass now
    added: int = 0
    removed: int = 0
    previous_recall: dict[str, float | None] = field(default_factory=dict)
    previous_failures: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous": str(self.previous),
            "deltas": {
                m: {"before": b, "after": a, "delta": _delta(b, a)}
                for m, (b, a) in self.deltas.items()
            },
            "regressions": [_ref(r) for r in self.regressions],
            "fixed": [_ref(r) for r in self.fixed],
            "added": self.added,
            "removed": self.removed,
        }


@dataclass(frozen=True)
class Report:
    html: Path
    results: Path
    summary: Path
    comparison: Comparison | None


def _ref(record: dict[str, Any]) -> dict[str, Any]:
    return {"line": record["line"], "key": record["key"], "failures": record["failures"]}


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 4)


# -- records ----------------------------------------------------------------------------------
def result_record(r: RowResult) -> dict[str, Any]:
    """One line of results.jsonl (masked again here: whatever is written out is masked)."""
    m = mask_personal_data
    row, ans = r.row, r.answer
    return {
        "line": row.line,
        "id": row.id,
        "question": m(row.question),
        "history": [{"role": h["role"], "content": m(h["content"])} for h in row.history],
        "tags": list(row.tags),
        "passed": r.passed,
        "failures": r.buckets,
        "answer": m(ans.text),
        "route": ans.route,
        "abstained": ans.abstained,
        "scam_warning": None if ans.scam_warning is None else m(ans.scam_warning),
        "language": ans.language,
        "citations": [
            {"doc_id": c.doc_id, "title": m(c.title), "score": c.score, "snippet": m(c.snippet)}
            for c in ans.citations
        ],
        "retrieved": [list(pair) for pair in ans.retrieved],
        "rank": r.rank,
        "checks": [{"name": c.name, "passed": c.passed, "reason": m(c.reason)} for c in r.checks],
        "latency_ms": round(r.latency_ms, 2),
    }


def records_of(results: list[RowResult]) -> list[dict[str, Any]]:
    """Records with a ``key`` to match questions across runs: the id, else the question text."""
    records = [result_record(r) for r in results]
    _add_keys(records)
    return records


def _add_keys(records: list[dict[str, Any]]) -> None:
    seen: Counter[str] = Counter()
    for rec in records:
        base = rec.get("id") or rec["question"] + "".join(h["content"] for h in rec["history"])
        seen[base] += 1
        rec["key"] = base if seen[base] == 1 else f"{base}#{seen[base]}"


def severity(record: dict[str, Any]) -> tuple[int, int, int]:
    """Sort key, worst first: bucket weights, then failed checks, then file order."""
    weight = sum(SEVERITY.get(b, 1) for b in record["failures"])
    failed = sum(1 for c in record["checks"] if not c["passed"])
    return (-weight, -failed, record["line"])


def load_run(path: Path) -> PreviousRun:
    """An earlier run's folder (for --compare): its summary.json and results.jsonl."""
    results, summary = path / "results.jsonl", path / "summary.json"
    if not results.is_file() or not summary.is_file():
        raise EvalFileError(
            f"{path}: no results.jsonl and summary.json here; --compare takes the --out "
            "folder of an earlier `mingbai eval` run"
        )
    records = []
    try:
        for i, line in enumerate(results.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise EvalFileError(f"{results}:{i}: not valid JSON ({exc.msg})") from None
        data = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalFileError(f"{path}: cannot read the earlier run ({exc})") from None
    if "key" not in (records[0] if records else {"key": 1}):
        _add_keys(records)
    return PreviousRun(path, data, records)


def compare_runs(
    previous: PreviousRun, summary: dict[str, Any], records: list[dict[str, Any]]
) -> Comparison:
    before = {r["key"]: r for r in previous.records}
    now = {r["key"]: r for r in records}
    both = [(before[k], r) for k, r in now.items() if k in before]
    regressions = [r for b, r in both if b["passed"] and not r["passed"]]
    fixed = [r for b, r in both if not b["passed"] and r["passed"]]
    return Comparison(
        previous=previous.path,
        deltas={m: (previous.summary.get(m), summary.get(m)) for m in METRICS},
        regressions=sorted(regressions, key=severity),
        fixed=sorted(fixed, key=lambda r: r["line"]),
        added=sum(1 for k in now if k not in before),
        removed=sum(1 for k in before if k not in now),
        previous_recall=previous.summary.get("recall_at_k") or {},
        previous_failures=previous.summary.get("failures") or {},
    )


def write_report(
    run: EvalRun,
    out_dir: Path,
    *,
    targets: dict[str, float] | None = None,
    previous: PreviousRun | None = None,
    meta: dict[str, Any] | None = None,
) -> Report:
    """Write results.jsonl, summary.json and report.html into ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    records = records_of(run.results)
    comparison = compare_runs(previous, run.summary, records) if previous else None
    goals = {**DEFAULT_TARGETS, **(targets or {})}
    meta = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), **(meta or {})}
    paths = Report(out_dir / "report.html", out_dir / "results.jsonl", out_dir / "summary.json",
                   comparison)  # fmt: skip
    with paths.results.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    doc = {**run.summary, "targets": goals, "meta": meta,
           "comparison": comparison.to_dict() if comparison else None}  # fmt: skip
    paths.summary.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    paths.html.write_text(render_html(run.summary, records, goals, comparison, meta), "utf-8")
    return paths


# -- HTML -------------------------------------------------------------------------------------
def fmt(metric: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if metric.endswith("_ms"):
        return f"{value:.1f} ms"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def meets(metric: str, value: float | None, target: float) -> bool:
    if value is None:
        return False
    return value >= target if METRICS.get(metric, True) else value <= target


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters in results.jsonl]"


CSS = """
*{box-sizing:border-box}
body{margin:0;color:#1f2328;background:#fff;font:15px/1.55 system-ui,-apple-system,"PingFang SC",
"Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",
sans-serif}
main{max-width:960px;margin:0 auto;padding:12px}
h1{font-size:1.35em;margin:.4em 0}
h2{font-size:1.12em;margin-top:1.6em;border-bottom:1px solid #d0d7de}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.5em 0}
table{border-collapse:collapse;min-width:100%;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid #d0d7de;text-align:left;white-space:nowrap}
th{background:#f6f8fa}td.n{text-align:right}td.w{white-space:normal;min-width:12em}td.s{min-width:7em}
.ok{color:#1a7f37}.bad{color:#cf222e}.muted{color:#57606a;font-size:.9em}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
article{border:1px solid #d0d7de;border-radius:6px;padding:6px 10px;margin:10px 0;
overflow-wrap:anywhere}
article h3{font-size:1em;margin:.2em 0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:8px;border-radius:4px;
font:inherit;font-size:.92em;margin:.4em 0}
.b{display:inline-block;font-size:.8em;padding:0 7px;border-radius:10px;background:#ffebe9;
color:#cf222e;margin:1px 4px 1px 0}
ul,ol{padding-left:1.3em;margin:.3em 0}
"""


Cell = dict[str, str]  # {"text", "cls"?, "href"?}: escaped by the template, never here


def _c(text: Any, cls: str = "", href: str = "") -> Cell:
    return {"text": str(text), "cls": cls, "href": href}


def _summary_rows(
    summary: dict[str, Any], targets: dict[str, float], cmp: Comparison | None
) -> list[list[Cell]]:
    rows = []
    for metric in ["count", "passed", "retrieval_count", *METRICS]:
        value = summary.get(metric)
        cells = [_c(metric), _c(fmt(metric, value), "n")]
        if metric in targets:
            ok = meets(metric, value, targets[metric])
            sign = "≥" if METRICS.get(metric, True) else "≤"
            cells.append(_c(f"{sign} {fmt(metric, targets[metric])} {'✓' if ok else '✗'}",
                            "n ok" if ok else "n bad"))  # fmt: skip
        else:
            cells.append(_c(""))
        if cmp and metric in METRICS:
            before, after = cmp.deltas[metric]
            d = _delta(before, after)
            better = d is not None and d != 0 and (d > 0) == METRICS[metric]
            cls = "" if not d else ("ok" if better else "bad")
            cells += [_c(fmt(metric, before), "n"),
                      _c("" if d is None else f"{d:+.4f}", f"n {cls}".strip())]  # fmt: skip
        elif cmp:
            cells += [_c(""), _c("")]
        rows.append(cells)
    return rows


TAG_COLUMNS = ["pass_rate", "route_accuracy", "hit_at_3", "mrr", "answer_pass_rate",
               "abstain_accuracy", "scam_recall", "p95_ms"]  # fmt: skip


def _tag_rows(by_tag: dict[str, dict[str, Any]]) -> list[list[Cell]]:
    return [
        [_c(i, "n"), _c(tag), _c(m["count"], "n")]
        + [_c(fmt(col, m.get(col)), "n") for col in TAG_COLUMNS]
        for i, (tag, m) in enumerate(sorted(by_tag.items()), 1)
    ]


def _bucket_rows(summary: dict[str, Any], cmp: Comparison | None) -> list[list[Cell]]:
    failures = summary.get("failures", {})
    rows = []
    for name, label in FAILURE_BUCKETS.items():
        cells = [_c(failures.get(name, 0), "n"), _c(label, "w")]
        if cmp:
            d = failures.get(name, 0) - cmp.previous_failures.get(name, 0)
            cells.append(_c(f"{d:+d}" if d else "", "n " + ("bad" if d > 0 else "ok")))
        rows.append(cells)
    return rows


def _card(rec: dict[str, Any], anchor: str) -> dict[str, Any]:
    facts = (f"route {rec['route']} · abstained {rec['abstained']} · scam warning "
             f"{rec['scam_warning'] is not None} · {rec['language']} · rank {rec['rank']} · "
             f"{rec['latency_ms']:.1f} ms · tags {', '.join(rec['tags']) or '-'}")  # fmt: skip
    return {
        "anchor": anchor, "line": rec["line"], "failures": rec["failures"],
        "question": _cut(rec["question"], QUESTION_CHARS),
        "history": [f"{h['role']}: {_cut(h['content'], 200)}" for h in rec["history"]],
        "failed": [f"{c['name']}: {c['reason']}" for c in rec["checks"] if not c["passed"]],
        "facts": facts, "answer": _cut(rec["answer"], ANSWER_CHARS),
        "citations": [f"{c['doc_id']} — {c['title']} ({c['score']})" for c in rec["citations"]],
        "retrieved": ", ".join(d for d, _ in rec["retrieved"][:5]) or "none",
    }  # fmt: skip


def _change_rows(records: list[dict[str, Any]], anchors: dict[str, str]) -> list[list[Cell]]:
    return [
        [_c(r["line"], "n", "" if r["passed"] else anchors[r["key"]]),
         _c(_cut(r["question"], 160), "w"), _c(", ".join(r["failures"]) or "passes now", "w s")]
        for r in records
    ]  # fmt: skip


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip
    return env.get_template("report.html.j2")


def render_html(
    summary: dict[str, Any],
    records: list[dict[str, Any]],
    targets: dict[str, float],
    cmp: Comparison | None = None,
    meta: dict[str, Any] | None = None,
) -> str:
    """The report page: ``report.html.j2``, rendered with autoescape (a question or an answer
    holding ``<script>`` shows as text)."""
    meta = meta or {}
    failing = sorted((r for r in records if not r["passed"]), key=severity)
    anchors = {r["key"]: f"q{i}" for i, r in enumerate(records)}
    by_tag = summary.get("by_tag", {})
    recall = recall_curve(summary.get("recall_at_k", {}), cmp.previous_recall if cmp else None)
    comparison = None
    if cmp:
        comparison = {
            "previous": cmp.previous, "regressions": len(cmp.regressions),
            "fixed": len(cmp.fixed), "added": cmp.added, "removed": cmp.removed,
            "regression_rows": _change_rows(cmp.regressions, anchors),
            "fixed_rows": _change_rows(cmp.fixed, anchors),
        }  # fmt: skip
    page = _template().render(
        title=f"明白 Mingbai · 评测 Evaluation · {meta.get('file', '')}", css=CSS,
        info=" · ".join(f"{k}: {v}" for k, v in meta.items() if not isinstance(v, list)),
        notes=[x for k in ("bad_rows", "warnings") for x in meta.get(k, [])],
        passed=summary.get("passed", 0), count=summary.get("count", 0), cmp=comparison,
        summary_head=["metric", "value", "target"] + (["before", "change"] if cmp else []),
        summary_rows=_summary_rows(summary, targets, cmp),
        bucket_head=["questions", "bucket"] + (["change"] if cmp else []),
        bucket_rows=_bucket_rows(summary, cmp),
        tag_head=["#", "tag", "n", *TAG_COLUMNS], tag_rows=_tag_rows(by_tag),
        tag_plot=tag_bars(by_tag) if by_tag else "",
        latency_plot=latency_histogram([r["latency_ms"] for r in records], summary),
        recall_plot=recall, cards=[_card(r, anchors[r["key"]]) for r in failing],
    )  # fmt: skip
    return page.rstrip("\n") + "\n"
