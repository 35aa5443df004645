"""``mingbai eval FILE``: ask every question of a FAQ file, write a report, gate CI on metrics.

    mingbai eval knowledge/eval/faq.jsonl --out eval-out/today --compare eval-out/last \\
        --workers 2 --gate                       # the targets of knowledge/eval/targets.yaml
    mingbai eval FILE --fail-under hit_at_3=0.95 --fail-under route_accuracy=0.98 \\
        --fail-over p95_ms=60             # or --fail-under hit_at_3=0.95,route_accuracy=0.98

Exit codes: 0 all good; 1 a metric misses its threshold, bad rows were skipped (without
``--skip-bad``) or the file cannot be used; 2 usage errors (unknown metric, malformed value).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.errors import MingbaiError
from assistant.evaluation.run import (
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    METRICS,
    Asker,
    EvalFileError,
    evaluate,
    load_rows,
)
from assistant.privacy import mask_personal_data
from knowledge.lang import Lang, detect_language

SHOWN = ("count", "passed", "route_accuracy", "hit_at_1", "hit_at_3", "mrr", "ndcg_at_10",
         "answer_pass_rate", "abstain_precision", "abstain_recall", "scam_precision",
         "scam_recall", "scam_false_alarm_rate", "p50_ms", "p95_ms")  # fmt: skip


def _default_assistant() -> Asker:
    from assistant.bot import default_assistant

    return default_assistant()


# Builds the assistant when the command runs; tests swap in a fake (monkeypatch this name).
assistant_factory: Callable[[], Asker] = _default_assistant


class UsageError(Exception):
    """A command-line value we cannot use; the message is shown as is (exit code 2)."""


def parse_thresholds(items: Sequence[str], *, lower: bool) -> dict[str, float]:
    """``["hit_at_3=0.95", "mrr=0.85,ndcg_at_10=0.9"]`` → ``{"hit_at_3": 0.95, ...}``."""
    flag, other = ("--fail-over", "--fail-under") if lower else ("--fail-under", "--fail-over")
    allowed = LOWER_IS_BETTER if lower else HIGHER_IS_BETTER
    out: dict[str, float] = {}
    for part in (p.strip() for item in items for p in item.split(",")):
        if not part:
            continue
        name, sep, raw = (s.strip() for s in part.partition("="))
        if not sep:
            raise UsageError(f"{flag} expects METRIC=VALUE, e.g. {flag} {allowed[0]}=0.9")
        if name not in METRICS:
            raise UsageError(
                f"{flag}: unknown metric {name!r}; valid metrics: {', '.join(allowed)}"
            )
        if name not in allowed:
            better = "lower" if lower is False else "higher"
            raise UsageError(f"{name}: {better} is better, so use {other} {name}={raw}")
        try:
            out[name] = float(raw)
        except ValueError:
            raise UsageError(f"{flag} {name}: {raw!r} is not a number") from None
    return out


def gate(summary: dict[str, Any], under: dict[str, float], over: dict[str, float]) -> list[str]:
    """Each threshold the summary misses, as text (a metric nothing measured misses too)."""
    problems = []
    for name, limit in under.items():
        value = summary.get(name)
        if value is None or value < limit:
            problems.append(f"{name} = {_show(value)}, below --fail-under {limit:g}")
    for name, limit in over.items():
        value = summary.get(name)
        if value is None or value > limit:
            problems.append(f"{name} = {_show(value)}, above --fail-over {limit:g}")
    return problems


def _show(value: Any) -> str:
    return "n/a (no question measures it)" if value is None else f"{value:g}"


def _error(message: str, code: int) -> int:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return code


def run_eval(
    file: Path,
    *,
    out: Path | None = None,
    compare: Path | None = None,
    workers: int = 1,
    batch_size: int = 32,
    fail_under: Sequence[str] = (),
    fail_over: Sequence[str] = (),
    gate_targets: bool = False,
    skip_bad: bool = False,
    factory: Callable[[], Asker] | None = None,
    lang: str | None = None,
) -> int:
    """The whole command; returns the exit code (the Typer command only wraps it)."""
    from tqdm import tqdm

    from assistant.evaluation.report import DEFAULT_TARGETS, fmt, load_run, meets, write_report

    try:
        under = parse_thresholds(fail_under, lower=False)
        over = parse_thresholds(fail_over, lower=True)
        if gate_targets:  # the file's targets, then any given on the command line
            from assistant.evaluation.targets import load_targets

            targets_file = load_targets()
            under = {**targets_file.at_least, **under}
            over = {**targets_file.at_most, **over}
        previous = load_run(compare) if compare is not None else None
    except (UsageError, MingbaiError) as exc:
        return _error(str(exc), 2)
    try:
        loaded = load_rows(file)
    except EvalFileError as exc:
        return _error(str(exc), 1)
    if lang is not None:  # the rows of one language (a row without `lang`: its question's)
        loaded.rows[:] = [r for r in loaded.rows
                          if (r.lang or detect_language(r.question)) == lang]  # fmt: skip
    for warning in loaded.warnings:
        typer.secho(f"warning: {mask_personal_data(warning)}", err=True, fg=typer.colors.YELLOW)
    bad = [f"{file}:{b.line}: {mask_personal_data(b.message)}" for b in loaded.bad]
    for line in bad:
        typer.secho(f"bad row skipped: {line}", err=True, fg=typer.colors.YELLOW)
    if not loaded.rows:
        return _error(f"{file}: no usable rows ({len(bad)} bad, listed above)", 1)

    out_dir = out or Path.cwd() / "eval-out" / time.strftime("%Y%m%d-%H%M%S")
    try:
        bot = (factory or assistant_factory)()
    except MingbaiError as exc:
        return _error(str(exc), 1)
    with tqdm(total=len(loaded.rows), desc="eval", unit="q", file=sys.stderr, disable=None) as bar:
        try:
            run = evaluate(bot, loaded.rows, workers=workers, batch_size=batch_size,
                           on_result=lambda _: bar.update())  # fmt: skip
        except MingbaiError as exc:
            return _error(str(exc), 1)
    warnings = [mask_personal_data(w) for w in loaded.warnings]
    meta = {"file": str(file), "workers": workers, "batch_size": batch_size,
            "bad_rows": bad, "warnings": warnings}  # fmt: skip
    try:
        report = write_report(run, out_dir, targets={**under, **over}, previous=previous, meta=meta)
    except OSError as exc:
        return _error(f"{out_dir}: cannot write the report ({exc.strerror or exc})", 1)

    targets = {**DEFAULT_TARGETS, **under, **over}
    for name in SHOWN:
        value = run.summary.get(name)
        shown = fmt(name, value)
        goal = ""
        if name in targets:
            sign = ">=" if METRICS[name] else "<="
            status = "ok" if meets(name, value, targets[name]) else "MISSED"
            goal = f"{sign} {targets[name]:g} {status}"
        typer.echo(f"{name:<22} {shown!s:>10}  {goal}")
    by_family = run.summary.get("scam_recall_by_family") or {}
    if by_family:
        typer.echo("scam recall by family: " + ", ".join(
            f"{family} {cell['warned']}/{cell['count']}" for family, cell in by_family.items()))
    if report.comparison is not None:
        cmp = report.comparison
        typer.echo(f"vs {cmp.previous}: {len(cmp.regressions)} newly failing, "
                   f"{len(cmp.fixed)} fixed")  # fmt: skip
    typer.echo(f"report: {report.html}")

    code = 0
    for problem in gate(run.summary, under, over):
        code = _error(problem, 1)
    if bad and not skip_bad:
        code = _error(f"{len(bad)} bad rows skipped (listed above); fix them or pass --skip-bad", 1)
    return code


PAIR_SHOWN = ("pairs", "same", "apart", "balanced", "wrong_product", "abstain_rate",
              "clarify_rate", "scam_rate", "distinct_intents", "questions")  # fmt: skip


def run_pairs(
    file: Path, *, out: Path | None = None, factory: Callable[[], Any] | None = None
) -> int:
    """``mingbai eval --pairs FILE``: the intent test on question pairs (evaluation.pairs)."""
    import json

    from assistant.evaluation.pairs import PairFileError, evaluate_pairs, read_pairs
    from knowledge.lexicon import load_lexicon
    from retrieval.text import normalize

    try:
        pairs = read_pairs(file)
    except PairFileError as exc:
        return _error(str(exc), 1)
    try:
        bot: Any = (factory or assistant_factory)()
    except MingbaiError as exc:
        return _error(str(exc), 1)
    lexicon = load_lexicon()
    entries = bot.components.entries

    def entry_products(entry_id: str) -> set[str]:
        entry = entries.get(entry_id)
        return set(entry.products) if entry is not None else set()

    run = evaluate_pairs(
        bot, pairs, question_products=lambda q: set(lexicon.products_in(normalize(q))),
        entry_products=entry_products,
    )  # fmt: skip
    for name in PAIR_SHOWN:
        typer.echo(f"{name:<18} {run.summary[name]}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "pairs-summary.json").write_text(
            json.dumps(run.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        typer.echo(f"summary: {out / 'pairs-summary.json'}")
    return 0


def _opt(*names: str, metavar: str | None = None, help_text: str) -> Any:
    return typer.Option(*names, metavar=metavar, help=help_text, show_default=False)


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command to ``app``."""

    @app.command("eval")
    def eval_command(
        file: Annotated[Path, typer.Argument(metavar="FILE", help="A .jsonl, .csv or .yaml file.")],
        out: Annotated[Path | None, _opt("--out", metavar="DIR",
                       help_text="Output folder (default: eval-out/TIMESTAMP).")] = None,
        compare: Annotated[Path | None, _opt("--compare", metavar="PREV_DIR",
                           help_text="An earlier run's folder: report what changed.")] = None,
        workers: Annotated[int, typer.Option(min=1, help="Batches answered in parallel.")] = 1,
        batch_size: Annotated[int, typer.Option(min=1, help="Questions per batch.")] = 32,
        fail_under: Annotated[list[str] | None, _opt("--fail-under", metavar="METRIC=VALUE",
                              help_text="Exit 1 if METRIC < VALUE; repeat the option or separate "
                              "pairs with commas.")] = None,
        fail_over: Annotated[list[str] | None, _opt("--fail-over", metavar="METRIC=VALUE",
                             help_text="Exit 1 if METRIC > VALUE (lower-is-better metrics: "
                             f"{', '.join(LOWER_IS_BETTER)}).")] = None,
        gate_targets: Annotated[bool, typer.Option("--gate", help="Exit 1 if any target of "
                                "knowledge/eval/targets.yaml is missed.")] = False,
        skip_bad: Annotated[bool, typer.Option("--skip-bad",
                            help="Malformed rows do not fail the run (still reported).")] = False,
        lang: Annotated[Lang | None, typer.Option("--lang", help="Only the rows in this "
                        "language (zh or en).")] = None,
        pairs: Annotated[bool, typer.Option("--pairs", help="FILE holds question pairs "
                         "(sentence1, sentence2, label): report same / apart / balanced.")] = False,
    ) -> None:  # fmt: skip
        """Evaluate the assistant on a FAQ file: results.jsonl, summary.json and report.html."""
        if pairs:
            code = run_pairs(file, out=out)
            if code:
                raise typer.Exit(code)
            return
        code = run_eval(
            file, out=out, compare=compare, workers=workers, batch_size=batch_size,
            fail_under=fail_under or (), fail_over=fail_over or (), gate_targets=gate_targets,
            skip_bad=skip_bad, lang=lang,
        )  # fmt: skip
        if code:
            raise typer.Exit(code)
