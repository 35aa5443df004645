"""Read profile numbers and hypothetical changes out of a Chinese or English question.

>>> s = parse_slots("芝麻分从650涨到720,借呗额度会怎样?")
>>> s.values["sesame_score"], s.changes["sesame_score"], s.is_personal_whatif
(650, 720, True)
>>> parse_slots("If I pay off half my Huabei, will my Jiebei limit go up?").changes
{'utilization': Relative(op='mul', amount=0.5)}
>>> looks_like_whatif("借呗额度是怎么定的?")
False

Numbers may be Chinese numerals (两, 十二, 一年半, 六百八), full-width (６８０) or carry units
(1.2万, 8k); masked or vague ones (6**, 六百多, 几次) are reported in ``missing_required``.
Never raises: any input, however odd or long, yields a ``Slots``.

How things are written (numerals, units, field names, change verbs) lives in ``slot_grammar.py``;
this module decides what the matches mean: facts, changes, or a general question.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from assistant.whatif.profile import FIELD_SPECS, FIELDS
from assistant.whatif.slot_grammar import (
    ACCOUNT_ACT,
    AMOUNT,
    CLAUSE,
    COST,
    DIRECTION,
    ESTIMATE,
    FIRST_PERSON,
    GENERAL,
    HOW_TO,
    HUABEI,
    HYP,
    JIEBEI,
    LIMIT,
    MAX_CHARS,
    MORE,
    OPENING,
    OTHER_ASK,
    OVERDUE,
    RULES,
    THRESHOLD,
    WHAT_TO_DO,
    WHERE_TO_SEE,
    Kind,
    cn_to_int,
    normalize,
    normalize_canonical,
)
from retrieval.prepared import Prepared, Text

__all__ = [
    "MAX_CHARS",
    "Relative",
    "Slots",
    "cn_to_int",
    "looks_like_whatif",
    "normalize",
    "parse_slots",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Relative:
    """A change relative to the current value: ``mul`` 0.5 halves it, ``add`` 2 adds two."""

    op: Literal["mul", "add"]
    amount: float

    def apply(self, current: float) -> float:
        return current * self.amount if self.op == "mul" else current + self.amount


@dataclass(frozen=True)
class Slots:
    values: Mapping[str, int | float | None]  # current facts the question states
    changes: Mapping[str, int | float | Relative]  # hypothetical new values or relative changes
    assumed: tuple[str, ...]  # fields the question does not state (defaults will be used)
    missing_required: tuple[str, ...]  # numbers we must ask for (masked, vague or out of range)
    is_personal_whatif: bool
    out_of_range: Mapping[str, float] = field(default_factory=dict)


# -- matches -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Mention:
    """One rule match: a field, how it is stated and its number(s), at ``start:end``."""

    field: str
    kind: Kind
    value: float
    start: int
    end: int
    second: float = 0.0  # the "to" value of a from_to mention
    verb: bool = False  # set by a verb (涨到, raise to): always a change


def _mentions(t: str) -> list[_Mention]:
    taken = [False] * (len(t) + 1)
    found: list[_Mention] = []
    for fld, kind, pattern, convert in RULES:
        for m in pattern.finditer(t):
            if any(taken[m.start(): m.end()]):
                continue
            value = convert(m)
            if value is None:
                continue
            second = float(m.group(2)) if kind == "from_to" else 0.0
            if fld == "monthly_income" and kind in ("value", "set") and 0 < value < 100:
                continue  # "make 6 applications", "earn 8": not an income
            verb = (kind == "set" and fld != "utilization") or kind == "from_to"
            if fld == "utilization" and kind == "set" and re.search(r"\d", m.group(0)):
                verb = True
            found.append(_Mention(fld, kind, value, m.start(), m.end(), second, verb))
            for i in range(m.start(), m.end()):
                taken[i] = True
    return sorted(found, key=lambda x: x.start)


def _check(fld: str, value: float) -> bool:
    spec = FIELD_SPECS[fld]
    # a 400-digit "income" reads as float infinity: out of range, like any other too-big number
    return math.isfinite(value) and spec.minimum <= value and (
        spec.maximum is None or value <= spec.maximum)


def _canon(fld: str, value: float) -> int | float | bool:
    kind = FIELD_SPECS[fld].kind
    return round(value, 4) if kind is float else bool(value) if kind is bool else int(value)


def parse_slots(text: Text) -> Slots:
    """Everything the what-if answer needs from ``text``; never raises. A ``Prepared`` text is
    parsed once, however many steps ask (routing, a follow-up, the reply)."""
    try:
        if isinstance(text, Prepared):
            return text.view("slots", lambda p: _parse(normalize_canonical(p.norm)))
        return _parse(normalize(text if isinstance(text, str) else str(text)))
    except Exception:  # the chat must never crash on odd input
        log.exception("slot parsing failed; treating the question as general")
        return Slots({}, {}, FIELDS, (), False)


def _parse(t: str) -> Slots:
    """The slots of ``t``, a text in the slot grammar's normal form."""
    hyp = HYP.search(t)
    hyp_at = hyp.start() if hyp else len(t) + 1
    values: dict[str, int | float | None] = {}
    changes: dict[str, int | float | Relative] = {}
    masked: list[str] = []
    bad: dict[str, float] = {}
    mentions = _mentions(t)
    plain_hypothetical: list[str] = []
    for m in mentions:
        if m.kind == "masked":
            masked.append(m.field)
            continue
        if m.kind == "clear" and m.start < hyp_at:
            continue  # "还清后额度为什么没回来" is about repaying, not a what-if
        if m.kind == "clear":
            changes[m.field] = m.value
            continue
        if m.kind in ("mul", "add"):
            changes[m.field] = Relative(m.kind, m.value)
            continue
        if m.kind == "from_to":
            for v, target in ((m.value, values), (m.second, changes)):
                if _check(m.field, v):
                    target[m.field] = _canon(m.field, v)
                else:
                    bad[m.field] = v
            continue
        if not _check(m.field, m.value):
            bad[m.field] = m.value
            continue
        value = _canon(m.field, m.value)
        wants_more = m.field in ("on_time_months", "overdue_12m", "applications_6m",
                                 "xianyu_orders_12m") and MORE.search(t[max(0, m.start - 3): m.end])
        if m.start > hyp_at or m.kind == "set":
            if wants_more and m.kind == "value":
                changes[m.field] = Relative("add", value)
            else:
                changes[m.field] = value
                if m.kind == "value" and not m.verb:
                    plain_hypothetical.append(m.field)
        elif wants_more:
            changes[m.field] = Relative("add", value)
        elif m.field not in values:
            values[m.field] = value
    for name, change in changes.items():  # paying off a loan: the person has one now
        if FIELD_SPECS[name].kind is bool and name not in values:
            values[name] = not change
    _overdue_without_count(t, hyp_at, changes, values)
    _direction_clause(t, mentions, values, changes, hyp is not None)
    # "If my score is 680, what's my limit?" states facts, not a change: no direction word, no
    # stated current values, nothing relative.
    if (changes and not values and not DIRECTION.search(t)
            and set(changes) == set(plain_hypothetical)):
        values = {k: v for k, v in changes.items() if not isinstance(v, Relative)}
        changes = {}
    missing = [f for f in FIELDS if (f in masked or f in bad) and f not in values]
    personal = _is_personal(t, bool(values or changes), bool(missing), bool(changes))
    if personal and _told_in_passing(t, hyp is not None, values, bool(changes or missing)):
        personal = False
    if personal and not values and not changes and not missing:
        missing = ["sesame_score"]
    return Slots(
        values=values,
        changes=changes,
        assumed=tuple(f for f in FIELDS if f not in values),
        missing_required=tuple(missing),
        is_personal_whatif=personal,
        out_of_range=bad,
    )


