"""``mingbai calibrate``: derive a model's answer thresholds from an evaluation file.

It searches every plain question of the file once (no history, routed to the knowledge base),
then chooses each threshold in turn, two rounds, to maximise the balanced accuracy of the
decision it drives — abstaining on the rows that expect an abstention against answering the rows
that expect an entry; warning on the scam rows against not warning on the others — and takes the
middle of the best range. It runs the real decision policy on the real search results, so what it
optimises is what the assistant does. The result is stored by :mod:`assistant.calibration`.
"""

from __future__ import annotations

import datetime as _dt
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.calibration import BUNDLED_MODEL, Calibration, Thresholds, write_calibration
from assistant.decision import AnsweringRules, DecisionPolicy
from knowledge.entry import Lang
from retrieval.embeddings import model_identity
from retrieval.text import detect_language

if TYPE_CHECKING:
    from assistant.evaluation import EvalRow
    from assistant.factory import Components
    from assistant.settings import Settings

GRID = tuple(round(0.30 + 0.0025 * i, 4) for i in range(281))  # 0.30 ... 1.00
LANGS: tuple[Lang, ...] = ("zh", "en")
MIN_ROWS = 8  # fewer rows of a language than this: it takes the other language's threshold


# -- deriving -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Case:
    question: str
    lang: Lang
    result: Any  # retrieval.search.SearchResult
    abstain: bool | None  # True: should abstain; False: should answer; None: not a case
    scam: bool | None


def _balanced(pairs: Sequence[tuple[bool, bool]]) -> float:
    """Balanced accuracy of (wanted, got) pairs; 0 when a class is missing."""
    pos = [got for want, got in pairs if want]
    neg = [not got for want, got in pairs if not want]
    if not pos or not neg:
        return 0.0
    return (sum(pos) / len(pos) + sum(neg) / len(neg)) / 2


def _best(
    score: Callable[[float], float], grid: Sequence[float], seen: Sequence[float]
) -> tuple[float, float]:
    """The threshold with the best score, and that score: the middle of the best range, after
    clipping it to the similarities actually ``seen`` (beyond them the set says nothing, and a
    range that runs to the grid's end would put the threshold where no question is)."""
    scores = [score(t) for t in grid]
    top = max(scores)
    best = [t for t, s in zip(grid, scores, strict=True) if s == top]
    inside = [t for t in best if min(seen, default=0.0) <= t <= max(seen, default=1.0)]
    return round(statistics.median_low(inside or best), 4), top


