"""assistant.calibration and assistant.calibrate: thresholds stored per model, refused when missing,
and derived from the evaluation set by the real decision policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.calibrate import DEFAULT_EVAL, calibrate
from assistant.calibration import (
    BUNDLED_DIR,
    BUNDLED_MODEL,
    Calibration,
    Thresholds,
    load_calibration,
    write_calibration,
)
from assistant.decision import ANSWERING_PATH, load_answering_rules
from assistant.errors import ConfigError
from assistant.evaluation.rows import load_rows
from tests.conftest import HashEmbedder

THRESHOLDS = Thresholds(abstain_below={"zh": 0.5, "en": 0.6}, unknown_word_below={"zh": 0.7,
                        "en": 0.7}, out_of_domain_below=0.8, scam_evidence_above=0.9)  # fmt: skip


def test_the_bundled_model_is_calibrated_and_its_thresholds_reach_the_rules() -> None:
    bundled = load_calibration(BUNDLED_MODEL, Path("/nonexistent"))
    rules = load_answering_rules()
    assert rules.abstain_below == bundled.thresholds.abstain_below
    assert rules.scam_evidence_above == bundled.thresholds.scam_evidence_above
    assert (BUNDLED_DIR / f"{BUNDLED_MODEL}.yaml").is_file()


def test_an_uncalibrated_model_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="run `mingbai calibrate`") as err:
        load_calibration("abc123", tmp_path, "/models/other")
    assert "/models/other" in str(err.value) and err.value.field == "MINGBAI_EMBED_MODEL"


def test_the_assistant_refuses_to_start_on_an_uncalibrated_model(tmp_path: Path) -> None:
    from assistant.factory import build_components
    from assistant.settings import Settings

    embedder = HashEmbedder()
    model = tmp_path / "some-model"
    model.mkdir()
    embedder.model_path = str(model)  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="not calibrated"):
        build_components(Settings(home=tmp_path), embedder=embedder, warm=False)  # type: ignore[arg-type]


def test_a_written_calibration_is_found_in_the_data_dir_first(tmp_path: Path) -> None:
    mine = Calibration(model=BUNDLED_MODEL, calibrated="2026-12-01", source="test",
                       thresholds=THRESHOLDS)  # fmt: skip
    path = write_calibration(mine, tmp_path)
    assert path == tmp_path / "calibration" / f"{BUNDLED_MODEL}.yaml"
    assert load_calibration(BUNDLED_MODEL, tmp_path).thresholds == THRESHOLDS


def test_a_bad_calibration_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "calibration").mkdir()
    (tmp_path / "calibration" / "m.yaml").write_text(
        "model: m\ncalibrated: x\nsource: s\nthresholds: {abstain_below: {zh: 0.5, en: 0.5}, "
        "unknown_word_below: {zh: 0.5, en: 0.5}, out_of_domain_below: 0.5, "
        "scam_evidence_abov: 0.5}\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ConfigError, match=r"thresholds\.scam_evidence_abov"):
        load_calibration("m", tmp_path)


def test_a_model_dependent_threshold_in_answering_yaml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "answering.yaml"
    bad.write_text(ANSWERING_PATH.read_text(encoding="utf-8") + "\nabstain_below: {zh: 0.5}\n",
                   encoding="utf-8")  # fmt: skip
    with pytest.raises(ConfigError, match="belongs in its calibration file"):
        load_answering_rules(bad)


@pytest.mark.slow
def test_calibrating_the_bundled_model_lands_near_its_hand_tuned_thresholds(bot) -> None:  # type: ignore[no-untyped-def]
    derived = calibrate(bot.components, load_rows(DEFAULT_EVAL).rows, BUNDLED_MODEL)
    hand = load_calibration(BUNDLED_MODEL, Path("/nonexistent")).thresholds
    assert derived.measured["abstain_balanced_accuracy"] >= 0.95
    assert derived.measured["scam_balanced_accuracy"] >= 0.95
    for lang in ("zh", "en"):
        assert abs(derived.thresholds.abstain_below[lang] - hand.abstain_below[lang]) <= 0.03
        assert abs(derived.thresholds.unknown_word_below[lang]
                   - hand.unknown_word_below[lang]) <= 0.03  # fmt: skip
    assert abs(derived.thresholds.scam_evidence_above - hand.scam_evidence_above) <= 0.03
