"""ui.web and its tabs (ui.render, ui.whatif_tab, ui.knowledge_tab): every handler driven by a fake
assistant, plus one real launch read by gradio_client."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pandas as pd
import pytest
from matplotlib.figure import Figure

from assistant.answer import Answer, Citation
from assistant.composer import sources_block
from assistant.whatif import NOTICE
from assistant.whatif.profile import DEFAULTS, FIELDS
from assistant.whatif.simulate import Simulation, simulate
from knowledge.entry import Entry, Lang
from knowledge.loader import load_knowledge
from tests.conftest import free_port
from ui import knowledge_tab, render, web, whatif_tab

ENTRIES = load_knowledge().by_id()
XIANYU = ENTRIES["xianyu-buying-does-not-open-jiebei"]
SCAM = ENTRIES["scam-open-credit-to-receive-payment"]
WARNING = "⚠️ 警惕诈骗：请立即停止操作。"
BAD_QUESTION = "<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3))"


def cite(entry: Entry, lang: Lang = "zh") -> Citation:
    return Citation(entry.id, entry.title(lang), entry.section(lang).verdict, 0.9,
                    entry.sources, entry.reviewed.isoformat())


def answer_from(entries: Sequence[Entry], lang: Lang, scam: str | None = None) -> Answer:
    body = f"**{entries[0].section(lang).verdict}** [1]\n- {entries[0].section(lang).points[0]}"
    text = f"{scam}\n\n{body}" if scam else body
    return Answer(text=f"{text}\n\n{sources_block(entries, lang)}", route="knowledge",
                  citations=[cite(e, lang) for e in entries], abstained=False,
                  scam_warning=scam, language=lang)


class FakeAssistant:
    """Hand-made answers: scam for 扫码/scam, "I don't know" for 天气, else two sources."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, list[dict[str, str]]]] = []
        self.fail = fail

    def ask(self, question: str, history: Sequence[Mapping[str, str]] | None = None) -> Answer:
        self.calls.append((question, [dict(m) for m in history or []]))
        if self.fail:
            raise RuntimeError("index <b>missing</b>")
        if not question.strip():
            raise ValueError("question is empty: ask something")
        lang: Lang = "en" if question.isascii() else "zh"
        if "扫码" in question or "scam" in question.lower():
            return answer_from([SCAM], lang, scam=WARNING)
        if "天气" in question:
            return Answer("抱歉，这个问题我不知道。", "out_of_scope", [], True, None, "zh")
        return answer_from([XIANYU, SCAM], lang)

    def knowledge_entries(self) -> list[Entry]:
        return sorted([XIANYU, SCAM], key=lambda e: e.id)

    def what_if(self, profile: Mapping[str, Any], changes: Mapping[str, Any] | None = None,
                target_band: str | None = None) -> Simulation:
        self.calls.append(("what_if", [dict(profile)]))
        return simulate(profile, changes, target_band)

    def find_entries(self, query: str, k: int = 10) -> list[Citation]:
        q = query.lower()
        hits = [e for e in self.knowledge_entries()
                if q in f"{e.title_zh} {e.title_en} {' '.join(e.tags)}".lower()]
        return [cite(e) for e in hits][:k]


def plain(md: str) -> str:
    """Markdown escapes removed, to compare with the raw message."""
    return md.replace("\\", "")


# -- escaping --------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [BAD_QUESTION, "<b onmouseover=x>hi</b>", "**bold** & `code`"])
def test_safe_text_shows_markup_as_text(text: str) -> None:
    out = render.safe_text(text)
    assert "<" not in out and not re.search(r"(?<!\\)[*`\[\]()]", out)
    assert plain(out).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


def test_safe_markdown_keeps_markdown_but_not_html() -> None:
    assert render.safe_markdown("**a** <img src=x onerror=y>") == "**a** &lt;img src=x onerror=y>"


# -- chat ------------------------------------------------------------------------------------
def test_answer_shows_numbered_expandable_sources() -> None:
    shown = web.render_answer(answer_from([XIANYU, SCAM], "zh"))
    assert shown.count("<details>") == 2 and 'class="mb-sources"' in shown
    assert f"[1] {XIANYU.title_zh}" in shown and f"[2] {SCAM.title_zh}" in shown
    assert XIANYU.zh.verdict in shown and XIANYU.sources[0] in shown
    assert XIANYU.reviewed.isoformat() in shown
    assert "来源：\n[1]" not in shown  # the plain block is replaced by the expandable one


