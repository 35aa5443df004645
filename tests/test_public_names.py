"""The public names of each package, pinned: a name added or dropped is a decision, made here."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "assistant": [
        "Answer", "Assistant", "Citation", "LimitEstimate", "MingbaiError", "Profile", "Reason",
        "Settings", "Surface", "WhatIf", "answer_json", "estimate_limit", "simulation_json",
        "what_if", "what_it_takes",
    ],
    "assistant.errors": [
        "ConfigError", "EvalFileError", "IndexBusyError", "IndexNotReadyError", "MingbaiError",
        "ModelBuildError", "ModelNotReadyError", "OnnxExportError", "PairFileError",
        "ProfileError", "RulesError", "TargetsError", "WhatIfError",
    ],
    "assistant.whatif": [
        "DEFAULTS", "NOTICE", "Explanation", "LimitEstimate", "Plan", "PlanStep", "Profile",
        "ProfileError", "Reason", "Relative", "Simulation", "Slots", "WhatIf", "WhatIfError",
        "WhatIfReply", "band_names", "estimate_limit", "looks_like_whatif", "parse_slots",
        "simulate", "what_if", "what_it_takes", "whatif_reply",
    ],
    "knowledge": [
        "Entry", "EntryError", "Lang", "Lexicon", "LoadResult", "Section", "load_knowledge",
        "load_lexicon",
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_names_are_pinned_and_resolve(name: str) -> None:
    module = importlib.import_module(name)
    assert sorted(module.__all__) == sorted(PUBLIC[name])
    for attr in module.__all__:
        assert getattr(module, attr) is not None, f"{name}.{attr}"


def test_every_error_is_a_mingbai_error_defined_in_one_module() -> None:
    errors = importlib.import_module("assistant.errors")
    for attr in errors.__all__:
        cls = getattr(errors, attr)
        assert issubclass(cls, errors.MingbaiError) and cls.__module__ == "knowledge.errors"
