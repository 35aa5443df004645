"""Batch evaluation against a FAQ file: deterministic checks, no LLM judge.

>>> from assistant.evaluation import evaluate, load_rows
>>> run = evaluate(bot, load_rows(Path("knowledge/eval/faq.jsonl")).rows)
>>> run.summary["hit_at_3"]
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.answer import Answer
from assistant.privacy import mask_personal_data

KNOWN_COLUMNS = {
    "question",
    "history",
    "expect_route",
    "expect_doc",
    "expect_abstain",
    "expect_scam",
    "must_include",
    "must_not_include",
    "lang",
    "tags",
    "id",
}


class Asker(Protocol):
    def ask(self, question: str, history: Any = None) -> Answer: ...


@dataclass(frozen=True)
class EvalRow:
    question: str
    line: int = 0
    history: tuple[dict[str, str], ...] = ()
    expect_route: str | None = None
    expect_doc: tuple[str, ...] = ()
    expect_abstain: bool | None = None
    expect_scam: bool | None = None
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    lang: str | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any], line: int = 0) -> EvalRow:
        q = data.get("question")
        if not isinstance(q, str) or not q.strip():
            raise ValueError("'question' is required and must be non-empty text")

        def strs(key: str) -> tuple[str, ...]:
            value = data.get(key)
            if value in (None, ""):
                return ()
            if isinstance(value, str):
                return (value,)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(value)
            raise ValueError(f"'{key}' must be text or a list of texts")

        def flag(key: str) -> bool | None:
            value = data.get(key)
            if value in (None, ""):
                return None
            if isinstance(value, bool):
                return value
            if str(value).strip().lower() in ("true", "1", "yes"):
                return True
            if str(value).strip().lower() in ("false", "0", "no"):
                return False
            raise ValueError(f"'{key}' must be true or false, got {value!r}")

        history = data.get("history") or []
        if not isinstance(history, list) or not all(
            isinstance(m, dict) and "role" in m and "content" in m for m in history
        ):
            raise ValueError("'history' must be a list of {role, content} messages")
        route = data.get("expect_route")
        if route not in (None, "", "knowledge", "whatif", "out_of_scope"):
            raise ValueError(f"'expect_route' must be knowledge, whatif or out_of_scope: {route!r}")
        return cls(
            question=q,
            line=line,
            history=tuple({"role": str(m["role"]), "content": str(m["content"])} for m in history),
            expect_route=route or None,
            expect_doc=strs("expect_doc"),
            expect_abstain=flag("expect_abstain"),
            expect_scam=flag("expect_scam"),
            must_include=strs("must_include"),
            must_not_include=strs("must_not_include"),
            lang=data.get("lang") or None,
            tags=strs("tags"),
        )


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
    latency_ms: float

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


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
    if row.expect_doc and not row.expect_abstain:
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
    return checks, rank


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return round(ordered[idx], 2)


def retrieval_metrics(ranks: Sequence[int | None]) -> dict[str, float | None]:
    """hit@1, hit@3, MRR and nDCG@10 for one relevant document per query (rank None = missed).

    >>> retrieval_metrics([1, 2, None])["mrr"]
    0.5
    """
    n = len(ranks)
    if not n:
        return {"hit_at_1": None, "hit_at_3": None, "mrr": None, "ndcg_at_10": None}
    return {
        "hit_at_1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "hit_at_3": round(sum(1 for r in ranks if r is not None and r <= 3) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r is not None) / n, 4),
        "ndcg_at_10": round(
            sum(1 / math.log2(r + 1) for r in ranks if r is not None and r <= 10) / n, 4
        ),
    }


def summarize(results: Sequence[RowResult]) -> dict[str, Any]:
    def checks(name: str) -> list[Check]:
        return [c for r in results for c in r.checks if c.name == name]

    route = checks("route")
    ranked = [r.rank for r in results if r.row.expect_doc and not r.row.expect_abstain]
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
    sc = [r for r in results if r.row.expect_scam is not None]
    flagged = [r.answer.scam_warning is not None for r in sc]
    sc_tp = sum(1 for r, f in zip(sc, flagged, strict=True) if r.row.expect_scam and f)
    sc_fp = sum(1 for r, f in zip(sc, flagged, strict=True) if not r.row.expect_scam and f)
    sc_fn = sum(1 for r, f in zip(sc, flagged, strict=True) if r.row.expect_scam and not f)
    sc_neg = sum(1 for r in sc if not r.row.expect_scam)
    latencies = [r.latency_ms for r in results]
    return {
        "count": len(results),
        "passed": sum(1 for r in results if r.passed),
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
        "p50_ms": _percentile(latencies, 0.5),
        "p95_ms": _percentile(latencies, 0.95),
    }


def evaluate(
    bot: Asker,
    rows: Iterable[EvalRow],
    *,
    on_result: Callable[[RowResult], None] | None = None,
) -> EvalRun:
    """Ask every row's question and check the answer. Results keep questions masked."""
    import time

    results: list[RowResult] = []
    for row in rows:
        t0 = time.perf_counter()
        answer = bot.ask(row.question, history=list(row.history) or None)
        latency = (time.perf_counter() - t0) * 1000
        checks, rank = check_row(row, answer)
        masked = EvalRow(**{**row.__dict__, "question": mask_personal_data(row.question)})
        result = RowResult(masked, answer, checks, rank, latency)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return EvalRun(results, summarize(results))