def test_scam_warning_is_a_styled_callout() -> None:
    shown = web.render_answer(answer_from([SCAM], "zh", scam=WARNING))
    assert 'class="mb-callout mb-scam"' in shown and shown.count(WARNING) == 1
    assert shown.index(WARNING) < shown.index(SCAM.zh.verdict)
    assert "mb-scam" not in web.render_answer(answer_from([XIANYU], "zh"))


def test_abstain_is_styled_as_i_dont_know_in_the_questions_language() -> None:
    shown = web.render_answer(FakeAssistant().ask("今天天气怎么样"))
    assert 'class="mb-callout mb-abstain"' in shown and "我不知道" in shown
    assert "I don't know" not in shown and "<details>" not in shown
    english = web.render_answer(replace(FakeAssistant().ask("今天天气怎么样"), language="en"))
    assert "**I don't know**" in english and "**我不知道**" not in english


def test_sources_are_headed_in_the_answers_language() -> None:
    zh = web.render_answer(answer_from([XIANYU], "zh"))
    en = web.render_answer(answer_from([XIANYU], "en"))
    assert "**来源**" in zh and "审核于" in zh and "Sources" not in zh and "reviewed" not in zh
    assert "**Sources**" in en and "reviewed" in en and "来源" not in en


def test_copy_gets_the_answer_as_plain_lines() -> None:
    """The bubble carries the answer's plain text for the copy button: the warning, the verdict
    without ``**``, the points as • lines and the sources as lines; no HTML."""
    import base64

    answer = answer_from([SCAM], "zh", scam=WARNING)
    shown = web.render_answer(answer)
    found = re.search(r"<!--mb-copy:([A-Za-z0-9+/=]+)-->", shown)
    assert found is not None
    copied = base64.b64decode(found.group(1)).decode()
    assert copied.startswith(WARNING) and SCAM.zh.verdict in copied
    assert "**" not in copied and "<" not in copied and "• " in copied
    assert "来源：\n[1]" in copied and SCAM.sources[0] in copied
    assert "mb-copy" not in web.render_answer(answer, upto=5)  # a streaming bubble: no copy yet


def test_chat_streams_chunks_and_ends_with_full_answer() -> None:
    fake = FakeAssistant()
    steps = list(web.chat_stream(fake, "在闲鱼买东西会开通借呗吗?", [], delay=0))
    assert len(steps) >= 3
    bubbles = [display[-1]["content"] for display, _, _ in steps]
    assert len({*bubbles}) == len(bubbles)  # every yield shows more
    full = web.render_answer(fake.ask("在闲鱼买东西会开通借呗吗?"))
    assert bubbles[-1] == full and "<details>" not in bubbles[1]
    display, turns, box = steps[-1]
    assert box == "" and [m["role"] for m in display] == ["user", "assistant"]
    answer = fake.ask("在闲鱼买东西会开通借呗吗?")
    assert turns == [{"question": "在闲鱼买东西会开通借呗吗?", "answer": answer.text, "shown": full,
                      "suggested": "\n".join(answer.suggestions), "id": ""}]  # not recorded


def test_the_questions_offered_after_an_answer_are_its_suggestions() -> None:
    from dataclasses import replace

    class Suggesting(FakeAssistant):
        def ask(self, question: str, history: Any = None) -> Any:
            return replace(super().ask(question, history),
                           suggestions=("花呗怎么还款？", "借呗怎么还款？"))

    *_, (_, turns, _) = web.chat_stream(Suggesting(), "花呗", [], delay=0)
    assert web.related_questions(turns) == [["花呗怎么还款？"], ["借呗怎么还款？"]]
    assert web.related_questions([]) == [] and web.related_questions(None) == []


def test_follow_up_passes_the_conversation_as_history() -> None:
    fake = FakeAssistant()
    *_, (_, turns, _) = web.chat_stream(fake, "借呗怎么还款?", [], delay=0)
    *_, (display, turns2, _) = web.chat_stream(fake, "那花呗呢?", turns, delay=0)
    first_answer = fake.calls[0]
    assert first_answer == ("借呗怎么还款?", [])
    assert fake.calls[1] == ("那花呗呢?", [
        {"role": "user", "content": "借呗怎么还款?"},
        {"role": "assistant", "content": turns[0]["answer"]},
    ])
    assert len(display) == 4 and len(turns2) == 2