def _told_in_passing(t: str, hyp: bool, values: Mapping[str, object], asked: bool) -> bool:
    """True when the question's numbers are told in passing, not to ask for an estimate
    (``asked``: it states a change or a number we must ask for)."""
    estimate = ESTIMATE.search(t) is not None
    direction = DIRECTION.search(t) is not None
    to_do = WHAT_TO_DO.search(t) is not None
    if to_do and not (estimate or direction or AMOUNT.search(t)):
        return True  # "如果第一次分期，之后可以一次还完吗": may I, not what happens to a limit
    if hyp:
        return False
    if WHERE_TO_SEE.search(t):
        return True  # "我花呗额度有多少在哪看" asks where it is shown
    if estimate:
        return False
    # "我一次都没逾期过，额度为啥被砍了": a zero read from a negation; "为什么我芝麻分到了***借呗
    # 额度还是不够" asks why; "借呗的额度全用光了 还想再借怎么办", "花呗先还一半行吗" what to do
    return bool((not asked and all(v == 0 for v in values.values()))
                or GENERAL.search(t) or (to_do and not direction))


def _overdue_without_count(t: str, hyp_at: int, changes: dict[str, int | float | Relative],
                           values: Mapping[str, object]) -> None:
    """A hypothetical overdue without a count (如果逾期了额度会降吗) means one more event."""
    if "overdue_12m" in changes or hyp_at > len(t) or not DIRECTION.search(t):
        return  # "what happens if I'm late?" asks about consequences, not about the limit
    rest = t[hyp_at:]
    clause = CLAUSE.split(rest, maxsplit=1)[0] if rest else ""
    late = OVERDUE + r"|\b(?:am|are|get|go|pay|paid) late\b|\bmiss(?:ed)? (?:1 )?payments?"
    if re.search(late, clause):
        changes["overdue_12m"] = Relative("add", 1)


