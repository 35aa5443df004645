"""Errors that are safe to show to a user: each says what went wrong, where, and how to fix it.

The hierarchy lives in the lowest layer that raises (retrieval); ``assistant.errors`` re-exports it.
"""

from __future__ import annotations


class MingbaiError(Exception):
    """Base class of every error Mingbai raises on purpose."""


class ConfigError(MingbaiError):
    """A setting (an env var such as MINGBAI_LLM) has a value we cannot use."""


class IndexNotReadyError(MingbaiError):
    """The search index is missing or was built with another embedding model."""


class ModelNotReadyError(MingbaiError):
    """The embedding model folder is missing or incomplete."""


class IndexBusyError(MingbaiError):
    """Another ``mingbai index`` run holds the index lock."""
