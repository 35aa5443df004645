"""Hostile input (issue 6): property-based tests and a fuzz run over ``Assistant.ask``, the
what-if slot parser with ``whatif_reply``, and the HTTP API in-process.

The generators (``benchmarks/fuzz_inputs.py``, ``fuzz_requests.py``) and the invariant checks
(``fuzz_checks.py``) live in ``benchmarks/``, shared with the latency benchmark. Every test is
derandomized, so CI sees the same ~2,300 inputs on every run. The per-request latencies of the
ask and HTTP fuzzing are written to ``artifacts/fuzz-latency.json`` and deliberately not
asserted: timings belong to benchmarks, not tests.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(ROOT))

from assistant.privacy import mask_personal_data  # noqa: E402
from assistant.whatif import looks_like_whatif, parse_slots, whatif_reply  # noqa: E402
from assistant.whatif.profile import FIELDS  # noqa: E402
from benchmarks.fuzz_checks import (  # noqa: E402
    check_answer,
    check_ask_error,
    check_http,
    check_not_leaked,
    check_whatif,
    no_swallowed_errors,
    summarize,
    timed,
)
from benchmarks.fuzz_inputs import (  # noqa: E402
    INJECTION_AFTER,
    INJECTION_BEFORE,
    INJECTIONS,
    ORDINARY_QUESTIONS,
    STRICTLY_BLANK,
    personal_texts,
    questions,
    whatif_texts,
)
from benchmarks.fuzz_requests import (  # noqa: E402
    http_cases,
    json_values,
    personal_http_cases,
)
from retrieval.text import detect_language  # noqa: E402
from ui.http_api import create_api  # noqa: E402

pytestmark = pytest.mark.slow
T = TypeVar("T")
LATENCY_REPORT = ROOT / "artifacts" / "fuzz-latency.json"
# Inputs per test: ~560 reach Assistant.ask, ~750 the what-if parser, ~330 the HTTP API. Every
# family of each generator (``weighted(...)`` in fuzz_inputs.py: control characters, surrogates,
# huge pastes, personal numbers, injections, what-if phrasings...) is still drawn dozens of times,
# so each class of bug the full run found is still reached; the full 5,000+ inputs, and their
# latencies, are `python -m benchmarks.fuzz` (part of `make bench`).
N_ASK, N_ASK_TYPES, N_ASK_PERSONAL, N_INJECTION = 320, 60, 100, 80
N_WHATIF, N_WHATIF_INJECTION, N_MASK = 600, 150, 500
N_HTTP, N_HTTP_PERSONAL = 250, 80


class Record:
    """Latency samples per surface and inputs per test, written out when the module ends."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {"ask": [], "http": [], "whatif": []}
        self.inputs: dict[str, int] = {}

    def write(self) -> None:
        LATENCY_REPORT.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "note": "per-request latency of tests/test_fuzz.py; not asserted (issue 6 target "
                    "<= 200 ms per request: see benchmarks/fuzz.py)",
            **{surface: summarize(ms) for surface, ms in self.samples.items()},
            "inputs": {**self.inputs, "total": sum(self.inputs.values())},
        }
        LATENCY_REPORT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def record() -> Iterator[Record]:
    rec = Record()
    yield rec
    rec.write()


@pytest.fixture(scope="module")
def client(bot) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The real API on the real assistant, in-process; server errors are raised, not hidden."""
    with TestClient(create_api(bot), follow_redirects=False) as c:
        yield c


def fuzz(name: str, record: Record, strategy: st.SearchStrategy[T], n: int,
         check: Callable[[T], None]) -> None:
    """Run ``check`` on ``n`` derandomized examples of ``strategy``; count them."""
    seen = 0

    @settings(max_examples=n, deadline=None, database=None, derandomize=True, print_blob=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example, HealthCheck.filter_too_much])
    @given(strategy)
    def one(value: T) -> None:
        nonlocal seen
        seen += 1
        check(value)

    one()
    record.inputs[name] = seen
    assert seen >= n * 0.9, f"only {seen} of {n} examples ran"  # the fuzz really happened


@contextmanager
def logged(name: str) -> Iterator[list[str]]:
    """Every message ``name`` logs (INFO and up) while the block runs."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, r: logging.LogRecord) -> None:
            messages.append(r.getMessage())

    logger, handler = logging.getLogger(name), Keep(logging.INFO)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# -- Assistant.ask -------------------------------------------------------------------------------
