"""Mingbai's public Python API.

>>> from assistant import Assistant  # doctest: +SKIP
>>> Assistant().ask("在闲鱼买东西会开通借呗吗?").text  # doctest: +SKIP

Names are imported lazily so that ``import assistant`` stays fast (no torch, chromadb or gradio).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "bot": ["Assistant"],
        "answer": ["Answer", "Citation"],
        "settings": ["Settings"],
        "errors": ["MingbaiError"],
        "surface": ["Surface"],
        "serialize": ["answer_json", "simulation_json"],
        "whatif": [
            "Profile",
            "LimitEstimate",
            "Reason",
            "WhatIf",
            "estimate_limit",
            "what_if",
            "what_it_takes",
        ],
    },
)
__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "LimitEstimate",
    "MingbaiError",
    "Profile",
    "Reason",
    "Settings",
    "Surface",
    "WhatIf",
    "answer_json",
    "estimate_limit",
    "simulation_json",
    "what_if",
    "what_it_takes",
]

if TYPE_CHECKING:
    from assistant.answer import Answer, Citation
    from assistant.bot import Assistant
    from assistant.errors import MingbaiError
    from assistant.serialize import answer_json, simulation_json
    from assistant.settings import Settings
    from assistant.surface import Surface
    from assistant.whatif import (
        LimitEstimate,
        Profile,
        Reason,
        WhatIf,
        estimate_limit,
        what_if,
        what_it_takes,
    )

