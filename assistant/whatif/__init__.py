"""What-if: an explainable, educational limit estimator driven by a GoRules JDM rules file.

>>> from assistant.whatif import Profile, estimate_limit, what_if, what_it_takes
>>> estimate_limit(Profile(sesame_score=680)).band
'good'

Files: ``profile.py`` (the validated inputs and defaults), ``rules/limit.jdm.json`` (the rules),
``engine.py`` (loads and evaluates them), ``scorer.py`` (ranges, reasons, plans), ``slots.py``
(numbers out of questions), ``reply.py`` (the chat answer), ``cli.py`` (``mingbai what-if``).

Names load lazily: ``looks_like_whatif`` does not import the engine, and nothing here imports
zen-engine until the first estimate.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Profile": "assistant.whatif.profile",
    "ProfileError": "assistant.whatif.profile",
    "DEFAULTS": "assistant.whatif.profile",
    "LimitEstimate": "assistant.whatif.scorer",
    "Reason": "assistant.whatif.scorer",
    "WhatIf": "assistant.whatif.scorer",
    "Plan": "assistant.whatif.scorer",
    "PlanStep": "assistant.whatif.scorer",
    "Explanation": "assistant.whatif.scorer",
    "WhatIfError": "assistant.whatif.scorer",
    "estimate_limit": "assistant.whatif.scorer",
    "what_if": "assistant.whatif.scorer",
    "what_it_takes": "assistant.whatif.scorer",
    "band_names": "assistant.whatif.scorer",
    "Slots": "assistant.whatif.slots",
    "Relative": "assistant.whatif.slots",
    "parse_slots": "assistant.whatif.slots",
    "looks_like_whatif": "assistant.whatif.slots",
    "WhatIfReply": "assistant.whatif.reply",
    "whatif_reply": "assistant.whatif.reply",
    "NOTICE": "assistant.whatif.reply",
    "Simulation": "assistant.whatif.simulate",
    "simulate": "assistant.whatif.simulate",
}
__all__ = [
    "DEFAULTS",
    "NOTICE",
    "Explanation",
    "LimitEstimate",
    "Plan",
    "PlanStep",
    "Profile",
    "ProfileError",
    "Reason",
    "Relative",
    "Simulation",
    "Slots",
    "WhatIf",
    "WhatIfError",
    "WhatIfReply",
    "band_names",
    "estimate_limit",
    "looks_like_whatif",
    "parse_slots",
    "simulate",
    "what_if",
    "what_it_takes",
    "whatif_reply",
]

if TYPE_CHECKING:
    from assistant.whatif.profile import DEFAULTS, Profile, ProfileError
    from assistant.whatif.reply import NOTICE, WhatIfReply, whatif_reply
    from assistant.whatif.scorer import (
        Explanation,
        LimitEstimate,
        Plan,
        PlanStep,
        Reason,
        WhatIf,
        WhatIfError,
        band_names,
        estimate_limit,
        what_if,
        what_it_takes,
    )
    from assistant.whatif.simulate import Simulation, simulate
    from assistant.whatif.slots import Relative, Slots, looks_like_whatif, parse_slots


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'assistant.whatif' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