def calibrate(components: Components, rows: Sequence[EvalRow], identity: str) -> Calibration:
    """Derive the thresholds for the components' model from ``rows`` (see the module doc)."""
    c = components
    plain = [r for r in rows if not r.history and r.expect_route in (None, "knowledge")
             and c.router.route(r.question) == "knowledge" and c.dialogue.kind(r.question) is None]
    results = c.search.search_many([r.question for r in plain],
                                   c.search.embed_many([r.question for r in plain]), k=10)
    cases = []
    for row, result in zip(plain, results, strict=True):
        answerable = bool(row.expect_doc) and not row.expect_clarify and row.expect_scam is not True
        # the row says, or a row expecting an entry should be answered
        abstain = row.expect_abstain if row.expect_abstain is not None else (
            False if answerable else None)
        cases.append(_Case(row.question, detect_language(row.question), result, abstain,
                           row.expect_scam))  # fmt: skip
    base = c.rules
    values: dict[str, Any] = {
        "abstain_below": dict(base.abstain_below),
        "unknown_word_below": dict(base.unknown_word_below),
        "out_of_domain_below": base.out_of_domain_below,
    }
    # start from where the answerable questions' best similarities sit
    best_dense = [x.result.hits[0].dense for x in cases if x.abstain is False and x.result.hits]
    start = round(statistics.quantiles(best_dense, n=20)[0], 4) if len(best_dense) > 20 else 0.5
    for lang in LANGS:
        values["abstain_below"][lang] = values["unknown_word_below"][lang] = start
    values["out_of_domain_below"] = start

    def rules_with(v: dict[str, Any]) -> AnsweringRules:
        return base.model_copy(update=v)

    def abstain_score(v: dict[str, Any], lang: Lang | None = None) -> float:
        policy = DecisionPolicy(rules_with(v), c.entries, c.policy.lexicon,
                                c.router.credit_question)  # fmt: skip
        pairs = [(x.abstain, policy.decide(x.result, scam=False, query=x.question,
                                           lang=x.lang).abstained)
                 for x in cases if x.abstain is not None and (lang is None or x.lang == lang)]
        return _balanced(pairs)

    counts = {lang: sum(1 for x in cases if x.abstain is not None and x.lang == lang)
              for lang in LANGS}  # fmt: skip
    for _ in range(2):
        for lang in LANGS:
            own: Lang | None = lang if counts[lang] >= MIN_ROWS else None
            for key in ("abstain_below", "unknown_word_below"):
                floor = values["abstain_below"][lang] if key == "unknown_word_below" else 0.0

                def score(t: float, key: str = key, lang: Lang = lang,
                          own: Lang | None = own) -> float:  # fmt: skip
                    return abstain_score({**values, key: {**values[key], lang: t}}, own)

                seen = [x.result.hits[0].dense for x in cases
                        if x.result.hits and x.abstain is not None and x.lang == lang]
                values[key][lang], _ = _best(score, [t for t in GRID if t >= floor], seen)
        floor = min(values["abstain_below"].values())
        values["out_of_domain_below"], _ = _best(
            lambda t: abstain_score({**values, "out_of_domain_below": t}),
            [t for t in GRID if t >= floor],
            [x.result.hits[0].dense for x in cases if x.result.hits and x.abstain is not None])

    scam_cases = [x for x in cases if x.scam is not None]

    def scam_score(t: float) -> float:
        pairs = []
        for x in scam_cases:
            top = x.result.hits[0] if x.result.hits else None
            evidence = top is not None and c.entries[top.entry_id].is_scam and top.dense >= t
            pairs.append((bool(x.scam), c.scam.check(x.question, evidence)))
        return _balanced(pairs)

    scam_seen = [x.result.hits[0].dense for x in scam_cases
                 if x.result.hits and c.entries[x.result.hits[0].entry_id].is_scam]
    values["scam_evidence_above"], scam_acc = _best(scam_score, GRID, scam_seen)
    thresholds = Thresholds(**values)
    measured = {"rows": len(cases), "abstain_balanced_accuracy": round(abstain_score(values), 4),
                "scam_balanced_accuracy": round(scam_acc, 4)}  # fmt: skip
    fingerprint = str(getattr(c.search.store.embedder, "fingerprint", ""))
    return Calibration(model=identity, fingerprint=fingerprint,
                       calibrated=_dt.date.today().isoformat(), source="mingbai calibrate",
                       thresholds=thresholds, measured=measured)  # fmt: skip


DEFAULT_EVAL = Path(__file__).resolve().parents[1] / "knowledge" / "eval" / "faq.jsonl"


def run_calibration(
    settings: Settings, eval_file: Path = DEFAULT_EVAL, *, write: bool = True
) -> tuple[Calibration, Path | None]:
    """Calibrate the configured model on ``eval_file`` (building the model and the index when
    missing) and, with ``write``, store the result in the data dir; returns it and where."""
    from assistant.evaluation.rows import load_rows
    from assistant.factory import build_components

    components = build_components(settings, require_calibration=False, warm=False)
    model_path = str(getattr(components.search.store.embedder, "model_path", ""))
    identity = model_identity(model_path) if model_path else BUNDLED_MODEL
    calibration = calibrate(components, load_rows(eval_file).rows, identity)
    calibration = calibration.model_copy(update={"source": f"mingbai calibrate {eval_file.name}"})
    return calibration, write_calibration(calibration, settings.home) if write else None
