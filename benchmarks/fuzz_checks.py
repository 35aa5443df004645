"""What must hold for every fuzzed input (no crash, no 5xx, nothing leaked), and timing helpers.

Shared by ``tests/test_fuzz.py`` (which asserts) and ``benchmarks/fuzz.py`` (which counts).
"""

from __future__ import annotations

import json
import logging
import statistics
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from assistant.evaluation import percentile
from benchmarks.fuzz_inputs import FULL_WIDTH_DIGITS, ROUTES, T
from benchmarks.fuzz_requests import HttpCase
from ui.http_api import MAX_BODY_BYTES

TARGET_MS = 200.0  # the per-request target (issue 6)


# -- invariants ------------------------------------------------------------------------------
class FuzzFailure(AssertionError):
    """An invariant did not hold; the message says which and for what input."""


def expect(condition: object, message: str) -> None:
    if not condition:
        raise FuzzFailure(message)


def is_blank(text: str) -> bool:
    """Nothing to read: whitespace, control, format (invisible) or surrogate characters only."""
    return all(ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"}
               for ch in text)


def check_answer(question: str, answer: Any) -> None:
    """What every answer to ``question`` must be."""
    short = repr(question[:80])
    expect(isinstance(answer.text, str) and answer.text.strip(), f"empty answer for {short}")
    expect(answer.route in ROUTES, f"route {answer.route!r} for {short}")
    expect(answer.language in ("zh", "en"), f"language {answer.language!r} for {short}")
    expect(isinstance(answer.abstained, bool), f"abstained not a bool for {short}")
    expect("<script" not in answer.text.lower(), f"<script in the answer to {short}")
    for c in answer.citations:
        expect("<script" not in (c.title + c.snippet).lower(), f"<script in a citation: {short}")


def check_ask_error(question: Any, exc: BaseException) -> None:
    """``ask`` may refuse only a non-string (TypeError) or an empty question (ValueError)."""
    short = repr(question[:80]) if isinstance(question, str) else type(question).__name__
    if isinstance(exc, TypeError) and not isinstance(question, str):
        expect("must be a string" in str(exc), f"TypeError message {exc} for {short}")
        return
    expect(isinstance(exc, ValueError) and type(exc) is ValueError,
           f"{type(exc).__name__}: {exc} for {short}")
    expect(isinstance(question, str) and is_blank(question),
           f"ValueError for a question with content: {short}: {exc}")
    expect("empty" in str(exc), f"ValueError does not say the question is empty: {exc}")


def check_not_leaked(number: str, *texts: str) -> None:
    ascii_form = unicodedata.normalize("NFKC", number)
    for text in texts:
        for form in {number, ascii_form, ascii_form.translate(FULL_WIDTH_DIGITS)}:
            expect(form not in text, f"personal number {form} appears in {text[:200]!r}")


def check_whatif(text: str, lang: str, reply: Any) -> None:
    """What every what-if chat answer must be."""
    expect(isinstance(reply.text, str) and reply.text.strip(), f"empty reply for {text[:80]!r}")
    notices = ("教育性质的估算", "educational estimate")
    expect(any(n in reply.text for n in notices), f"no estimate notice for {text[:80]!r}")
    if reply.needs_input:
        expect(reply.estimate_before is None, f"asks for input but estimated: {text[:80]!r}")
    else:
        before = reply.estimate_before
        expect(before is not None, f"no estimate and no question back for {text[:80]!r}")
        for est in (before, reply.estimate_after):
            if est is not None:
                expect(0 <= est.low <= est.high, f"bad range {est.low}-{est.high}: {text[:80]!r}")
    expect("<script" not in reply.text.lower(), f"<script in the what-if reply: {text[:80]!r}")


def check_http(case: HttpCase, response: Any) -> None:
    """No 5xx; JSON errors in OpenAI's shape for every 4xx; well-formed successes."""
    where = f"{case.method} {case.path[:80]} body={(case.body or b'')[:80]!r}"
    status = response.status_code
    expect(status < 500, f"{status} for {where}: {response.text[:300]}")
    sized = case.method in ("POST", "PUT", "PATCH", "DELETE") and case.body is not None
    if sized and len(case.body or b"") > MAX_BODY_BYTES:
        expect(status == 413, f"{status} (not 413) for a {len(case.body or b'')}-byte body")
    if case.method == "HEAD" or 300 <= status < 400:
        return
    kind = response.headers.get("content-type", "")
    if status == 200 and kind.startswith("text/event-stream"):
        events = [line for line in response.text.split("\n\n") if line.strip()]
        expect(events and events[-1].strip() == "data: [DONE]", f"stream not finished: {where}")
        for event in events[:-1]:
            expect(event.startswith("data: "), f"bad SSE event {event[:80]!r}: {where}")
            chunk = json.loads(event[len("data: "):])
            for choice in chunk["choices"]:
                expect("<script" not in str(choice["delta"].get("content", "")).lower(),
                       f"<script streamed: {where}")
        return
    expect(kind.startswith("application/json"), f"{status} {kind!r} is not JSON: {where}")
    data = response.json()
    if status >= 400:
        err = data.get("error") if isinstance(data, dict) else None
        expect(isinstance(err, dict), f"{status} without an error object: {where}: {data}")
        expect(isinstance(err.get("message"), str) and err["message"],
               f"{status} error without a message: {where}")
        expect(err.get("code") == status, f"error code {err.get('code')} != {status}: {where}")
        return
    if case.path == "/v1/ask":
        expect(data["route"] in ROUTES and data["language"] in ("zh", "en"), f"ask: {where}")
        expect(isinstance(data["text"], str) and data["text"].strip(), f"empty text: {where}")
        expect("<script" not in data["text"].lower(), f"<script in /v1/ask answer: {where}")
    elif case.path == "/v1/chat/completions":
        content = data["choices"][0]["message"]["content"]
        expect(isinstance(content, str) and content.strip(), f"empty completion: {where}")
        expect("<script" not in content.lower(), f"<script in a completion: {where}")
        expect(data["mingbai"]["route"] in ROUTES, f"completion route: {where}")
    elif case.path == "/v1/what-if":
        expect(0 <= data["before"]["low"] <= data["before"]["high"], f"what-if range: {where}")


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def no_swallowed_errors(*names: str) -> Iterator[None]:
    """Fail when code under test logs an ERROR: a crash caught and hidden is still a crash."""
    handler = _ErrorLog()
    loggers = [logging.getLogger(n) for n in names or ("assistant", "retrieval", "mingbai", "ui")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    if handler.records:
        r = handler.records[0]
        raise FuzzFailure(f"logged error from {r.name}: {r.getMessage()[:300]}")


# -- latency -------------------------------------------------------------------------------
def timed(fn: Callable[[], T]) -> tuple[float, T | None, Exception | None]:
    """(ms, result, None) or (ms, None, the exception raised)."""
    t0 = time.perf_counter()
    try:
        result, error = fn(), None
    except Exception as exc:  # returned, for the caller to judge
        result, error = None, exc
    return (time.perf_counter() - t0) * 1000, result, error


def summarize(samples_ms: list[float]) -> dict[str, float | int]:
    """count, p50/p95/max in ms and how many requests were over the 200 ms target."""
    if not samples_ms:
        return {"count": 0, "p50_ms": 0.0, "p95_ms": 0.0, "max_ms": 0.0, "over_200ms": 0}
    ordered = sorted(samples_ms)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(percentile(ordered, 0.95), 2),
        "max_ms": round(ordered[-1], 2),
        "over_200ms": sum(1 for s in ordered if s > TARGET_MS),
    }


