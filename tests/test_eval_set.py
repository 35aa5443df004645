"""The evaluation sets are well formed (the gate on their targets runs in `make test`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FAQ = Path(__file__).resolve().parents[1] / "knowledge" / "eval" / "faq.jsonl"


def test_the_set_is_big_and_varied() -> None:
    """The gate itself (every target of targets.yaml) runs once, in `make test`."""
    from assistant.evaluation.rows import load_rows

    rows = load_rows(FAQ).rows
    assert len(rows) >= 200
    tags = {t for r in rows for t in r.tags}
    for needed in ("english", "traditional", "typo", "out_of_scope", "followup", "personal_data"):
        assert needed in tags, needed
    assert sum(1 for r in rows if r.expect_scam) >= 20
    assert sum(1 for r in rows if r.expect_route == "whatif") >= 20


HELD_OUT = ("holdout-1.jsonl", "holdout-2.jsonl", "holdout-3.jsonl", "holdout-4.jsonl",
            "holdout-5-parts.jsonl")


@pytest.mark.parametrize("name", ["faq.jsonl", *HELD_OUT])
def test_every_row_loads_and_names_real_entries(name: str) -> None:
    from assistant.evaluation.rows import load_rows
    from knowledge.loader import load_knowledge

    loaded = load_rows(FAQ.parent / name)
    assert not loaded.bad and not loaded.warnings, (loaded.bad[:3], loaded.warnings[:3])
    ids = {e.id for e in load_knowledge().entries}
    unknown = {d for r in loaded.rows for d in (*r.expect_doc, *r.expect_parts) if d not in ids}
    assert not unknown, unknown


def test_the_held_out_sets_share_no_question_with_the_tuning_set() -> None:
    def questions(name: str) -> set[str]:
        lines = (FAQ.parent / name).read_text(encoding="utf-8").splitlines()
        return {json.loads(line)["question"].strip() for line in lines if line.strip()}

    tuning = questions("faq.jsonl")
    held_out = HELD_OUT
    for name in held_out:
        assert not tuning & questions(name), name
    for i, first in enumerate(held_out):
        for second in held_out[i + 1 :]:
            assert not questions(first) & questions(second), (first, second)
