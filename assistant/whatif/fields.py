"""The what-if field registry: every factor the rules scorer reads, from ``rules/fields.yaml``.

One entry per factor declares its kind (int, float or yes/no), range, default, labels, how a value
reads, its reason and plan texts, the yes/no words the chat reads and the values tests probe.
``Profile``, the command line, the page, the MCP tool, the slot parser and the scorer's texts are
all built from it; the points live in ``rules/limit.jdm.json``.

>>> FIELD_SPECS["utilization"].describe_range()
'a number between 0 and 1'
>>> format_value("utilization", 0.3, "en"), format_value("other_loans", True, "zh")
('30%', '有')
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from knowledge.errors import RulesError, validation_problems

FIELDS_PATH = Path(__file__).resolve().parent / "rules" / "fields.yaml"
Value = int | float | bool | None


class Texts(BaseModel):
    """One text in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Option(BaseModel):
    """The factor's ``mingbai what-if`` option (``--<name>``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z][a-z_]*$")
    metavar: str
    help: str


class PlanText(BaseModel):
    """A factor the person can act on: the direction that helps, and the step's text."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    direction: Literal["up", "down"]
    order: int
    step: Texts


class Words(BaseModel):
    """The words that name a yes/no factor in a chat message ("房贷", "mortgage")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    zh: tuple[str, ...] = ()
    en: tuple[str, ...] = ()


class Page(BaseModel):
    """How the What-if tab shows a factor."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    range: tuple[float, float] | None = None  # the slider's; None: the valid range
    unit: Texts | None = None
    percent: bool = False  # a 0-1 share, shown and typed as 0-100 %


class FieldSpec(BaseModel):
    """One factor: what it holds, its range, its default and how to show it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    kind_name: Literal["int", "float", "yesno"] = Field(alias="kind")
    effect: Literal["raises", "lowers", "range"]  # of a higher value (or yes) on the estimate
    range: tuple[float, float | None] = (0, None)
    nullable: bool = False
    default: Value
    label: Texts
    option: Option
    show: Texts | None = None
    yes_text: Texts | None = None
    no_text: Texts | None = None
    reason: Texts
    unknown_reason: Texts | None = None
    plan: PlanText | None = None
    words: Words = Words()
    probe: tuple[Value | Literal["any"], ...]
    probe_max: int | None = None
    page: Page = Page()

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.kind_name == "yesno":
            if self.yes_text is None or self.no_text is None:
                raise ValueError("a yesno field needs yes_text and no_text")
            if self.plan is not None:
                raise ValueError("a yesno field cannot be a plan step")
        elif self.show is None:
            raise ValueError(f"a {self.kind_name} field needs show texts")
        return self

    @property
    def kind(self) -> type:
        """int, float or bool."""
        return {"int": int, "float": float, "yesno": bool}[self.kind_name]

    @property
    def minimum(self) -> float:
        return 0 if self.kind_name == "yesno" else self.range[0]

    @property
    def maximum(self) -> float | None:
        return 1 if self.kind_name == "yesno" else self.range[1]

    @property
    def label_zh(self) -> str:
        return self.label.zh

    @property
    def label_en(self) -> str:
        return self.label.en

    def page_label(self, lang: str) -> str:
        """The label as the page shows it, with its unit: "账户使用时长（个月）", "Account age
        (months)"."""
        unit = self.page.unit
        if lang == "zh":
            return f"{self.label.zh}（{unit.zh}）" if unit else self.label.zh
        text = self.label.en[:1].upper() + self.label.en[1:]
        return f"{text} ({unit.en})" if unit else text

    @property
    def direction(self) -> int:
        """+1 when a higher value helps a plan, -1 when a lower one does (0: not a plan step)."""
        return 0 if self.plan is None else (1 if self.plan.direction == "up" else -1)

    def describe_range(self) -> str:
        if self.kind_name == "yesno":
            return "yes or no (true or false)"
        noun = "an integer" if self.kind is int else "a number"
        lo = _plain(self.minimum)
        rng = (f"{noun} >= {lo}" if self.maximum is None
               else f"{noun} between {lo} and {_plain(self.maximum)}")
        return f"{rng} or None (unknown)" if self.nullable else rng

    def shown_range(self, lang: str) -> str:
        """The valid range as a user reads it (the page's units, shares as 0-100 %), for "X 应为…"
        / "X must be …": "350–950 之间的整数", "a percentage from 0 to 100"."""
        if self.kind_name == "yesno":
            return "有或没有" if lang == "zh" else "yes or no"
        scale = 100 if self.page.percent else 1
        lo = f"{self.minimum * scale:g}"
        hi = None if self.maximum is None else f"{self.maximum * scale:g}"
        if lang == "zh":
            noun = "整数" if self.kind is int else "数"
            if hi is None:
                return f"不小于 {lo} 的{noun}"
            return f" {lo}–{hi}{'%' if self.page.percent else ''} 之间的{noun}"
        if self.page.percent:
            return f"a percentage from {lo} to {hi}"
        noun = "a whole number" if self.kind is int else "a number"
        return f"{noun} of at least {lo}" if hi is None else f"{noun} from {lo} to {hi}"

    def format(self, value: Value, lang: str) -> str:
        """How ``value`` reads in ``lang`` ("30%", "12个月", "有")."""
        if value is None:
            return "未提供" if lang == "zh" else "not given"
        if self.kind_name == "yesno":
            shown = self.yes_text if value else self.no_text
            return shown.text(lang) if shown else str(value)
        template = self.show.text(lang) if self.show else "{v}"
        number: int | float = int(value) if self.kind is int else float(value)
        return template.format(v=number, pct=f"{float(value) * 100:.0f}%")

    def random_value(self, rnd: random.Random) -> Value:
        """One of the probe values (``any``: a random value in the range)."""
        pick = rnd.choice(self.probe)
        if pick != "any":
            return pick
        top = self.maximum if self.maximum is not None else (self.probe_max or 10**6)
        if self.kind is float:
            return round(rnd.uniform(self.minimum, top), 4)
        return rnd.randint(int(self.minimum), int(top))