def _direction_clause(t: str, mentions: list[_Mention], values: dict[str, int | float | None],
                      changes: dict[str, int | float | Relative], has_hyp: bool) -> None:
    """In 我芝麻分680，逾期两次会影响额度吗 the fact in the clause that asks "will it change" is
    the change being asked about."""
    if has_hyp or changes:
        return
    for clause in re.finditer(r"[^,;。!?、\n]+", t):
        if not DIRECTION.search(clause.group(0)):
            continue
        for m in mentions:
            if clause.start() <= m.start < clause.end() and m.field in values:
                value = values.pop(m.field)
                if value is not None:
                    changes[m.field] = value


def _is_personal(t: str, has_slots: bool, has_missing: bool, has_changes: bool = False) -> bool:
    if HOW_TO.search(t) and not ESTIMATE.search(t) and not HYP.search(t):
        return False  # "额度两年没动过 咋提额" asks what to do: the knowledge base answers
    limit = LIMIT.search(t) is not None
    estimate = ESTIMATE.search(t) is not None
    direction = DIRECTION.search(t) is not None
    if OPENING.search(t) and not estimate and not direction:
        return False  # "芝麻分650能开通借呗吗" is about eligibility: the knowledge base answers
    if ACCOUNT_ACT.search(t) and not estimate and not AMOUNT.search(t):
        return False  # "要是把借呗提前还光 会被关掉吗" asks about the account, not about a limit
    if OTHER_ASK.search(t) and not estimate and not direction:
        return False  # "借呗逾期过一回还让借吗" asks whether, not how much
    if HUABEI.search(t) and not JIEBEI.search(t) and (OPENING.search(t) or not has_slots):
        return False  # "刚开的花呗能给多少额度": a Huabei limit; the scorer estimates Jiebei's
    if THRESHOLD.search(t) and not estimate and not direction and not HYP.search(t):
        return False  # "要700分以上才能开吗" checks a claimed requirement
    if not has_slots and COST.search(t) and not AMOUNT.search(t):
        return False  # "分6期要多付多少手续费" asks about fees
    if has_slots and (limit or estimate):
        return True
    if has_changes and HYP.search(t) and not GENERAL.search(t):
        return True  # "What if my Sesame score goes from 650 to 720?": estimated for Jiebei
    if has_missing and limit:
        return True
    return bool(FIRST_PERSON.search(t) and limit and estimate and not GENERAL.search(t))


def looks_like_whatif(text: Text) -> bool:
    """True for a personal what-if or estimate question; False for general ones. Never raises."""
    try:
        return parse_slots(text).is_personal_whatif
    except Exception:  # pragma: no cover - parse_slots already guards
        return False