def test_ask_survives_hostile_questions(bot, record: Record) -> None:  # type: ignore[no-untyped-def]
    """Any string gets an Answer; a blank one gets a ValueError saying the question is empty."""

    def check(question: str) -> None:
        with no_swallowed_errors():
            ms, answer, error = timed(lambda: bot.ask(question))
        record.samples["ask"].append(ms)
        if all(ch in STRICTLY_BLANK for ch in question):
            assert isinstance(error, ValueError), f"blank {question!r} was answered"
        if error is not None:
            check_ask_error(question, error)
        else:
            check_answer(question, answer)

    fuzz("ask", record, questions(), N_ASK, check)


def test_ask_refuses_non_strings_with_a_type_error(bot, record: Record) -> None:  # type: ignore[no-untyped-def]
    values = st.one_of(json_values(), st.binary(max_size=20)).filter(
        lambda v: not isinstance(v, str)
    )

    def check(value: Any) -> None:
        _, _, error = timed(lambda: bot.ask(value))
        assert isinstance(error, TypeError), f"{value!r}: {error!r}"
        check_ask_error(value, error)

    fuzz("ask_non_string", record, values, N_ASK_TYPES, check)


def test_personal_numbers_never_leave_ask(bot, record: Record) -> None:  # type: ignore[no-untyped-def]
    """ID cards, mobiles and bank cards in random text: masked, never answered or logged raw."""

    def check(pair: tuple[str, str]) -> None:
        text, number = pair
        check_not_leaked(number, mask_personal_data(text))
        with logged("mingbai") as log:
            ms, answer, error = timed(lambda: bot.ask(text))
        record.samples["ask"].append(ms)
        assert error is None, f"{text[:80]!r}: {error!r}"
        check_answer(text, answer)
        cited = [c.title + c.snippet for c in answer.citations]
        check_not_leaked(number, answer.text, *answer.notes, *cited, *log)

    fuzz("ask_personal", record, personal_texts(), N_ASK_PERSONAL, check)


def test_mask_personal_data_masks_every_generated_number(record: Record) -> None:
    def check(pair: tuple[str, str]) -> None:
        text, number = pair
        masked = mask_personal_data(text)
        check_not_leaked(number, masked)
        assert "*" in masked
        assert mask_personal_data(masked) == masked  # masking is idempotent

    fuzz("mask", record, personal_texts(), N_MASK, check)


def _decision(answer: Any) -> tuple[str, bool, bool]:
    return answer.route, answer.abstained, answer.scam_warning is not None


def test_prompt_injection_changes_no_decision(bot, record: Record) -> None:  # type: ignore[no-untyped-def]
    """Route, abstain and scam flag of "<injection> + question" equal the question's own."""
    alone = dict(zip(ORDINARY_QUESTIONS, map(_decision, bot.ask_many(list(ORDINARY_QUESTIONS))),
                     strict=True))
    record.inputs["injection_baseline"] = len(alone)
    before = st.builds(lambda inj, sep: (inj + sep, ""), st.sampled_from(INJECTIONS),
                       st.sampled_from(INJECTION_BEFORE))
    after = st.builds(lambda sep, inj: ("", sep + inj), st.sampled_from(INJECTION_AFTER),
                      st.sampled_from(INJECTIONS))
    case = st.sampled_from((str, str.upper, str.lower))
    cases = st.tuples(st.sampled_from(ORDINARY_QUESTIONS), st.one_of(before, after), case)

    def check(value: tuple[str, tuple[str, str], Callable[[str], str]]) -> None:
        question, (head, tail), shout = value
        text = shout(head) + question + shout(tail)
        ms, answer, error = timed(lambda: bot.ask(text))
        record.samples["ask"].append(ms)
        assert error is None, f"{text!r}: {error!r}"
        assert _decision(answer) == alone[question], f"{text!r} decided differently"

    fuzz("ask_injection", record, cases, N_INJECTION, check)


