"""The public scorer: ``estimate_limit``, ``what_if`` and ``what_it_takes``.

>>> est = estimate_limit(Profile(sesame_score=680, on_time_months=12))
>>> est.band, est.low <= est.high
('good', True)
>>> what_if(Profile(), overdue_12m=2).after.band
'medium'

All numbers come from ``rules/limit.jdm.json``; this module only turns the engine's verdicts into
ranges, reasons and plans. It is an educational model, not any provider's real one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations, product
from typing import Any

from assistant.whatif.engine import Evaluation, context_of, load_rules
from assistant.whatif.profile import (
    DEFAULTS,
    FIELD_SPECS,
    FIELDS,
    Profile,
    ProfileError,
    format_value,
)
from knowledge.errors import WhatIfError

MAX_REASONS = 4
# what_it_takes tries at most this many combinations of table rows. A count, never the clock: the
# same profile gets the same plan on any machine under any load. The bundled rules need at most
# ~900 (4 fields with 4-5 better rows each), so the limit only guards against a rules file with
# very fine tables; a search that hits it reports the target as out of reach.
SEARCH_LIMIT = 20_000

# Fields a person can act on, in the order we suggest them (quickest effect first), with the
# direction that helps: the registry's ``plan`` entries. Sesame score is an *output* of behaviour,
# account age only grows with time, income is not advice we give, Xianyu orders are never worth
# chasing for credit, and paying off a mortgage is not a quick step.
ACTIONABLE: tuple[tuple[str, int], ...] = tuple(
    (spec.name, spec.direction)
    for spec in sorted((s for s in FIELD_SPECS.values() if s.plan is not None),
                       key=lambda s: s.plan.order if s.plan else 0)
)


@dataclass(frozen=True)
class Reason:
    code: str
    text_zh: str
    text_en: str
    points_lost: int

    def text(self, lang: str) -> str:
        return self.text_zh if lang == "zh" else self.text_en


@dataclass(frozen=True)
class FactorPoints:
    """What one scored factor adds (+) or takes away (-), and the most it could add."""

    field: str
    points: int
    best: int


@dataclass(frozen=True)
class LimitEstimate:
    """An educational estimate: a yuan range (``low <= high``), its band and why."""

    low: int
    high: int
    band: str
    points: int
    reasons: tuple[Reason, ...]
    rules_version: str
    factors: tuple[FactorPoints, ...] = ()  # every scored factor, in the registry's order

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2

    def band_label(self, lang: str) -> str:
        return band_label(self.band, lang)


@dataclass(frozen=True)
class Explanation:
    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class WhatIf:
    before: LimitEstimate
    after: LimitEstimate
    changed: Mapping[str, tuple[Any, Any]]  # field -> (old, new), only fields that changed
    explanation: Explanation


@dataclass(frozen=True)
class PlanStep:
    field: str
    from_value: int | float | None
    to_value: int | float
    text_zh: str
    text_en: str

    def text(self, lang: str) -> str:
        return self.text_zh if lang == "zh" else self.text_en


@dataclass(frozen=True)
class Plan:
    """What it would take to reach ``target_band`` by changing only actionable fields."""

    target_band: str
    reachable: bool
    steps: tuple[PlanStep, ...]
    estimate: LimitEstimate | None  # the estimate after the steps (None if unreachable)
    explanation: Explanation
    changes: Mapping[str, int | float] = field(default_factory=dict)


# -- bands ---------------------------------------------------------------------------------------
def band_names() -> tuple[str, ...]:
    """Band names from lowest to highest, as the rules file defines them."""
    return tuple(b.name for b in load_rules().bands)


def band_label(name: str, lang: str) -> str:
    for b in load_rules().bands:
        if b.name == name:
            return b.label_zh if lang == "zh" else b.label_en
    return name


def _rank(name: str) -> int:
    names = band_names()
    return names.index(name) if name in names else -1


# -- estimate ------------------------------------------------------------------------------------
def estimate_limit(profile: Profile) -> LimitEstimate:
    """The educational limit estimate for ``profile`` (cached per distinct profile)."""
    if not isinstance(profile, Profile):
        raise ProfileError(
            f"estimate_limit needs a Profile, got {type(profile).__name__}; "
            "build one with Profile(sesame_score=..., ...)"
        )
    return _estimate(profile.key())


@lru_cache(maxsize=16384)
def _estimate(key: tuple[Any, ...]) -> LimitEstimate:
    return estimate_uncached(dict(zip(FIELDS, key, strict=True)))


def estimate_uncached(values: Mapping[str, Any]) -> LimitEstimate:
    """Evaluate the rules for already-validated values, bypassing the cache."""
    rules = load_rules()
    return _to_estimate(rules.evaluate(context_of(values)), values, rules.version)


def clear_cache() -> None:
    _estimate.cache_clear()


def _to_estimate(ev: Evaluation, values: Mapping[str, Any], version: str) -> LimitEstimate:
    factors = tuple(FactorPoints(f.field, f.points, f.best_points) for f in ev.factors)
    return LimitEstimate(ev.low, ev.high, ev.band, ev.points, _reasons(ev, values), version,
                         factors)


def _reasons(ev: Evaluation, values: Mapping[str, Any]) -> tuple[Reason, ...]:
    order = {f: i for i, f in enumerate(FIELDS)}
    lost = sorted(
        (f for f in ev.factors if f.points_lost > 0),
        key=lambda f: (-f.points_lost, order.get(f.field, 99)),
    )
    return tuple(_reason(f.code, f.field, values.get(f.field), f.points_lost)
                 for f in lost[:MAX_REASONS])


def _reason(code: str, name: str, value: Any, points_lost: int) -> Reason:
    """A factor's line in both languages ("芝麻分720：在本模型里，分数越高估算越高")."""
    spec = FIELD_SPECS[name]
    if value is None and spec.unknown_reason is not None:
        zh, en = spec.unknown_reason.zh, spec.unknown_reason.en
    else:
        zh = spec.reason.zh.format(v=format_value(name, value, "zh"))
        en = spec.reason.en.format(v=format_value(name, value, "en"))
    return Reason(code, zh, en, points_lost)


