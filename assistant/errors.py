"""The error hierarchy for users of the public API (defined in ``retrieval.errors``)."""

from retrieval.errors import (
    ConfigError,
    IndexBusyError,
    IndexNotReadyError,
    MingbaiError,
    ModelNotReadyError,
)

__all__ = [
    "ConfigError",
    "IndexBusyError",
    "IndexNotReadyError",
    "MingbaiError",
    "ModelNotReadyError",
]
