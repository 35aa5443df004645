"""The what-if ``Profile``: the eight facts the rules scorer reads, validated, with defaults.

>>> Profile(sesame_score=680).utilization       # missing fields take DEFAULTS
0.3
>>> try:
...     Profile(sesame_score=1000)
... except ProfileError as exc:
...     print(exc)
sesame_score must be an integer between 350 and 950 (got 1000)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from knowledge.errors import ProfileError


@dataclass(frozen=True)
class FieldSpec:
    """What a field holds, its allowed range and how to show it."""

    name: str
    kind: type  # int or float
    minimum: float
    maximum: float | None  # None: no upper bound
    nullable: bool
    label_zh: str
    label_en: str

    def describe_range(self) -> str:
        noun = "an integer" if self.kind is int else "a number"
        lo = _plain(self.minimum)
        if self.maximum is None:
            rng = f"{noun} >= {lo}"
        else:
            rng = f"{noun} between {lo} and {_plain(self.maximum)}"
        return f"{rng} or None (unknown)" if self.nullable else rng


def _plain(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


FIELD_SPECS: dict[str, FieldSpec] = {
    s.name: s
    for s in (
        FieldSpec("sesame_score", int, 350, 950, False, "芝麻分", "Sesame score"),
        FieldSpec("on_time_months", int, 0, 600, False, "按时还款记录", "on-time repayment record"),
        FieldSpec("overdue_12m", int, 0, 365, False, "近12个月逾期次数",
                  "overdue events in 12 months"),
        FieldSpec("utilization", float, 0, 1, False, "额度使用率", "credit utilization"),
        FieldSpec("applications_6m", int, 0, 1000, False, "近6个月借贷申请次数",
                  "credit applications in 6 months"),
        FieldSpec("account_age_months", int, 0, 1200, False, "账户使用时长", "account age"),
        FieldSpec("monthly_income", int, 0, None, True, "月收入", "monthly income"),
        FieldSpec("xianyu_orders_12m", int, 0, None, False, "近12个月闲鱼订单数",
                  "Xianyu orders in 12 months"),
    )
}
FIELDS: tuple[str, ...] = tuple(FIELD_SPECS)

# A typical profile, used for every field a question does not mention (and stated in the answer).
# Sesame 650 sits in the middle of the published 350-950 scale's "good" tiers; one year of on-time
# repayment, no overdue, 30% utilization, one application, a three-year-old account, income not
# given (the rules treat unknown income as neutral) and no Xianyu orders.
DEFAULTS: dict[str, int | float | None] = {
    "sesame_score": 650,
    "on_time_months": 12,
    "overdue_12m": 0,
    "utilization": 0.3,
    "applications_6m": 1,
    "account_age_months": 36,
    "monthly_income": None,
    "xianyu_orders_12m": 0,
}


def _check(name: str, value: Any) -> int | float | None:
    """Return ``value`` in canonical form or raise ProfileError naming the field and its range."""
    spec = FIELD_SPECS[name]
    bad = ProfileError(f"{name} must be {spec.describe_range()} (got {value!r})", field=name)
    if value is None:
        if spec.nullable:
            return None
        raise bad
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad
    if isinstance(value, float) and not math.isfinite(value):
        raise bad
    if spec.kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise bad
        value = int(value)
    else:
        # Four decimals (0.01%) is finer than anyone knows their utilization, and it keeps the
        # value the rules engine sees identical to the one Python compares.
        value = round(float(value), 4)
    if value < spec.minimum or (spec.maximum is not None and value > spec.maximum):
        raise bad
    return value


class Profile(BaseModel):
    """A person's credit facts, as far as the educational scorer is concerned.

    Frozen and hashable; build a changed copy with :meth:`with_changes`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sesame_score: int = 650
    on_time_months: int = 12
    overdue_12m: int = 0
    utilization: float = 0.3
    applications_6m: int = 1
    account_age_months: int = 36
    monthly_income: int | None = None
    xianyu_orders_12m: int = 0

    def __init__(self, **data: Any) -> None:
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise ProfileError(
                f"unknown profile field(s) {', '.join(unknown)}; valid fields: {', '.join(FIELDS)}",
                field=unknown[0],
            )
        try:
            super().__init__(**data)
        except ValidationError as exc:
            locs = [err.get("loc", ()) for err in exc.errors()]
            field = str(locs[0][0]) if locs and locs[0] else None
            raise ProfileError(_first_message(exc), field=field) from None

    @field_validator("*", mode="before")
    @classmethod
    def _validate(cls, value: Any, info: Any) -> Any:
        return _check(info.field_name, value)

    def with_changes(self, **changes: Any) -> Profile:
        """A validated copy with some fields replaced; unknown names raise ProfileError."""
        return Profile(**{**self.as_dict(), **changes})

    def as_dict(self) -> dict[str, int | float | None]:
        return {name: getattr(self, name) for name in FIELDS}

    def key(self) -> tuple[int | float | None, ...]:
        """The field values in FIELDS order (a cheap cache key)."""
        return (
            self.sesame_score,
            self.on_time_months,
            self.overdue_12m,
            self.utilization,
            self.applications_6m,
            self.account_age_months,
            self.monthly_income,
            self.xianyu_orders_12m,
        )


def _first_message(exc: ValidationError) -> str:
    messages = []
    for err in exc.errors():
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, ValueError):
            messages.append(str(inner))
        else:
            field = ".".join(str(p) for p in err.get("loc", ())) or "profile"
            messages.append(f"{field}: {err.get('msg', 'invalid value')}")
    return "; ".join(messages)


def check_value(name: str, value: Any) -> int | float | None:
    """Validate one field on its own (used by the CLI and the slot parser)."""
    if name not in FIELD_SPECS:
        raise ProfileError(
            f"unknown profile field {name!r}; valid fields: {', '.join(FIELDS)}", field=name
        )
    return _check(name, value)


def format_value(name: str, value: int | float | None, lang: str) -> str:
    """Human form of a field value: ``format_value("utilization", 0.3, "en") == "30%"``."""
    zh = lang == "zh"
    if value is None:
        return "未提供" if zh else "not given"
    if name == "utilization":
        return f"{value * 100:.0f}%"
    if name in ("on_time_months", "account_age_months"):
        return f"{int(value)}个月" if zh else f"{int(value)} months"
    if name in ("overdue_12m", "applications_6m"):
        return f"{int(value)}次" if zh else f"{int(value)}"
    if name == "xianyu_orders_12m":
        return f"{int(value)}单" if zh else f"{int(value)}"
    if name == "monthly_income":
        return f"¥{int(value):,}"
    return str(value)
