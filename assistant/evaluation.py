"""Batch evaluation against a FAQ file: deterministic checks, no LLM judge.

``load_rows`` reads JSONL, CSV or YAML (a bad row is reported with its line, not fatal);
``evaluate`` asks in batches through ``ask_many``, optionally on a thread pool; ``summarize``
gives the metrics overall and per tag, with failure buckets. Results are masked throughout.

>>> from assistant.evaluation import evaluate, load_rows
>>> run = evaluate(bot, load_rows("knowledge/eval/faq.jsonl").rows, workers=2)
>>> run.summary["hit_at_3"], run.summary["by_tag"]["english"]["route_accuracy"]
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from assistant.answer import Answer
from assistant.errors import MingbaiError
from assistant.privacy import mask_personal_data

KNOWN_COLUMNS = {
    "question", "history", "expect_route", "expect_doc", "expect_abstain", "expect_scam",
    "must_include", "must_not_include", "lang", "tags", "id",
}  # fmt: skip
LIST_COLUMNS = ("history", "expect_doc", "must_include", "must_not_include", "tags")
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}
HIGHER_IS_BETTER = (
    "pass_rate", "route_accuracy", "hit_at_1", "hit_at_3", "mrr", "ndcg_at_10",
    "answer_pass_rate", "abstain_accuracy", "abstain_precision", "abstain_recall",
    "scam_precision", "scam_recall", "language_accuracy",
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
K_MAX = 10


class EvalFileError(MingbaiError):
    """An evaluation file that cannot be used at all (missing, unreadable, empty)."""


class Asker(Protocol):
    def ask(self, question: str, history: Any = None) -> Answer: ...


@dataclass(frozen=True)
class BadRow:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


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
    id: str | None = None

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
        lang = data.get("lang")
        if lang not in (None, "", "zh", "en"):
            raise ValueError(f"'lang' must be zh or en, got {lang!r}")
        phrases = {key: strs(key) for key in ("must_include", "must_not_include")}
        for key, values in phrases.items():
            for p in values:
                if p.startswith("re:"):
                    try:
                        re.compile(p[3:])
                    except re.error as exc:
                        raise ValueError(f"'{key}': bad regular expression {p!r}: {exc}") from None
        row_id = data.get("id")
        return cls(
            question=q,
            line=line,
            history=tuple({"role": str(m["role"]), "content": str(m["content"])} for m in history),
            expect_route=route or None,
            expect_doc=strs("expect_doc"),
            expect_abstain=flag("expect_abstain"),
            expect_scam=flag("expect_scam"),
            must_include=phrases["must_include"],
            must_not_include=phrases["must_not_include"],
            lang=lang or None,
            tags=strs("tags"),
            id=None if row_id in (None, "") else str(row_id),
        )


# -- loading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadedRows:
    path: Path
    rows: list[EvalRow]
    bad: list[BadRow]
    warnings: list[str]


def load_rows(path: Path | str) -> LoadedRows:
    """Read an evaluation file (.jsonl, .csv, .yaml) into rows; bad rows are kept aside.

    >>> loaded = load_rows("faq.csv")        # question,expect_doc,tags
    >>> loaded.rows[0].line, [str(b) for b in loaded.bad]
    (2, ["line 7: 'question' is required and must be non-empty text"])
    """
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise EvalFileError(
            f"{path}: unsupported file type {path.suffix or '(no extension)'!r}; "
            "use .jsonl, .csv or .yaml"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EvalFileError(f"{path}: no such file; check the path") from None
    except UnicodeDecodeError as exc:
        raise EvalFileError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise EvalFileError(f"{path}: cannot read it ({exc.strerror}); check the path") from None
    empty = f"{path}: the file has no questions; add one row per question (docs/evaluation.md)"
    if not text.strip():
        raise EvalFileError(empty)
    reader = {"jsonl": _read_jsonl, "csv": _read_csv, "yaml": _read_yaml}[kind]
    records, bad = reader(path, text)
    rows: list[EvalRow] = []
    unknown: dict[str, int] = {}
    for line, data in records:
        for key in data:
            if key not in KNOWN_COLUMNS:
                unknown.setdefault(str(key), line)
        try:
            rows.append(EvalRow.from_dict(data, line))
        except ValueError as exc:
            bad.append(BadRow(line, str(exc)))
    if not rows and not bad:
        raise EvalFileError(empty)
    warnings = []
    for key, line in unknown.items():
        close = difflib.get_close_matches(key, sorted(KNOWN_COLUMNS), n=1)
        known = ", ".join(sorted(KNOWN_COLUMNS))
        hint = f"did you mean {close[0]!r}?" if close else f"known columns: {known}"
        warnings.append(f"{path}: unknown column {key!r} (line {line}) is ignored; {hint}")
    return LoadedRows(path, rows, sorted(bad, key=lambda b: b.line), warnings)


Records = tuple[list[tuple[int, dict[str, Any]]], list[BadRow]]


def _read_jsonl(path: Path, text: str) -> Records:
    records, bad = [], []
    for i, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            bad.append(BadRow(i, f"not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        if isinstance(data, dict):
            records.append((i, data))
        else:
            bad.append(BadRow(i, 'expected a JSON object such as {"question": "..."}'))
    return records, bad


def _read_csv(path: Path, text: str) -> Records:
    """CSV with a header line; list cells are JSON (``["a","b"]``) or ``a|b``."""
    reader = csv.reader(io.StringIO(text))
    records: list[tuple[int, dict[str, Any]]] = []
    bad: list[BadRow] = []
    try:
        header = [h.strip() for h in next(reader)]
        if "question" not in header:
            raise EvalFileError(
                f"{path}:1: the header has no 'question' column; the first line names the "
                "columns, e.g. question,expect_route,expect_doc,tags"
            )
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                bad.append(BadRow(line, f"{len(cells)} cells but the header has {len(header)}"))
                continue
            try:
                pairs = zip(header, cells, strict=False)  # missing trailing cells are empty
                data = {k: _csv_cell(k, c.strip()) for k, c in pairs if k and c.strip()}
            except ValueError as exc:
                bad.append(BadRow(line, str(exc)))
                continue
            records.append((line, data))
    except csv.Error as exc:
        raise EvalFileError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
    return records, bad


def _csv_cell(key: str, cell: str) -> Any:
    if key not in LIST_COLUMNS:
        return cell
    if cell.startswith("["):
        try:
            return json.loads(cell)
        except json.JSONDecodeError as exc:
            raise ValueError(f"'{key}': not a valid JSON list ({exc.msg})") from None
    if key == "history":
        raise ValueError("'history' in CSV must be JSON: [{\"role\": ..., \"content\": ...}]")
    return [part.strip() for part in cell.split("|") if part.strip()]


def _read_yaml(path: Path, text: str) -> Records:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise EvalFileError(f"{path}{where}: not valid YAML ({problem}); fix the syntax") from None
    if data is None:
        return [], []
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise EvalFileError(f"{path}: YAML must be a list of rows, e.g. '- question: ...'")
    records, bad = [], []
    for item, item_node in zip(data, node.value, strict=True):
        line = item_node.start_mark.line + 1
        if isinstance(item, dict):
            records.append((line, item))
        else:
            bad.append(BadRow(line, "expected a mapping such as 'question: ...'"))
    return records, bad


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


# -- metrics ----------------------------------------------------------------------------------
def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return round(ordered[idx], 2)


def _measures_own(rank: int | None) -> dict[str, float]:
    """The trec_eval measures for one query whose one relevant document sits at ``rank``."""
    out = {f"success_{k}": float(rank is not None and rank <= k) for k in range(1, K_MAX + 1)}
    out["recip_rank"] = 1 / rank if rank else 0.0
    out["ndcg_cut_10"] = 1 / math.log2(rank + 1) if rank and rank <= 10 else 0.0
    return out


def _measures(ranks: Sequence[int | None], library: bool) -> list[dict[str, float]]:
    """Per-query measures from trec_eval (pytrec_eval) when installed, else from our own code.

    Each query becomes a ranking with one relevant document at its rank: an expected id is
    "any of these", so only the best-ranked one counts (trec_eval would want all of them).
    """
    try:
        if not library:
            raise ImportError
        import pytrec_eval
    except ImportError:
        return [_measures_own(r) for r in ranks]
    qrels = {f"q{i}": {"rel": 1} for i in range(len(ranks))}
    run: dict[str, dict[str, float]] = {}
    for i, rank in enumerate(ranks):
        depth = max(K_MAX, rank or 0)
        docs = {f"d{j}": float(depth - j) for j in range(1, depth + 1)}  # distinct: no ties
        if rank is not None:
            docs["rel"] = docs.pop(f"d{rank}")
        run[f"q{i}"] = docs
    cutoffs = ",".join(str(k) for k in range(1, K_MAX + 1))
    evaluator = pytrec_eval.RelevanceEvaluator(
        qrels, {"recip_rank", "ndcg_cut.10", f"success.{cutoffs}"}
    )
    scores = evaluator.evaluate(run)
    return [scores[f"q{i}"] for i in range(len(ranks))]


def _mean(per_query: list[dict[str, float]], key: str) -> float | None:
    return round(sum(m[key] for m in per_query) / len(per_query), 4) if per_query else None


def retrieval_metrics(
    ranks: Sequence[int | None], *, library: bool = True
) -> dict[str, float | None]:
    """hit@1, hit@3, MRR and nDCG@10 for one relevant document per query (rank None = missed).

    >>> retrieval_metrics([1, 2, None])["mrr"]
    0.5
    """
    per_query = _measures(ranks, library)
    return {
        "hit_at_1": _mean(per_query, "success_1"),
        "hit_at_3": _mean(per_query, "success_3"),
        "mrr": _mean(per_query, "recip_rank"),
        "ndcg_at_10": _mean(per_query, "ndcg_cut_10"),
    }


def recall_at_k(ranks: Sequence[int | None], *, library: bool = True) -> dict[str, float | None]:
    """Share of queries whose expected document is in the top k, for k = 1..10.

    >>> recall_at_k([1, 3, None])["3"]
    0.6667
    """
    per_query = _measures(ranks, library)
    return {str(k): _mean(per_query, f"success_{k}") for k in range(1, K_MAX + 1)}


def _metrics(results: Sequence[RowResult]) -> dict[str, Any]:
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
        "p50_ms": _percentile(latencies, 0.5),
        "p95_ms": _percentile(latencies, 0.95),
        "recall_at_k": recall_at_k(ranked),
        "failures": failures,
    }


def summarize(results: Sequence[RowResult]) -> dict[str, Any]:
    """The metrics of ``results``, and the same again for each tag under ``by_tag``."""
    summary = _metrics(results)
    tags = sorted({t for r in results for t in r.row.tags})
    summary["by_tag"] = {t: _metrics([r for r in results if t in r.row.tags]) for t in tags}
    return summary


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
