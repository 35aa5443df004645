"""Hostile-input fuzzing: ``python -m benchmarks.fuzz`` prints JSON (issue 6, "Hostile input").

One set of generators (hypothesis strategies: ``fuzz_inputs.py``, ``fuzz_requests.py``) and
invariant checks (``fuzz_checks.py``), shared by two users:

* ``tests/test_fuzz.py`` asserts the properties (no crash, no 5xx, nothing leaked, prompt
  injection changes no decision);
* :func:`run` here fuzzes the same three surfaces with a real ``Assistant()`` and measures the
  latency of every request against the issue's target (<= 200 ms), counting violations instead of
  stopping at the first.

Surfaces: ``Assistant.ask`` (real model and index), the what-if slot parser with
``whatif_reply``, and the HTTP API in-process (``TestClient(create_api(assistant))``).
Nothing here touches the network: the HTTP API runs inside this process.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_checks import (
    TARGET_MS,
    FuzzFailure,
    check_answer,
    check_ask_error,
    check_http,
    check_whatif,
    expect,
    no_swallowed_errors,
    summarize,
    timed,
)
from benchmarks.fuzz_inputs import ORDINARY_QUESTIONS, T, questions, whatif_texts
from benchmarks.fuzz_requests import HttpCase, http_cases

SURFACE_SHARE = {"ask": 0.3, "whatif": 0.4, "http": 0.3}  # of run(n)'s inputs


# -- the benchmark -----------------------------------------------------------------------------
def drive(strategy: st.SearchStrategy[T], each: Callable[[T], None], n: int) -> None:
    """Feed ``n`` generated values to ``each`` (reproducible: derandomized, no database).

    The values are all generated first and the harness's objects then frozen out of the
    garbage collector's scans: generating inside the timed loop left Hypothesis's own objects
    for every full collection to walk, pauses of up to 214 ms that a served request never
    meets (measured with ``gc.callbacks``), charged to whichever request they fell in."""
    values: list[T] = []

    @settings(max_examples=n, deadline=None, database=None, derandomize=True,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck),
              verbosity=Verbosity.quiet)
    @given(strategy)
    def one(value: T) -> None:
        values.append(value)

    one()
    gc.collect()
    gc.freeze()
    for value in values:
        each(value)


class _Surface:
    """Latency samples, the slowest inputs and invariant violations for one surface."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.labelled: list[tuple[float, str]] = []
        self.failures: list[str] = []

    def add(self, ms: float, label: str) -> None:
        self.samples.append(ms)
        self.labelled.append((ms, label))

    def report(self) -> dict[str, Any]:
        slowest = sorted(self.labelled, reverse=True)[:3]
        return {**summarize(self.samples), "violations": len(self.failures),
                "first_violations": self.failures[:5],
                "slowest": [f"{ms:.0f} ms: {label}" for ms, label in slowest]}


def _label(text: str) -> str:
    return f"{len(text)} chars {text[:40]!r}"


def _ask_once(bot: Any, question: str, surface: _Surface) -> None:
    try:
        with no_swallowed_errors():
            ms, answer, error = timed(lambda: bot.ask(question))
            surface.add(ms, _label(question))
            if error is not None:
                check_ask_error(question, error)
            else:
                check_answer(question, answer)
    except FuzzFailure as exc:
        surface.failures.append(str(exc))


def _whatif_once(text: str, surface: _Surface) -> None:
    from assistant.whatif import looks_like_whatif, parse_slots, whatif_reply
    from retrieval.text import detect_language

    try:
        with no_swallowed_errors():
            lang = detect_language(text)
            ms, reply, error = timed(lambda: whatif_reply(text, lang))
            surface.add(ms, _label(text))
            expect(error is None, f"whatif_reply raised {error!r} for {text[:80]!r}")
            parse_slots(text)
            looks_like_whatif(text)
            check_whatif(text, lang, reply)
    except FuzzFailure as exc:
        surface.failures.append(str(exc))


def _http_once(client: Any, case: HttpCase, surface: _Surface) -> None:
    ms, response, error = timed(lambda: case.send(client))
    surface.add(ms, f"{case.method} {case.path[:40]} {len(case.body or b'')} B "
                    f"{(case.body or b'')[:40]!r}")
    try:
        expect(error is None, f"{error!r} for {case.method} {case.path[:80]}")
        check_http(case, response)
    except (FuzzFailure, KeyError, TypeError, ValueError) as exc:
        surface.failures.append(f"{type(exc).__name__}: {exc}")


def run(n: int = 5000) -> dict[str, Any]:
    """Fuzz the three surfaces with ``n`` inputs in all; return latency and violation figures."""
    from assistant.settings import apply_offline_env

    apply_offline_env()
    from fastapi.testclient import TestClient

    from assistant.bot import Assistant
    from ui.http_api import create_api
    from ui.server import freeze_startup_objects

    t0 = time.perf_counter()
    bot = Assistant()
    bot.wait_ready()
    bot.ask(ORDINARY_QUESTIONS[0])  # first-use costs (index, lexicon, rules) are not per-request
    bot.ask(ORDINARY_QUESTIONS[8])
    freeze_startup_objects()  # as `mingbai serve` does
    load_s = time.perf_counter() - t0
    counts = {k: max(1, round(n * share)) for k, share in SURFACE_SHARE.items()}
    surfaces = {k: _Surface() for k in counts}
    drive(questions(), lambda q: _ask_once(bot, q, surfaces["ask"]), counts["ask"])
    drive(whatif_texts(), lambda t: _whatif_once(t, surfaces["whatif"]), counts["whatif"])
    with TestClient(create_api(bot), raise_server_exceptions=False,
                    follow_redirects=False) as client:
        drive(http_cases(), lambda c: _http_once(client, c, surfaces["http"]), counts["http"])
    report = {name: s.report() for name, s in surfaces.items()}
    return {
        "inputs": sum(len(s.samples) for s in surfaces.values()),
        "target_ms": TARGET_MS,
        "load_and_warm_up_s": round(load_s, 1),
        "surfaces": report,
        "over_200ms": sum(r["over_200ms"] for r in report.values()),
        "violations": sum(r["violations"] for r in report.values()),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
