"""``mingbai what-if``: the educational limit estimate from the command line.

    mingbai what-if --sesame 700 --overdue 1 --change overdue_12m=3 --json

Invalid values exit with code 2 and a one-line message naming the field and its range.
"""

from __future__ import annotations

import inspect
import json
from typing import Annotated, Any

import typer

from assistant.whatif.profile import FIELD_SPECS, FIELDS, check_value

# one option per registry field (``--sesame``, ``--other-loans``): fields.yaml's ``option``
_OPTION_FIELDS = {spec.option.name: name for name, spec in FIELD_SPECS.items()}
_YES = ("yes", "y", "true", "1", "有", "是")
_NO = ("no", "n", "false", "0", "没有", "无", "否")


class _Invalid(Exception):
    """A value from the command line that we cannot use; the message is shown as is."""


def parse_value(name: str, raw: str) -> int | float | None:
    """Command-line text to a checked field value: ``"30%"`` → 0.3, ``"none"`` → None (income)."""
    if name not in FIELD_SPECS:
        raise _Invalid(f"unknown field {name!r}; valid fields: {', '.join(FIELDS)}")
    text = raw.strip().lower()
    value: Any
    try:
        if FIELD_SPECS[name].kind is bool:
            value = True if text in _YES else False if text in _NO else raw
        elif text in ("none", "null", "unknown", ""):
            value = None
        elif FIELD_SPECS[name].kind is float and text.endswith("%"):
            value = float(text[:-1]) / 100
        elif FIELD_SPECS[name].kind is int:
            value = int(text)
        else:
            value = float(text)
    except ValueError:
        raise _Invalid(
            f"{name} must be {FIELD_SPECS[name].describe_range()} (got {raw!r})"
        ) from None
    try:
        return check_value(name, value)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None


def _parse_change(item: str) -> tuple[str, int | float | None]:
    if "=" not in item:
        raise _Invalid(f"--change expects field=value, e.g. --change overdue_12m=3 (got {item!r})")
    name, raw = (part.strip() for part in item.split("=", 1))
    return name, parse_value(name, raw)


def _opt(metavar: str, help_text: str) -> Any:
    return typer.Option(metavar=metavar, help=help_text)


def _signature() -> inspect.Signature:
    """The command's options: one per registry field, then the change, target, language and
    JSON switches."""
    def option(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                 annotation=annotation)

    fields = [option(spec.option.name,
                     Annotated[str | None, _opt(spec.option.metavar, spec.option.help)])
              for spec in FIELD_SPECS.values()]
    return inspect.Signature([
        *fields,
        option("change", Annotated[list[str] | None,
                                   _opt("FIELD=VALUE", "a change; repeatable")]),
        option("target", Annotated[str | None,
                                   _opt("BAND", "plan target (default: next band up)")]),
        option("lang", Annotated[str, _opt("zh|en", "answer language")], "zh"),
        option("as_json", Annotated[bool, typer.Option("--json", help="print JSON")], False),
    ])


def what_if_command(**given: Any) -> None:
    """Estimate an (educational) Jiebei-style limit range and compare what-if changes."""
    from assistant.whatif.simulate import simulate

    change, target = given.pop("change"), given.pop("target")
    lang, as_json = given.pop("lang"), given.pop("as_json")
    try:
        values = {_OPTION_FIELDS[k]: parse_value(_OPTION_FIELDS[k], v)
                  for k, v in given.items() if v is not None}
        changes = dict(_parse_change(item) for item in change or [])
        sim = simulate(values, changes, target)
    except (_Invalid, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(sim.to_dict(lang), ensure_ascii=False, indent=2))
        return
    for line in _as_text(sim.before, sim.result, sim.plan, lang):
        typer.echo(line)


what_if_command.__signature__ = _signature()  # type: ignore[attr-defined]
what_if_command.__annotations__ = {
    p.name: p.annotation for p in what_if_command.__signature__.parameters.values()  # type: ignore[attr-defined]
}


def register(app: typer.Typer) -> None:
    """Add the ``what-if`` command to ``app``."""
    app.command("what-if")(what_if_command)


def _as_text(before: Any, result: Any, plan: Any, lang: str) -> list[str]:
    from assistant.whatif.reply import NOTICE

    zh = lang == "zh"
    lines = [
        f"{'估算' if zh else 'Estimate'}: ¥{before.low:,}–¥{before.high:,} "
        f"({before.band_label(lang)}, {before.points} {'分' if zh else 'points'})"
    ]
    if result:
        lines.append(result.explanation.text(lang))
    shown = result.after if result else before
    for r in shown.reasons:
        lines.append(f"- {r.text(lang)} (-{r.points_lost})")
    lines.append(plan.explanation.text(lang))
    lines.append(f"rules_version: {before.rules_version}")
    lines.append(NOTICE[lang if lang in NOTICE else "zh"])
    return lines