def test_question_markup_is_escaped_in_the_chat() -> None:
    *_, (display, turns, _) = web.chat_stream(FakeAssistant(), BAD_QUESTION, [], delay=0)
    user = display[0]["content"]
    assert "<script" not in user and "<img" not in user and "](" not in user
    assert "&lt;script&gt;" in user and "&lt;img" in user
    assert turns[0]["question"] == BAD_QUESTION  # the assistant still gets the raw text
    assert "<script" not in display[1]["content"]


def test_empty_question_does_nothing_and_errors_are_shown() -> None:
    assert list(web.chat_stream(FakeAssistant(), "   ", [], delay=0)) == [([], [], "")]
    *_, (display, _, _) = web.chat_stream(FakeAssistant(fail=True), "hi", [], delay=0)
    assert "mb-error" in display[-1]["content"] and "<b>" not in display[-1]["content"]


def test_ask_markdown_has_sources_and_rejects_empty_questions() -> None:
    md = web.ask_markdown(FakeAssistant(), "Does buying on Xianyu open Jiebei?")
    assert md.startswith(f"**{XIANYU.en.verdict}**") and "Sources:" in md and "[2]" in md
    with pytest.raises(gr.Error, match="empty"):
        web.ask_markdown(FakeAssistant(), "  ")


# -- what-if ---------------------------------------------------------------------------------
def view(change: tuple[str, Any] = ("", None), lang: str = "zh", **profile: Any
         ) -> tuple[Any, ...]:
    return whatif_tab.whatif_view(FakeAssistant(), {**DEFAULTS, **profile}, [change], lang)


def test_whatif_view_gives_ranges_reasons_suggestion_and_chart() -> None:
    error, before, after, reasons, suggestion, chart = view(("overdue_12m", 2), sesame_score=700)
    assert error == ""
    assert "¥" in before and "¥" in after and before != after
    assert "逾期" in reasons and "拉低估算" in reasons
    assert "拉高估算" in reasons and "芝麻分700" in reasons  # both directions, labelled
    assert "怎样到下一档" in suggestion and "¥" in suggestion
    english = view(("overdue_12m", 2), "en", sesame_score=700)
    assert "overdue" in english[3] and "What lowers it" in english[3] and "What it takes" in \
        english[4]
    for zh, en in zip((before, after, reasons, suggestion), english[1:5], strict=True):
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in en), en  # one language at a time
        assert "What" not in zh and "After" not in zh and "points" not in zh
    assert isinstance(chart, Figure)
    bars = chart.axes[0].patches
    from assistant.whatif.engine import load_rules

    # now and after for each scored factor (8 with other loans), signed against the common case
    assert len(bars) == 2 * len(load_rules().factor_fields) == 2 * 8
    widths = {round(b.get_width()) for b in bars}
    assert min(widths) < 0 < max(widths)  # 2 overdue events take points away: drawn negative


def test_the_tab_opens_with_no_change_and_a_blank_unknown_income() -> None:
    """What a newcomer sees first: the common case, nothing changed, income empty (unknown)."""
    assert all(DEFAULTS[f] is None or whatif_tab.to_page(f, DEFAULTS[f]) is not None
               for f in FIELDS)
    assert whatif_tab.to_page("monthly_income", None) is None
    assert whatif_tab.to_page("utilization", 0.3) == 30.0  # shown in %
    assert whatif_tab.to_model("utilization", 45) == 0.45
    assert whatif_tab.to_model("monthly_income", None) is None  # empty: unknown
    assert whatif_tab.to_model("xianyu_orders_12m", None) == 0  # empty: the common case
    values = [whatif_tab.to_page(f, DEFAULTS[f]) for f in FIELDS]
    rows = ["", None] * whatif_tab.CHANGE_ROWS
    error, before, after, *_ = whatif_tab.whatif_form(FakeAssistant(), *values, *rows)
    assert error == "" and "改变后（没有改变）" in after
    assert before.split("**", 2)[2] == after.split("**", 2)[2]  # the same range: nothing applied


