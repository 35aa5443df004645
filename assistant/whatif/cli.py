"""``mingbai what-if``: the educational limit estimate from the command line.

    mingbai what-if --sesame 700 --overdue 1 --change overdue_12m=3 --json

Invalid values exit with code 2 and a one-line message naming the field and its range.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from assistant.whatif.profile import FIELD_SPECS, FIELDS, check_value

_OPTION_FIELDS = {
    "sesame": "sesame_score",
    "on_time": "on_time_months",
    "overdue": "overdue_12m",
    "utilization": "utilization",
    "applications": "applications_6m",
    "account_age": "account_age_months",
    "income": "monthly_income",
    "xianyu_orders": "xianyu_orders_12m",
}


class _Invalid(Exception):
    """A value from the command line that we cannot use; the message is shown as is."""


def parse_value(name: str, raw: str) -> int | float | None:
    """Command-line text to a checked field value: ``"30%"`` → 0.3, ``"none"`` → None (income)."""
    if name not in FIELD_SPECS:
        raise _Invalid(f"unknown field {name!r}; valid fields: {', '.join(FIELDS)}")
    text = raw.strip().lower()
    value: Any
    try:
        if text in ("none", "null", "unknown", ""):
            value = None
        elif name == "utilization" and text.endswith("%"):
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


def register(app: typer.Typer) -> None:
    """Add the ``what-if`` command to ``app``."""

    @app.command("what-if")
    def what_if_command(
        sesame: Annotated[str | None, _opt("350-950", "Sesame score")] = None,
        on_time: Annotated[str | None, _opt("MONTHS", "months of on-time repayment")] = None,
        overdue: Annotated[str | None, _opt("COUNT", "overdue events in 12 months")] = None,
        utilization: Annotated[str | None, _opt("SHARE", "limits in use: 0.3 or 30%")] = None,
        applications: Annotated[str | None, _opt("COUNT", "applications in 6 months")] = None,
        account_age: Annotated[str | None, _opt("MONTHS", "account age in months")] = None,
        income: Annotated[str | None, _opt("YUAN", "monthly income, or none")] = None,
        xianyu_orders: Annotated[str | None, _opt("COUNT", "Xianyu orders in 12 months")] = None,
        change: Annotated[list[str] | None, _opt("FIELD=VALUE", "a change; repeatable")] = None,
        target: Annotated[str | None, _opt("BAND", "plan target (default: next band up)")] = None,
        lang: Annotated[str, _opt("zh|en", "answer language")] = "zh",
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    ) -> None:
        """Estimate an (educational) Jiebei-style limit range and compare what-if changes."""
        from assistant.whatif.simulate import simulate

        given = {"sesame": sesame, "on_time": on_time, "overdue": overdue,
                 "utilization": utilization, "applications": applications,
                 "account_age": account_age, "income": income, "xianyu_orders": xianyu_orders}
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