def compared_with_common(profile: Profile) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
    """The factors that lower and that raise the estimate against the common case (each field
    put back to its ``DEFAULTS`` value alone), the largest effect first: a Sesame score of 720
    raises it, 2 overdue events lower it, a default value does neither. A factor that moves only
    the range (Xianyu orders) comes after those that move points.

    >>> lowers, raises = compared_with_common(Profile(sesame_score=720, overdue_12m=2))
    >>> [r.code for r in lowers], [r.code for r in raises]
    (['overdue_12m'], ['sesame_score'])
    """
    current = estimate_limit(profile)
    now = current.points
    found: list[tuple[int, int, Reason]] = []
    ranged: list[tuple[int, Reason]] = []  # factors that move the range, not the points
    for i, name in enumerate(FIELDS):
        value, common = getattr(profile, name), DEFAULTS[name]
        if value == common:
            continue
        other = estimate_limit(profile.with_changes(**{name: common}))
        delta = now - other.points
        if delta == 0:
            if FIELD_SPECS[name].effect == "range" and current.midpoint != other.midpoint:
                ranged.append((1 if current.midpoint > other.midpoint else -1,
                               _reason(name, name, value, 0)))
            continue
        found.append((delta, i, _reason(name, name, value, max(0, -delta))))
    lowers = [r for d, i, r in sorted(found, key=lambda t: (t[0], t[1])) if d < 0]
    raises = [r for d, i, r in sorted(found, key=lambda t: (-t[0], t[1])) if d > 0]
    lowers += [r for d, r in ranged if d < 0]  # after the factors that move points
    raises += [r for d, r in ranged if d > 0]
    return tuple(lowers[:MAX_REASONS]), tuple(raises[:MAX_REASONS])


