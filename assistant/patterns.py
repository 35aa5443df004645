"""Regular-expression rules kept as data: named groups of patterns in a YAML file.

>>> groups = load_pattern_groups(Path("assistant/rules/scope.yaml"), ("products",))
>>> bool(groups["products"][0].search("借呗"))
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import yaml

Patterns = tuple[re.Pattern[str], ...]


def load_pattern_groups(
    path: Path, groups: Sequence[str], flags: int = re.I
) -> dict[str, Patterns]:
    """Compile each group (a YAML list of regexes); errors name the file and the group."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    compiled: dict[str, Patterns] = {}
    for group in groups:
        try:
            compiled[group] = tuple(re.compile(p, flags) for p in data.get(group) or [])
        except re.error as exc:
            raise ValueError(f"{path}: bad pattern under '{group}': {exc}") from exc
    return compiled