def _plain(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def load_fields(path: Path = FIELDS_PATH) -> dict[str, FieldSpec]:
    """The registry, validated: an unknown key or a wrong type is a RulesError naming the file,
    the field and the key."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: cannot read the what-if fields ({exc})") from exc
    rows = data.get("fields") if isinstance(data, dict) else None
    if not isinstance(rows, dict) or not rows:
        raise RulesError(f"{path}: expected a 'fields:' mapping of field name to its entry")
    specs: dict[str, FieldSpec] = {}
    for name, row in rows.items():
        try:
            specs[str(name)] = FieldSpec.model_validate({**(row or {}), "name": str(name)})
        except ValidationError as exc:
            problems, _ = validation_problems(exc.errors())
            raise RulesError(f"{path}: field {name}: {problems}", field=str(name)) from None
    options = [s.option.name for s in specs.values()]
    if len(set(options)) != len(options):
        raise RulesError(f"{path}: two fields share a command-line option name")
    return specs


FIELD_SPECS: dict[str, FieldSpec] = load_fields()
FIELDS: tuple[str, ...] = tuple(FIELD_SPECS)
# A typical profile, used for every field a question does not mention (and stated in the answer).
DEFAULTS: dict[str, Value] = {name: spec.default for name, spec in FIELD_SPECS.items()}


def format_value(name: str, value: Value, lang: str) -> str:
    """Human form of a field value: ``format_value("utilization", 0.3, "en") == "30%"``."""
    return FIELD_SPECS[name].format(value, lang)


def random_values(rnd: random.Random) -> dict[str, Value]:
    """A random valid profile as a dict (thresholds are hit often on purpose)."""
    return {name: spec.random_value(rnd) for name, spec in FIELD_SPECS.items()}