# -- what if -------------------------------------------------------------------------------------
def what_if(profile: Profile, **changes: Any) -> WhatIf:
    """Compare the estimate before and after changing some fields: ``what_if(p, overdue_12m=2)``."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise WhatIfError(
            f"what_if: unknown field(s) {', '.join(unknown)}; valid fields: {', '.join(FIELDS)}",
            field=unknown[0],
        )
    after_profile = profile.with_changes(**changes)
    changed = {
        f: (getattr(profile, f), getattr(after_profile, f))
        for f in changes
        if getattr(profile, f) != getattr(after_profile, f)
    }
    before, after = estimate_limit(profile), estimate_limit(after_profile)
    return WhatIf(before, after, changed, _explain(before, after, changed))


def _money(est: LimitEstimate) -> str:
    return f"¥{est.low:,}–¥{est.high:,}"


def _explain(
    before: LimitEstimate, after: LimitEstimate, changed: Mapping[str, Any]
) -> Explanation:
    if not changed:
        return Explanation(
            "没有改变任何信息，估算不变。", "Nothing changed, so the estimate is the same."
        )
    what_zh = "、".join(
        f"{FIELD_SPECS[f].label_zh}从{format_value(f, a, 'zh')}变为{format_value(f, b, 'zh')}"
        for f, (a, b) in changed.items()
    )
    what_en = "Changing " + "; ".join(
        f"{FIELD_SPECS[f].label_en} from {format_value(f, a, 'en')} to {format_value(f, b, 'en')}"
        for f, (a, b) in changed.items()
    )
    b_zh, a_zh = before.band_label("zh"), after.band_label("zh")
    b_en, a_en = before.band_label("en"), after.band_label("en")
    pct = (after.midpoint - before.midpoint) / before.midpoint * 100 if before.midpoint else 0.0
    if after.low == before.low and after.high == before.high:
        return Explanation(
            f"{what_zh}：估算仍是{_money(after)}（{a_zh}档），在本模型里没有变化。",
            f"{what_en}: the estimate stays {_money(after)} ({a_en} band) in this model.",
        )
    up = pct > 0
    return Explanation(
        f"{what_zh}：估算从{_money(before)}（{b_zh}档）变为{_money(after)}（{a_zh}档），"
        f"区间中点{'上升' if up else '下降'}约{abs(pct):.0f}%。",
        f"{what_en}: the estimate moves from {_money(before)} ({b_en} band) to {_money(after)} "
        f"({a_en} band), a midpoint {'rise' if up else 'drop'} of about {abs(pct):.0f}%.",
    )


# -- what it takes -------------------------------------------------------------------------------
def what_it_takes(profile: Profile, target_band: str) -> Plan:
    """The smallest set of actionable changes that reaches ``target_band`` (or why it cannot).

    Searches combinations of 1, 2, ... actionable fields; within a size, the fewest table rows
    moved wins, then the quickest fields (utilization before waiting out overdue records).
    """
    names = band_names()
    if target_band not in names:
        raise WhatIfError(
            f"unknown band {target_band!r}; valid bands: {', '.join(names)}", field="target_band"
        )
    current = estimate_limit(profile)
    label_zh, label_en = band_label(target_band, "zh"), band_label(target_band, "en")
    if _rank(current.band) >= _rank(target_band):
        same = current.band == target_band
        return Plan(target_band, True, (), current, Explanation(
            f"按本模型，你已经在「{current.band_label('zh')}」档"
            + ("。" if same else f"，高于「{label_zh}」档。"),
            f"In this model you are already in the {current.band_label('en')} band"
            + ("." if same else f", above {label_en}."),
        ))
    found = _search(profile, _rank(target_band))
    if found is None:
        return Plan(target_band, False, (), None, Explanation(
            f"只改变自己能直接控制的因素（{_actionable('zh')}）还到不了「{label_zh}」档；"
            "芝麻分和账户年龄也有影响，但只能随时间和良好记录慢慢变化。",
            f"Changing only what you control directly ({_actionable('en')}) does not reach the "
            f"{label_en} band; the Sesame score and account age matter too, but they only change "
            "slowly with time and good records.",
        ))
    changes = dict(found)
    after = estimate_limit(profile.with_changes(**changes))
    steps = tuple(_step(f, getattr(profile, f), v) for f, v in changes.items())
    joined_zh = "；".join(s.text_zh for s in steps)
    joined_en = "; ".join(s.text_en for s in steps)
    return Plan(target_band, True, steps, after, Explanation(
        f"{joined_zh}。按本模型可到「{label_zh}」档（约{_money(after)}）。",
        f"To reach the {label_en} band in this model: {joined_en} "
        f"(about {_money(after)}).",
    ), changes)


def _actionable(lang: str) -> str:
    """The fields a plan may change, named in ``lang``."""
    return ("、" if lang == "zh" else ", ").join(
        FIELD_SPECS[f].label.text(lang) for f, _ in ACTIONABLE)


def _step(f: str, a: Any, b: int | float) -> PlanStep:
    plan = FIELD_SPECS[f].plan
    if plan is None:
        raise WhatIfError(f"{f} is not a field a plan can change", field=f)
    zh_t, en_t = plan.step.zh, plan.step.en
    return PlanStep(
        f, a, b,
        zh_t.format(a=format_value(f, a, "zh"), b=format_value(f, b, "zh")),
        en_t.format(a=format_value(f, a, "en"), b=format_value(f, b, "en")),
    )


@lru_cache(maxsize=4096)
def _levels(f: str, current: int | float) -> tuple[tuple[int | float, int], ...]:
    """Better values for one field, nearest first, each worth more points than the previous."""
    rules = load_rules()
    best = rules.factor_points(f, current)
    out = []
    for v in _domain(f, current):
        pts = rules.factor_points(f, v)
        if pts > best:
            best = pts
            out.append((v, pts))
    return tuple(out)


def _domain(f: str, current: int | float) -> Iterator[int | float]:
    spec = FIELD_SPECS[f]
    direction = dict(ACTIONABLE)[f]
    if spec.kind is float:  # utilization: whole percentages below the current value
        for k in range(100, -1, -1):
            if k / 100 < current:
                yield k / 100
        return
    if direction < 0:
        yield from range(int(current) - 1, int(spec.minimum) - 1, -1)
    else:
        yield from range(int(current) + 1, int(spec.maximum or current) + 1)


def _search(profile: Profile, target_rank: int) -> tuple[tuple[str, int | float], ...] | None:
    rules = load_rules()
    budget = [SEARCH_LIMIT]
    fields = [f for f, _ in ACTIONABLE if f in rules.factor_fields]
    levels = {f: _levels(f, getattr(profile, f)) for f in fields}
    fields = [f for f in fields if levels[f]]
    base = estimate_limit(profile)
    now_points = {f: rules.factor_points(f, getattr(profile, f)) for f in fields}
    names = band_names()

    def reaches(choice: dict[str, int]) -> bool:
        budget[0] -= 1
        if rules.additive:  # verified at load: points add up and the band follows the total
            total = base.points + sum(levels[f][i][1] - now_points[f] for f, i in choice.items())
            band = rules.band_for_points(total)
        else:
            band = estimate_limit(profile.with_changes(
                **{f: levels[f][i][0] for f, i in choice.items()})).band
        return band is not None and names.index(band) >= target_rank

    for k in range(1, len(fields) + 1):
        best: tuple[tuple[int, int], dict[str, int]] | None = None
        for combo in combinations(fields, k):
            if not reaches({f: len(levels[f]) - 1 for f in combo}):
                continue  # even the best rows of these fields are not enough
            grid = sorted(product(*(range(len(levels[f])) for f in combo)), key=sum)
            for idx in grid:
                if budget[0] <= 0:
                    return None
                choice = dict(zip(combo, idx, strict=True))
                if reaches(choice):
                    cost = (sum(idx) + k, sum(fields.index(f) for f in combo))
                    if best is None or cost < best[0]:
                        best = (cost, choice)
                    break
        if best is not None:
            return tuple((f, levels[f][i][0]) for f, i in best[1].items())
    return None
