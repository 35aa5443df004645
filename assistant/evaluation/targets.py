"""The evaluation targets, read from one file (``knowledge/eval/targets.yaml``).

>>> load_targets().at_least["hit_at_3"]
0.95
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.errors import TargetsError
from assistant.evaluation.run import HIGHER_IS_BETTER, LOWER_IS_BETTER

TARGETS_PATH = Path(__file__).resolve().parents[2] / "knowledge" / "eval" / "targets.yaml"


@dataclass(frozen=True)
class Targets:
    at_least: dict[str, float]
    at_most: dict[str, float]

    def all(self) -> dict[str, float]:
        return {**self.at_least, **self.at_most}


def load_targets(path: Path | None = None) -> Targets:
    """The targets; an unknown key or metric, or a metric on the wrong side, is an error."""
    return _load(path or TARGETS_PATH)


@lru_cache(maxsize=4)
def _load(path: Path) -> Targets:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise TargetsError(f"{path}: cannot read the targets ({exc})") from exc
    unknown = sorted(set(data) - {"at_least", "at_most"})
    if unknown:
        raise TargetsError(f"{path}: unknown key(s) {', '.join(unknown)}; use at_least, at_most")
    out: dict[str, dict[str, float]] = {}
    for key, valid in (("at_least", HIGHER_IS_BETTER), ("at_most", LOWER_IS_BETTER)):
        section = data.get(key) or {}
        for name, value in section.items():
            if name not in valid:
                raise TargetsError(
                    f"{path}: {key}.{name}: not a metric for {key}; valid: {', '.join(valid)}"
                )
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise TargetsError(f"{path}: {key}.{name}: {value!r} is not a number")
        out[key] = {str(k): float(v) for k, v in section.items()}
    return Targets(out["at_least"], out["at_most"])