# -- what-if slot parser and reply -------------------------------------------------------------
def test_whatif_parser_and_reply_survive_hostile_text(record: Record) -> None:
    texts = st.one_of(whatif_texts(), whatif_texts(), questions())
    lang = st.one_of(st.none(), st.sampled_from(("zh", "en", "fr", "")))

    def check(value: tuple[str, str | None]) -> None:
        text, given_lang = value
        use = given_lang if given_lang is not None else detect_language(text)
        with no_swallowed_errors("assistant"):
            slots = parse_slots(text)
            personal = looks_like_whatif(text)
            ms, reply, error = timed(lambda: whatif_reply(text, use))
        record.samples["whatif"].append(ms)
        assert error is None, f"{text[:80]!r}: {error!r}"
        assert isinstance(personal, bool) and personal == slots.is_personal_whatif
        assert set(slots.values) | set(slots.changes) <= set(FIELDS)
        assert set(slots.missing_required) <= set(FIELDS)
        check_whatif(text, use, reply)

    fuzz("whatif", record, st.tuples(texts, lang), N_WHATIF, check)


def test_whatif_estimate_ignores_injected_text(record: Record) -> None:
    """The what-if estimate of a question is unchanged by injection text around it."""
    zh = st.builds("芝麻分{}，按时还款{}个月，借呗额度大概多少？".format,
                   st.integers(350, 950), st.integers(0, 120))
    zh_change = st.builds("芝麻分从{}涨到{}，借呗额度会怎样？".format,
                          st.integers(350, 950), st.integers(350, 950))
    en = st.builds("Sesame score {}, {} late payments: what would my Jiebei limit be?".format,
                   st.integers(350, 950), st.integers(0, 10))
    base = st.one_of(zh, zh_change, en, st.sampled_from(
        [q for q in ORDINARY_QUESTIONS if looks_like_whatif(q)]))
    glued = st.one_of(
        st.builds(lambda inj, sep: (inj + sep, ""), st.sampled_from(INJECTIONS),
                  st.sampled_from(INJECTION_BEFORE)),
        st.builds(lambda sep, inj: ("", sep + inj), st.sampled_from(INJECTION_AFTER),
                  st.sampled_from(INJECTIONS)),
    )

    def estimate(text: str) -> tuple[Any, ...]:
        reply = whatif_reply(text, detect_language(text))
        return reply.needs_input, reply.estimate_before, reply.estimate_after

    def check(value: tuple[str, tuple[str, str]]) -> None:
        question, (head, tail) = value
        assert estimate(head + question + tail) == estimate(question), (head, question, tail)

    fuzz("whatif_injection", record, st.tuples(base, glued), N_WHATIF_INJECTION, check)


# -- HTTP API ----------------------------------------------------------------------------------
def test_http_api_survives_hostile_requests(client: TestClient, record: Record) -> None:
    """Random bodies, wrong types, malformed and oversized JSON, odd paths and methods:
    never a 5xx, and every 4xx is a JSON error object."""
    def check(case: Any) -> None:
        ms, response, error = timed(lambda: case.send(client))
        record.samples["http"].append(ms)
        assert error is None, f"{case.method} {case.path[:80]} raised {error!r}"
        check_http(case, response)

    fuzz("http", record, http_cases(), N_HTTP, check)


def test_personal_numbers_never_leave_the_http_api(client: TestClient, record: Record) -> None:
    def check(pair: tuple[Any, str]) -> None:
        case, number = pair
        ms, response, error = timed(lambda: case.send(client))
        record.samples["http"].append(ms)
        assert error is None, f"{case.path} raised {error!r}"
        check_http(case, response)
        assert response.status_code == 200, response.text[:300]
        check_not_leaked(number, response.text)

    fuzz("http_personal", record, personal_http_cases(), N_HTTP_PERSONAL, check)