def test_a_range_only_factor_is_explained_when_it_moves_the_range() -> None:
    _, before, after, reasons, *_ = view(("xianyu_orders_12m", 50))
    assert before != after and "闲鱼订单50单" in reasons and "拉高估算" in reasons


def test_whatif_json_and_its_notice() -> None:
    fake = FakeAssistant()
    data = whatif_tab.compute_whatif(fake, {"sesame_score": 700}, {"utilization": 0.9})
    assert fake.calls == [("what_if", [{"sesame_score": 700}])]  # through the surface
    assert data["notice"] == NOTICE
    assert data["changed"] == {"utilization": [0.3, 0.9]}
    assert data["after"]["high"] < data["before"]["high"]
    assert data["reasons"][0]["zh"] and data["reasons"][0]["en"]
    assert data["suggestion"]["target_band"] == "high"
    util = next(f for f in data["factors"] if f["field"] == "utilization")
    assert util["after"] < util["before"] <= util["best"]
    assert NOTICE["zh"] in whatif_tab.NOTICE_MD and NOTICE["en"] in whatif_tab.NOTICE_MD


@pytest.mark.parametrize(
    ("change", "profile", "field", "label"),
    [
        (("", None), {"sesame_score": 1000}, "sesame_score", "芝麻分"),
        (("", None), {"utilization": 1.5}, "utilization", "额度使用率"),
        (("", None), {"xianyu_orders_12m": 2.5}, "xianyu_orders_12m", "闲鱼"),
        (("overdue_12m", None), {}, "overdue_12m", "逾期"),
        (("applications_6m", -3), {}, "applications_6m", "申请"),
    ],
)
def test_invalid_whatif_value_gives_a_friendly_error(
    change: tuple[str, Any], profile: dict[str, Any], field: str, label: str
) -> None:
    error, before, after, *_, chart = view(change, **profile)
    english = view(change, "en", **profile)[0]
    assert "mb-error" in error and "输入有误" in error and "Invalid input" not in error
    from assistant.whatif.fields import FIELD_SPECS

    # named by its label in the page's language, never by the internal name (sesame_score)
    assert label in error and f"Invalid input: {FIELD_SPECS[field].label_en}" in plain(english)
    assert "输入有误" not in english
    assert ("_" in field) <= (field not in plain(error) + plain(english))
    assert before == after == "—" and chart is None


def test_form_inputs_map_to_profile_and_changes() -> None:
    """The flat Gradio inputs, as shown (utilization in %, income blank when unknown): one value
    per registry field, then change pairs; a pair without a value changes nothing."""
    def shown(income: Any) -> list[Any]:
        return [700 if f == "sesame_score" else income if f == "monthly_income"
                else whatif_tab.to_page(f, DEFAULTS[f]) for f in FIELDS]

    rows = ["overdue_12m", 2, "utilization", None] + ["", None] * (whatif_tab.CHANGE_ROWS - 2)
    unknown = whatif_tab.whatif_form(FakeAssistant(), *shown(None), *rows)
    known = whatif_tab.whatif_form(FakeAssistant(), *shown(0), *rows)
    assert unknown[0] == known[0] == ""
    assert "月收入¥0" in known[3]  # 0 is a known (lowest) income, not "unknown"
    assert unknown[1:3] == view(("overdue_12m", 2), sesame_score=700)[1:3]
    assert unknown[1] != known[1]  # unknown income counts as middle, 0 as lowest


# -- knowledge -------------------------------------------------------------------------------
def test_browse_lists_every_entry() -> None:
    table = knowledge_tab.browse_table(FakeAssistant())
    assert list(table.columns) == knowledge_tab.BROWSE_COLUMNS["zh"]
    assert list(table["id"]) == sorted([XIANYU.id, SCAM.id])
    assert XIANYU.reviewed.isoformat() in set(table["审核于"])
    assert XIANYU.title_zh in set(table["标题"])
    english = knowledge_tab.browse_table(FakeAssistant(), "en")
    assert list(english.columns) == knowledge_tab.BROWSE_COLUMNS["en"]
    assert XIANYU.title_en in set(english["Title"])


