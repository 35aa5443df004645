"""assistant.questionlog.gaps: candidates, groups by meaning (real e5 vectors), drafts, and the
log exported as evaluation rows that `mingbai eval` reads."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from assistant.evaluation.rows import load_rows
from assistant.questionlog.gaps import candidates, export_rows, find_gaps, report


def row(i: int, question: str, **flags: Any) -> dict[str, Any]:
    return {"id": f"id{i}", "question": question, "route": "knowledge", "lang": "zh",
            "abstained": False, "clarifying": False, "scam": False, "margin": 0.2,
            "top_entry": "huabei-what-is-huabei", **flags}


def test_candidates_are_the_rows_that_went_badly_and_say_why() -> None:
    rows = [row(1, "a", abstained=True), row(2, "b", clarifying=True), row(3, "c"),
            row(4, "d", margin=0.004), row(5, "e", scam=True, abstained=True),
            row(6, "f", route="conversation", abstained=True), row(7, "g")]
    found = candidates(rows, down_voted={"id7"})
    assert [(r["id"], why) for r, why in found] == [
        ("id1", "abstained"), ("id2", "clarified"), ("id4", "narrow"), ("id7", "down-voted")]


@pytest.mark.slow
def test_questions_are_grouped_by_meaning_largest_first(bot) -> None:  # type: ignore[no-untyped-def]
    pay_for_others = ["花呗可以帮朋友付款吗", "能用我的花呗替别人买单吗", "花呗给家人代付怎么弄"]
    invoice = ["借呗的利息可以开发票吗", "借呗利息能不能开票"]
    rows = [row(i, q, abstained=True) for i, q in enumerate([*pay_for_others, *invoice,
                                                              "闲鱼卖家不发货怎么办"])]
    rows.append(row(99, pay_for_others[0], abstained=True))  # the same words twice
    search = bot.components.search
    gaps = find_gaps(candidates(rows, set()), search.embed_many,
                     lambda q: [(c.doc_id, c.score) for c in bot.find_entries(q, k=3)])
    assert gaps[0].count == 4 and set(gaps[0].examples) == set(pay_for_others)
    assert gaps[0].why == Counter({"abstained": 4}) and len(gaps[0].nearest) == 3
    assert any(set(g.examples) == set(invoice) for g in gaps[1:])
    assert all("闲鱼卖家不发货怎么办" not in g.examples for g in gaps[:1])
    draft = gaps[0].draft(1)
    assert draft.startswith("---\n") and "id: TODO-gap-1" in draft and "## English" in draft
    assert "#   - 花呗可以帮朋友付款吗" in draft  # examples as comments, to be rephrased
    text = report(gaps, "2026-11-01")
    assert text.startswith("# Gaps since 2026-11-01") and "draft-1.md" in text


def test_the_export_is_an_evaluation_file(tmp_path: Path) -> None:
    rows = [row(1, "花呗怎么提前还"), row(2, "今天天气", route="out_of_scope", abstained=True,
                                        top_entry=None), row(3, "你好", route="conversation"),
            row(4, "额度", clarifying=True)]
    out = tmp_path / "from-log.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in export_rows(rows)),
                   encoding="utf-8")
    loaded = load_rows(out)
    assert not loaded.bad and not loaded.warnings
    assert [r.question for r in loaded.rows] == ["花呗怎么提前还", "今天天气", "额度"]
    assert loaded.rows[0].expect_doc == ("huabei-what-is-huabei",)
    assert loaded.rows[1].expect_abstain is True and loaded.rows[2].expect_clarify is True
    assert all("to-review" in r.tags for r in loaded.rows)


def test_gaps_and_export_commands_on_an_empty_log(tmp_path: Path) -> None:
    env = {**os.environ, "MINGBAI_HOME": str(tmp_path)}
    mingbai = str(Path(".venv/bin/mingbai"))
    out = subprocess.run([mingbai, "gaps", "--out", str(tmp_path / "gaps")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "No abstained" in (tmp_path / "gaps" / "report.md").read_text(encoding="utf-8")
    bad = subprocess.run([mingbai, "gaps", "--since", "last week"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--since must be a date" in bad.stderr
    exported = subprocess.run([mingbai, "log", "export", "--out", str(tmp_path / "e.jsonl")],
                              env=env, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0 and "0 rows" in exported.stdout
