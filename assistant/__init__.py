"""Mingbai's public Python API.

>>> from assistant import Assistant
>>> Assistant().ask("在闲鱼买东西会开通借呗吗?").text

Names are imported lazily so that ``import assistant`` stays fast (no torch, chromadb or gradio).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Assistant": "assistant.bot",
    "Answer": "assistant.answer",
    "Citation": "assistant.answer",
    "Settings": "assistant.settings",
    "MingbaiError": "assistant.errors",
    "Profile": "assistant.whatif",
    "LimitEstimate": "assistant.whatif",
    "Reason": "assistant.whatif",
    "WhatIf": "assistant.whatif",
    "estimate_limit": "assistant.whatif",
    "what_if": "assistant.whatif",
    "what_it_takes": "assistant.whatif",
}
__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "LimitEstimate",
    "MingbaiError",
    "Profile",
    "Reason",
    "Settings",
    "WhatIf",
    "estimate_limit",
    "what_if",
    "what_it_takes",
]

if TYPE_CHECKING:
    from assistant.answer import Answer, Citation
    from assistant.bot import Assistant
    from assistant.errors import MingbaiError
    from assistant.settings import Settings
    from assistant.whatif import (
        LimitEstimate,
        Profile,
        Reason,
        WhatIf,
        estimate_limit,
        what_if,
        what_it_takes,
    )


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