def test_search_shows_title_verdict_sources_reviewed() -> None:
    status, table = knowledge_tab.search_knowledge(FakeAssistant(), "seed")
    assert "找到 1 条" in status and isinstance(table, pd.DataFrame)
    assert "1 found" in knowledge_tab.search_knowledge(FakeAssistant(), "seed", lang="en")[0]
    row = table.iloc[0].tolist()
    assert row == [XIANYU.id, XIANYU.title_zh, XIANYU.zh.verdict, "；".join(XIANYU.sources),
                   XIANYU.reviewed.isoformat()]
    assert knowledge_tab.search_knowledge(FakeAssistant(), "nothing-like-this")[1].empty
    assert knowledge_tab.search_knowledge(FakeAssistant(), "  ")[1].empty


def test_view_entry_in_the_pages_language_with_the_other_folded() -> None:
    md = knowledge_tab.view_entry(FakeAssistant(), XIANYU.id)
    for text in (XIANYU.title_zh, XIANYU.zh.verdict, XIANYU.en.verdict,
                 XIANYU.sources[0], XIANYU.reviewed.isoformat()):
        assert text in md
    assert md.index(XIANYU.zh.verdict) < md.index("<details>") < md.index(XIANYU.en.verdict)
    english = knowledge_tab.view_entry(FakeAssistant(), XIANYU.id, "en")
    assert english.startswith(f"## {XIANYU.title_en}") and "### Sources" in english
    assert english.index(XIANYU.en.verdict) < english.index("<details>")
    assert "选择" in knowledge_tab.view_entry(FakeAssistant(), None)
    assert "Choose" in knowledge_tab.view_entry(FakeAssistant(), None, "en")
    assert "&lt;x&gt;" in knowledge_tab.view_entry(FakeAssistant(), "<x>")


def test_clicking_a_row_selects_its_entry() -> None:
    evt = SimpleNamespace(row_value=[SCAM.id, "title", "..."])
    assert knowledge_tab.selected_id(evt) == SCAM.id  # type: ignore[arg-type]


# -- the page --------------------------------------------------------------------------------
def test_extra_tabs_are_built_inside_the_tabs() -> None:
    built: list[str] = []

    def evaluation_tab() -> None:
        with gr.Tab("评测 Evaluation"):
            built.append("evaluation")
            gr.Markdown("later")

    demo = web.build_ui(FakeAssistant(), extra_tabs=[evaluation_tab])
    labels = [getattr(b.label, "key", b.label) for b in demo.blocks.values()
              if isinstance(b, gr.Tab)]  # the page's own tabs are translated (ui/i18n.py)
    assert built == ["evaluation"]
    assert labels == ["问答", "额度模拟", "知识库", "评测 Evaluation"]


def test_launched_page_answers_gradio_client() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gradio_client import Client

    demo = web.build_ui(FakeAssistant())
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                css=web.CSS, theme=web.THEME, quiet=True)
    try:
        client = Client(demo.local_url, verbose=False)
        md = client.predict("在闲鱼买东西会开通借呗吗?", api_name="/ask")
        assert XIANYU.zh.verdict in md and "来源" in md
        data = client.predict({"sesame_score": 700}, {"overdue_12m": 2}, api_name="/what_if")
        assert data["changed"] == {"overdue_12m": [0, 2]} and data["notice"] == NOTICE
        with pytest.raises(Exception, match="sesame_score"):
            client.predict({"sesame_score": 1000}, None, api_name="/what_if")
    finally:
        demo.close()


def test_text_boxes_take_what_people_type() -> None:
    assert whatif_tab.to_model("monthly_income", " 8,000 ") == 8000
    assert whatif_tab.to_model("monthly_income", "") is None
    assert whatif_tab.to_model("utilization", "45%") == 0.45
    values = [whatif_tab.to_page(f, DEFAULTS[f]) for f in FIELDS]
    rows = ["overdue_12m", "两次"] + ["", ""] * (whatif_tab.CHANGE_ROWS - 1)
    error, before, *_ = whatif_tab.whatif_form(FakeAssistant(), *values, *rows)
    assert "近12个月逾期次数" in error and before == "—"


def test_a_search_that_finds_nothing_says_so() -> None:
    status, table = knowledge_tab.search_knowledge(FakeAssistant(), "天气")
    assert table.empty and "没有能回答这个的条目" in status
    assert "No entry answers this" in knowledge_tab.search_knowledge(FakeAssistant(), "天气",
                                                                    lang="en")[0]
