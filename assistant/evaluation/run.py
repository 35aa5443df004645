"""Batch evaluation against a FAQ file: deterministic checks, no LLM judge.

``load_rows`` reads JSONL, CSV or YAML (a bad row is reported with its line, not fatal; see
``rows``); ``evaluate`` asks in batches through ``ask_many``, optionally on a thread pool;
``summarize`` gives the metrics overall and per tag, with failure buckets (retrieval metrics in
``metrics``). Results are masked throughout.

>>> from assistant.evaluation import evaluate, load_rows  # doctest: +SKIP
>>> run = evaluate(bot, load_rows("knowledge/eval/faq.jsonl").rows, workers=2)  # doctest: +SKIP
>>> run.summary["hit_at_3"], run.summary["by_tag"]["english"]["route_accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from assistant.answer import Answer
from assistant.errors import MingbaiError
from assistant.evaluation.metrics import K_MAX, recall_at_k, retrieval_metrics
from assistant.evaluation.rows import (
    FORMATS,
    KNOWN_COLUMNS,
    LIST_COLUMNS,
    BadRow,
    EvalFileError,
    EvalRow,
    LoadedRows,
    Records,
    load_rows,
)
from assistant.privacy import mask_personal_data

__all__ = [  # the file loading and retrieval metrics are re-exported from their own modules
    "FAILURE_BUCKETS", "FORMATS", "HIGHER_IS_BETTER", "KNOWN_COLUMNS", "K_MAX", "LIST_COLUMNS",
    "LOWER_IS_BETTER", "METRICS", "Asker", "BadRow", "Check", "EvalFileError", "EvalRow",
    "EvalRun", "LoadedRows", "Records", "RowResult", "check_row", "evaluate", "load_rows",
    "recall_at_k", "retrieval_metrics", "summarize",
]  # fmt: skip

HIGHER_IS_BETTER = (
    "pass_rate", "route_accuracy", "hit_at_1", "hit_at_3", "mrr", "ndcg_at_10",
    "answer_pass_rate", "abstain_accuracy", "abstain_precision", "abstain_recall",
    "scam_precision", "scam_recall", "language_accuracy",
    "parts_accuracy", "clarify_accuracy", "clarify_suggestion_hit", "handoff_accuracy",
    "no_scam_after_accuracy", "lookup_accuracy", "smalltalk_accuracy",
)  # fmt: skip
LOWER_IS_BETTER = ("scam_false_alarm_rate", "p50_ms", "p95_ms")
# Every scalar metric of a summary: True when higher is better.
METRICS = {**dict.fromkeys(HIGHER_IS_BETTER, True), **dict.fromkeys(LOWER_IS_BETTER, False)}
# Why a question failed; one question can land in several buckets.
FAILURE_BUCKETS = {
    "retrieval_miss": "retrieval miss: no expected entry in the top 10",
    "ranked_too_low": "ranked too low: an expected entry was retrieved but not cited",
    "wrong_route": "wrong route",
    "should_have_abstained": "should have abstained",
    "abstained_wrongly": "abstained wrongly",
    "missing_phrase": "missing phrase (or a forbidden one present)",
    "scam_missed": "scam missed",
    "false_scam_alarm": "false scam alarm",
    "wrong_language": "answered in the wrong language",
    "error": "the assistant raised an error",
}


class Asker(Protocol):
    def ask(self, question: str, history: Any = None) -> Answer: ...


# -- checking ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    reason: str


@dataclass
class RowResult:
    row: EvalRow
    answer: Answer
    checks: list[Check]
    rank: int | None  # 1-based rank of the first expected doc in the retrieval, None if absent
    latency_ms: float  # the wall time of its batch divided by the batch size

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def buckets(self) -> list[str]:
        """Why it failed, as FAILURE_BUCKETS names ([] when it passed)."""
        failed = {c.name for c in self.checks if not c.passed}
        row, ans = self.row, self.answer
        doc_failed = "doc" in failed
        out = {
            "error": "error" in failed,
            "wrong_route": "route" in failed,
            "retrieval_miss": doc_failed and self.rank is None,
            "ranked_too_low": doc_failed and self.rank is not None and not ans.abstained,
            "should_have_abstained": "abstain" in failed and row.expect_abstain is True,
            "abstained_wrongly": ("abstain" in failed and row.expect_abstain is False)
            or (doc_failed and ans.abstained and row.expect_abstain is None),
            "missing_phrase": bool(failed & {"include", "exclude"}),
            "scam_missed": "scam" in failed and row.expect_scam is True,
            "false_scam_alarm": "scam" in failed and row.expect_scam is False,
            "wrong_language": "language" in failed,
        }
        return [name for name in FAILURE_BUCKETS if out[name]]


@dataclass
class EvalRun:
    results: list[RowResult]
    summary: dict[str, Any] = field(default_factory=dict)


def _phrase_found(phrase: str, text: str) -> bool:
    if phrase.startswith("re:"):
        return re.search(phrase[3:], text, re.I) is not None
    return phrase.lower() in text.lower()


def check_row(row: EvalRow, answer: Answer) -> tuple[list[Check], int | None]:
    checks: list[Check] = []
    rank: int | None = None
    if row.expect_route is not None:
        ok = answer.route == row.expect_route
        checks.append(Check("route", ok, f"expected {row.expect_route}, got {answer.route}"))
    if row.expect_doc and not row.expect_abstain and not row.expect_clarify:
        ranked = [doc for doc, _ in answer.retrieved]
        ranks = [ranked.index(d) + 1 for d in row.expect_doc if d in ranked]
        rank = min(ranks) if ranks else None
        cited = [c.doc_id for c in answer.citations]
        ok = bool(set(cited) & set(row.expect_doc))
        checks.append(
            Check("doc", ok, f"expected {list(row.expect_doc)}, cited {cited}, rank {rank}")
        )
    if row.expect_abstain is not None:
        ok = answer.abstained == row.expect_abstain
        checks.append(
            Check("abstain", ok, f"expected {row.expect_abstain}, got {answer.abstained}")
        )
    if row.expect_scam is not None:
        got = answer.scam_warning is not None
        checks.append(
            Check("scam", got == row.expect_scam, f"expected {row.expect_scam}, got {got}")
        )
    for phrase in row.must_include:
        ok = _phrase_found(phrase, answer.text)
        checks.append(Check("include", ok, f"{phrase!r} {'found' if ok else 'missing'}"))
    for phrase in row.must_not_include:
        ok = not _phrase_found(phrase, answer.text)
        checks.append(Check("exclude", ok, f"{phrase!r} {'absent' if ok else 'present'}"))
    if row.lang is not None:
        ok = answer.language == row.lang
        checks.append(Check("language", ok, f"expected {row.lang}, got {answer.language}"))
    if row.expect_clarify is not None:
        ok = answer.clarifying == row.expect_clarify
        reason = f"expected {row.expect_clarify}, got {answer.clarifying}"
        checks.append(Check("clarify", ok, reason))
        if row.expect_clarify and row.expect_doc:
            ok = bool(set(answer.suggestion_ids) & set(row.expect_doc))
            checks.append(Check("suggest", ok, f"expected one of {list(row.expect_doc)} among "
                                               f"{list(answer.suggestion_ids)}"))  # fmt: skip
    if row.expect_parts:
        part_docs = [p.citations[0].doc_id if p.citations and not p.abstained else None
                     for p in (answer.parts or (answer,))]  # fmt: skip
        want = list(row.expect_parts)  # "-": that part should get no entry (abstain, estimate)
        ok = len(part_docs) == len(want) and all(
            d == w or (w == "-" and d is None) for d, w in zip(part_docs, want, strict=True)
        )
        checks.append(Check("parts", ok, f"expected {want}, answered from {part_docs}"))
    if row.expect_no_scam_after is not None:
        ok = (answer.scam_warning is None) == row.expect_no_scam_after
        reason = f"warning shown: {answer.scam_warning is not None}"
        checks.append(Check("no_scam_after", ok, reason))
    if row.expect_handoff is not None:
        ok = ("95188" in answer.text and not answer.abstained) == row.expect_handoff
        reason = "official channels given" if ok else "no official channel"
        checks.append(Check("handoff", ok, reason))
    return checks, rank


# -- summary ----------------------------------------------------------------------------------
def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0 < q <= 1) of ``values``; 0.0 when there are none.

    >>> percentile([5.0, 1.0, 3.0, 2.0], 0.5), percentile([5.0, 1.0, 3.0, 2.0], 0.95)
    (2.0, 5.0)
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _metrics(results: Sequence[RowResult]) -> dict[str, Any]:
    def checks(name: str) -> list[Check]:
        return [c for r in results for c in r.checks if c.name == name]

    route = checks("route")
    ranked = [r.rank for r in results
              if r.row.expect_doc and not r.row.expect_abstain and not r.row.expect_clarify]
    answer_rows = [r for r in results if r.row.must_include or r.row.must_not_include]
    answer_ok = [
        r
        for r in answer_rows
        if all(c.passed for c in r.checks if c.name in ("include", "exclude"))
    ]
    ab = [r for r in results if r.row.expect_abstain is not None]
    ab_tp = sum(1 for r in ab if r.row.expect_abstain and r.answer.abstained)
    ab_fp = sum(1 for r in ab if not r.row.expect_abstain and r.answer.abstained)
    ab_fn = sum(1 for r in ab if r.row.expect_abstain and not r.answer.abstained)
    sc = [(r.row.expect_scam, r.answer.scam_warning is not None) for r in results]
    sc_tp = sum(1 for want, got in sc if want is True and got)
    sc_fp = sum(1 for want, got in sc if want is False and got)
    sc_fn = sum(1 for want, got in sc if want is True and not got)
    sc_neg = sum(1 for want, _ in sc if want is False)
    latencies = [r.latency_ms for r in results]
    passed = sum(1 for r in results if r.passed)
    failures = dict.fromkeys(FAILURE_BUCKETS, 0)
    for r in results:
        for bucket in r.buckets:
            failures[bucket] += 1
    return {
        "count": len(results),
        "passed": passed,
        "pass_rate": _ratio(passed, len(results)),
        "route_accuracy": _ratio(sum(c.passed for c in route), len(route)),
        **retrieval_metrics(ranked),
        "retrieval_count": len(ranked),
        "answer_pass_rate": _ratio(len(answer_ok), len(answer_rows)),
        "abstain_accuracy": _ratio(sum(c.passed for c in checks("abstain")), len(ab)),
        "abstain_precision": _ratio(ab_tp, ab_tp + ab_fp),
        "abstain_recall": _ratio(ab_tp, ab_tp + ab_fn),
        "scam_precision": _ratio(sc_tp, sc_tp + sc_fp),
        "scam_recall": _ratio(sc_tp, sc_tp + sc_fn),
        "scam_false_alarm_rate": _ratio(sc_fp, sc_neg),
        "language_accuracy": _ratio(
            sum(c.passed for c in checks("language")), len(checks("language"))
        ),
        **{f"{name}_accuracy": _ratio(sum(c.passed for c in checks(name)), len(checks(name)))
           for name in ("parts", "clarify", "handoff", "no_scam_after")},
        "clarify_suggestion_hit": _ratio(
            sum(c.passed for c in checks("suggest")), len(checks("suggest"))
        ),
        "lookup_accuracy": _ratio(
            sum(r.passed for r in results if "lookup" in r.row.tags),
            sum(1 for r in results if "lookup" in r.row.tags),
        ),
        "smalltalk_accuracy": _ratio(
            sum(r.passed for r in results if r.row.expect_route == "conversation"),
            sum(1 for r in results if r.row.expect_route == "conversation"),
        ),
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "recall_at_k": recall_at_k(ranked),
        "failures": failures,
    }


def summarize(results: Sequence[RowResult]) -> dict[str, Any]:
    """The metrics of ``results``, and the same again for each tag under ``by_tag``."""
    summary = _metrics(results)
    tags = sorted({t for r in results for t in r.row.tags})
    summary["by_tag"] = {t: _metrics([r for r in results if t in r.row.tags]) for t in tags}
    summary["scam_recall_by_family"] = scam_recall_by_family(results)
    return summary


def scam_family(row: EvalRow) -> str:
    """A scam row's family: the scam entry it expects (``scam-safe-account`` → ``safe_account``,
    the name of the family in rules/scam.yaml), or ``other``."""
    entry = next((d for d in row.expect_doc if d.startswith("scam-")), None)
    return entry.removeprefix("scam-").replace("-", "_") if entry else "other"


def scam_recall_by_family(results: Sequence[RowResult]) -> dict[str, dict[str, Any]]:
    """For the rows that expect a scam warning, by family: how many, and the share warned."""
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        if r.row.expect_scam is True:
            cell = out.setdefault(scam_family(r.row), {"count": 0, "warned": 0})
            cell["count"] += 1
            cell["warned"] += r.answer.scam_warning is not None
    for cell in out.values():
        cell["recall"] = _ratio(cell["warned"], cell["count"])
    return dict(sorted(out.items()))


# -- running ----------------------------------------------------------------------------------
def _ask_batch(bot: Asker, rows: Sequence[EvalRow]) -> list[Answer | Exception]:
    """``ask_many`` when the bot has it; one by one otherwise, or when the batch fails."""
    histories = [list(r.history) or None for r in rows]
    ask_many = getattr(bot, "ask_many", None)
    if callable(ask_many):
        try:
            return list(ask_many([r.question for r in rows], histories))
        except MingbaiError:
            raise  # a set-up problem (no index, no model): every question would fail alike
        except Exception:
            pass  # one bad question must not sink the batch: find it below
    out: list[Answer | Exception] = []
    for row, history in zip(rows, histories, strict=True):
        try:
            out.append(bot.ask(row.question, history=history))
        except MingbaiError:
            raise
        except Exception as exc:
            out.append(exc)
    return out


def _mask_row(row: EvalRow) -> EvalRow:
    m = mask_personal_data
    return replace(
        row,
        question=m(row.question),
        history=tuple({"role": h["role"], "content": m(h["content"])} for h in row.history),
        must_include=tuple(m(p) for p in row.must_include),
        must_not_include=tuple(m(p) for p in row.must_not_include),
    )


def _mask_answer(answer: Answer) -> Answer:
    m = mask_personal_data
    return replace(
        answer,
        text=m(answer.text),
        scam_warning=None if answer.scam_warning is None else m(answer.scam_warning),
        citations=[replace(c, title=m(c.title), snippet=m(c.snippet)) for c in answer.citations],
        notes=tuple(m(n) for n in answer.notes),
    )


def _run_batch(bot: Asker, rows: Sequence[EvalRow]) -> list[RowResult]:
    t0 = time.perf_counter()
    answers = _ask_batch(bot, rows)
    latency = (time.perf_counter() - t0) * 1000 / max(1, len(rows))
    results = []
    for row, answer in zip(rows, answers, strict=True):
        if isinstance(answer, Exception):
            reason = f"{type(answer).__name__}: {answer}"
            checks, rank = [Check("error", False, reason)], None
            answer = Answer(f"error: {reason}", "out_of_scope", [], False, None, "zh")
        else:
            checks, rank = check_row(row, answer)
        checks = [replace(c, reason=mask_personal_data(c.reason)) for c in checks]
        results.append(RowResult(_mask_row(row), _mask_answer(answer), checks, rank, latency))
    return results


def evaluate(
    bot: Asker,
    rows: Iterable[EvalRow],
    *,
    workers: int = 1,
    batch_size: int = 32,
    on_result: Callable[[RowResult], None] | None = None,
) -> EvalRun:
    """Ask every row's question (``batch_size`` at a time, ``workers`` batches in parallel) and
    check the answers. Results come back in row order, with personal numbers masked;
    ``on_result`` is called from the calling thread as each result arrives."""
    if workers < 1 or batch_size < 1:
        raise ValueError(f"workers and batch_size must be >= 1 (got {workers}, {batch_size})")
    todo = list(rows)
    wait_ready = getattr(bot, "wait_ready", None)
    if callable(wait_ready):
        wait_ready()  # model loading is not a question's latency
    batches = [todo[i : i + batch_size] for i in range(0, len(todo), batch_size)]
    done: list[list[RowResult]] = [[] for _ in batches]

    def finish(i: int, results: list[RowResult]) -> None:
        done[i] = results
        for result in results:
            if on_result is not None:
                on_result(result)

    if workers == 1 or len(batches) < 2:
        for i, batch in enumerate(batches):
            finish(i, _run_batch(bot, batch))
    else:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mingbai-eval")
        try:
            futures: dict[Future[list[RowResult]], int] = {
                pool.submit(_run_batch, bot, batch): i for i, batch in enumerate(batches)
            }
            for future in as_completed(futures):
                finish(futures[future], future.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    results = [r for batch in done for r in batch]
    return EvalRun(results, summarize(results))
