"""What-if: an explainable, educational limit estimator driven by a GoRules JDM rules file.

>>> from assistant.whatif import Profile, estimate_limit, what_if, what_it_takes
>>> estimate_limit(Profile(sesame_score=680)).band
'good'

Files: ``profile.py`` (the validated inputs and defaults), ``rules/limit.jdm.json`` (the rules),
``engine.py`` (loads, checks and evaluates them), ``compiled_rules.py`` (the fast runner),
``scorer.py`` (ranges, reasons, plans), ``slot_grammar.py`` (how numbers and changes are written),
``slots.py`` (numbers out of questions), ``followup.py`` ("要是涨到750呢" continues the last
what-if), ``reply.py`` (the chat answer), ``cli.py`` (``mingbai what-if``).

Names load lazily: ``looks_like_whatif`` does not import the engine, and nothing here imports
zen-engine until the first estimate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "profile": ["Profile", "ProfileError", "DEFAULTS"],
        "scorer": [
            "LimitEstimate",
            "Reason",
            "WhatIf",
            "Plan",
            "PlanStep",
            "Explanation",
            "WhatIfError",
            "estimate_limit",
            "what_if",
            "what_it_takes",
            "band_names",
        ],
        "slots": ["Slots", "Relative", "parse_slots", "looks_like_whatif"],
        "reply": ["WhatIfReply", "whatif_reply", "NOTICE"],
        "simulate": ["Simulation", "simulate"],
    },
)
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

