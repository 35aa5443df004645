"""The error hierarchy for users of the public API (defined in ``knowledge.errors``, the lowest
layer, so that every layer raises the same classes)."""

from knowledge.errors import (
    ConfigError,
    EvalFileError,
    IndexBusyError,
    IndexNotReadyError,
    MingbaiError,
    ModelBuildError,
    ModelNotReadyError,
    OnnxExportError,
    PairFileError,
    ProfileError,
    RulesError,
    TargetsError,
    WhatIfError,
)

__all__ = [
    "ConfigError",
    "EvalFileError",
    "IndexBusyError",
    "IndexNotReadyError",
    "MingbaiError",
    "ModelBuildError",
    "ModelNotReadyError",
    "OnnxExportError",
    "PairFileError",
    "ProfileError",
    "RulesError",
    "TargetsError",
    "WhatIfError",
]
