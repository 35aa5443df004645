"""ui.eval_tab: the page's evaluation handler, with a fake assistant."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from assistant.answer import Answer, Citation
from ui.eval_tab import run_evaluation


class FakeAssistant:
    def ask(self, question: str, history: Sequence[Mapping[str, str]] | None = None) -> Answer:
        cite = Citation("huabei-what-is-huabei", "花呗是什么", "…", 0.9)
        return Answer("**花呗是消费信贷。**", "knowledge", [cite], False, None, "zh",
                      retrieved=(("huabei-what-is-huabei", 0.9),))


def test_runs_reports_and_tracks_progress(tmp_path: Path) -> None:
    faq = tmp_path / "faq.jsonl"
    rows = [{"question": "花呗是什么", "expect_doc": "huabei-what-is-huabei"},
            {"question": "<script>alert(1)</script>手机13812345678", "expect_route": "knowledge"},
            {"nope": 1}]
    faq.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    seen: list[float] = []
    summary, report = run_evaluation(FakeAssistant(), str(faq),
                                     lambda p, desc="": seen.append(p), tmp_path / "out")
    assert report is not None and Path(report).name == "report.html"
    html = Path(report).read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "13812345678" not in html
    assert "| hit_at_3 | 1.0 ✅ |" in summary
    assert "line 3" in summary  # the bad row is reported
    assert seen == [0.5, 1.0]


def test_missing_or_unreadable_file(tmp_path: Path) -> None:
    assert run_evaluation(FakeAssistant(), None)[1] is None
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    summary, report = run_evaluation(FakeAssistant(), str(empty))
    assert report is None and "Cannot read" in summary
