"""One what-if simulation, shared by every face (CLI, HTTP API, web page).

>>> sim = simulate({"sesame_score": 700}, {"overdue_12m": 2})
>>> sim.to_dict("en")["after"]["band"]
'good'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from assistant.whatif.profile import DEFAULTS, FIELDS, Profile, ProfileError
from assistant.whatif.reply import NOTICE
from assistant.whatif.scorer import (
    LimitEstimate,
    Plan,
    WhatIf,
    band_names,
    estimate_limit,
    what_if,
    what_it_takes,
)


@dataclass(frozen=True)
class Simulation:
    profile: Profile
    assumed: tuple[str, ...]  # fields not given, taken from DEFAULTS
    before: LimitEstimate
    result: WhatIf | None  # None when no change was asked for
    plan: Plan  # what it takes to reach the next band (or the target) after the changes

    @property
    def after(self) -> LimitEstimate:
        return self.result.after if self.result else self.before

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        plan = self.plan
        return {
            "profile": self.profile.as_dict(),
            "assumed": list(self.assumed),
            "before": asdict(self.before),
            "after": asdict(self.result.after) if self.result else None,
            "changed": {k: list(v) for k, v in self.result.changed.items()} if self.result else {},
            "explanation": asdict(self.result.explanation) if self.result else None,
            "plan": {
                "target_band": plan.target_band,
                "reachable": plan.reachable,
                "changes": dict(plan.changes),
                "steps": [asdict(s) for s in plan.steps],
                "explanation": asdict(plan.explanation),
            },
            "rules_version": self.before.rules_version,
            "notice": NOTICE[lang if lang in NOTICE else "zh"],
        }


def simulate(
    values: Mapping[str, Any],
    changes: Mapping[str, Any] | None = None,
    target_band: str | None = None,
) -> Simulation:
    """Estimate ``values`` (missing fields take DEFAULTS), apply ``changes``, plan the next band.

    Raises ``ProfileError`` (a ``ValueError``) naming the field and its range for any invalid
    value or field name, with the field in ``.field``; an unknown band is a ``WhatIfError``.
    """
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ProfileError(
            f"unknown field {unknown[0]!r}; valid fields: {', '.join(FIELDS)}", field=unknown[0]
        )
    profile = Profile(**{**DEFAULTS, **values})
    changes = dict(changes or {})
    result = what_if(profile, **changes) if changes else None
    after = result.after if result else estimate_limit(profile)
    names = band_names()
    goal = target_band or names[min(names.index(after.band) + 1, len(names) - 1)]
    plan = what_it_takes(profile.with_changes(**changes), goal)
    before = result.before if result else after
    assumed = tuple(f for f in FIELDS if f not in values)
    return Simulation(profile, assumed, before, result, plan)
