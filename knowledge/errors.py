"""Every error Mingbai raises on purpose, in one module, under one root.

Each is safe to show a user: the message says what went wrong, where, and how to fix it. An
error about one input carries its name in ``field`` (``ProfileError("...", field="overdue_12m")``),
so a face can point at the field without reading the message. The module sits in the lowest layer
(``knowledge``) so that every layer can raise these; ``assistant.errors`` is the public name.

>>> err = ProfileError("sesame_score must be an integer from 350 to 950", field="sesame_score")
>>> isinstance(err, MingbaiError) and isinstance(err, ValueError), err.field
(True, 'sesame_score')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class MingbaiError(Exception):
    """Base class of every error Mingbai raises on purpose."""

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field  # the input it is about, when it is about one


# -- set-up and configuration ---------------------------------------------------------------
class ConfigError(MingbaiError):
    """A setting (an env var such as MINGBAI_LLM) or a rules file has a value we cannot use."""


class ModelNotReadyError(MingbaiError):
    """The embedding model folder is missing or incomplete."""


class ModelBuildError(MingbaiError, RuntimeError):
    """The embedding model cannot be built or failed verification; the message says how to fix."""


class OnnxExportError(MingbaiError, RuntimeError):
    """The ONNX export failed or does not reproduce the torch model."""


class IndexNotReadyError(MingbaiError):
    """The search index is missing or was built with another embedding model."""


class IndexBusyError(MingbaiError):
    """Another ``mingbai index`` run holds the index lock."""


# -- what-if ---------------------------------------------------------------------------------
class ProfileError(MingbaiError, ValueError):
    """A profile value is unknown, of the wrong type or out of range; ``field`` names it."""


class WhatIfError(MingbaiError, ValueError):
    """A what-if request names something the scorer does not know (a band, a field)."""


class RulesError(MingbaiError, ValueError):
    """The rules file cannot be used; the message names the file, the node and how to fix it."""


# -- evaluation ------------------------------------------------------------------------------
class EvalFileError(MingbaiError):
    """An evaluation file that cannot be used (names the file, the row and the field)."""


class PairFileError(MingbaiError):
    """A pairs file that cannot be read (names the file and line)."""


class TargetsError(MingbaiError):
    """The targets file is malformed (names the file and the key)."""


__all__ = [
    "ConfigError", "EvalFileError", "IndexBusyError", "IndexNotReadyError", "MingbaiError",
    "ModelBuildError", "ModelNotReadyError", "OnnxExportError", "PairFileError", "ProfileError",
    "RulesError", "TargetsError", "WhatIfError",
]  # fmt: skip


def validation_problems(errors: Iterable[Mapping[str, Any]]) -> tuple[str, str | None]:
    """A pydantic ``ValidationError.errors()`` as one line ("replies.greeting.zh: Field required;
    greetings: unknown key (check its spelling)") and the first key it names (None: the top
    level). Rule files and evaluation rows report their mistakes with it."""
    problems: list[str] = []
    first: str | None = None
    for err in errors:
        key = ".".join(str(p) for p in err.get("loc", ()))
        first = first or key or None
        message = ("unknown key (check its spelling)" if err.get("type") == "extra_forbidden"
                   else str(err.get("msg", "invalid value")))
        problems.append(f"{key or '(top level)'}: {message}")
    return "; ".join(problems), first
