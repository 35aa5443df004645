"""The web page: ``build_ui(assistant)`` -> tabs 问答 Chat, 额度模拟 What-if, 知识库 Knowledge.

>>> demo = build_ui(Assistant())                 # the UI is handed the core object
>>> demo.launch(css=CSS, theme=THEME)            # Gradio 6: css and theme go to launch()/mount

Handlers are module-level functions taking the assistant, so tests drive them with a fake.
What a user typed is always shown as text (``safe_text``); answers are our own Markdown with raw
HTML escaped (``safe_markdown``), wrapped in our callouts and numbered, expandable sources.
Named API endpoints: ``/ask`` (question -> Markdown with sources), ``/what_if`` (-> JSON dict).
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

import gradio as gr
import pandas as pd
from matplotlib.figure import Figure

from assistant.answer import Answer, Citation
from assistant.composer import SOURCES_HEADING
from assistant.whatif import NOTICE, Profile, simulate
from assistant.whatif.engine import context_of, load_rules
from assistant.whatif.profile import DEFAULTS, FIELD_SPECS, FIELDS
from assistant.whatif.scorer import LimitEstimate
from knowledge.entry import Entry

History = list[dict[str, str]]
Turn = dict[str, str]  # {"question": raw text, "answer": raw answer text, "shown": rendered}


class AssistantLike(Protocol):
    """What the page needs from the core (``assistant.Assistant`` fits; tests pass a fake)."""

    def ask(self, question: str, history: Sequence[Mapping[str, str]] | None = None) -> Answer: ...
    def knowledge_entries(self) -> list[Entry]: ...
    def find_entries(self, query: str, k: int = 10) -> list[Citation]: ...


EXAMPLES: tuple[str, ...] = (
    "在闲鱼买东西会开通借呗吗?",
    "Does buying on Xianyu open Jiebei?",
    "闲鱼买家说我要先开通借呗才能收到货款，还发了个二维码",
    "如果逾期两次，借呗额度会降多少?",
    "What if my Sesame score goes from 650 to 720?",
    "借呗逾期有什么后果?",
)
STREAM_CHUNKS = 4
STREAM_DELAY_S = 0.04  # between streamed chunks, so the page visibly streams
CHANGE_ROWS = 3
NOT_CHANGED = ""  # the change panel's "no change" choice
CONCURRENCY = {"concurrency_limit": 2, "concurrency_id": "assistant"}  # 2 cores
PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # UI-only events stay out of the API

# -- escaping --------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$=:])")


def safe_text(s: str) -> str:
    r"""User text as Markdown that renders verbatim, never as HTML or formatting.

    >>> print(safe_text("<b>*hi*</b>"))
    &lt;b&gt;\*hi\*&lt;/b&gt;
    """
    return html.escape(_MD_SPECIAL.sub(r"\\\1", str(s)), quote=False)


def safe_markdown(s: str) -> str:
    """Our own Markdown with any raw HTML neutralised: ``safe_markdown("a<b") == "a&lt;b"``."""
    return str(s).replace("&", "&amp;").replace("<", "&lt;")


def _callout(kind: str, markdown: str) -> str:
    # Blank lines around the content let Markdown render inside the HTML block.
    return f'<div class="mb-callout mb-{kind}">\n\n{markdown}\n\n</div>'


# -- chat ------------------------------------------------------------------------------------
def _body(answer: Answer) -> str:
    """The answer text without the scam warning and the plain sources block (shown separately)."""
    text = answer.text
    if answer.scam_warning:
        text = text.replace(answer.scam_warning, "", 1)
    if answer.citations:
        head = SOURCES_HEADING[answer.language]
        cut = max(text.rfind(f"\n\n{head}：\n[1]"), text.rfind(f"\n\n{head}:\n[1]"))
        if cut >= 0:
            text = text[:cut]
    return text.strip()


def render_sources(citations: Sequence[Citation]) -> str:
    """Numbered sources, each expandable: title, verdict snippet, references, reviewed date."""
    items = []
    for i, c in enumerate(citations, 1):
        refs = "\n".join(f"- {safe_markdown(r)}" for r in c.sources)
        reviewed = f"审核于 reviewed {c.reviewed}" if c.reviewed else ""
        items.append(
            f"<details><summary>[{i}] {html.escape(c.title)}</summary>\n\n"
            f"{safe_markdown(c.snippet)}\n\n{refs}\n\n{reviewed} · `{c.doc_id}`\n\n</details>"
        )
    return '<div class="mb-sources">\n\n**来源 Sources**\n\n' + "\n\n".join(items) + "\n\n</div>"


def render_answer(answer: Answer, upto: int | None = None) -> str:
    """The chat bubble: scam callout, the answer (or an "I don't know" callout), sources.

    ``upto`` shows only the first characters of the answer (streaming); sources come last.
    """
    body = _body(answer)
    partial = upto is not None and upto < len(body)
    shown = safe_markdown(body[:upto] if partial else body)
    parts = []
    if answer.scam_warning:
        parts.append(_callout("scam", f"**{safe_markdown(answer.scam_warning)}**"))
    if answer.abstained:
        parts.append(_callout("abstain", f"**我不知道 I don't know**\n\n{shown}"))
    else:
        parts.append(shown)
    if answer.citations and not partial:
        parts.append(render_sources(answer.citations))
    return "\n\n".join(parts)


def _history(turns: Sequence[Turn]) -> History:
    out: History = []
    for t in turns:
        out += [{"role": "user", "content": t["question"]},
                {"role": "assistant", "content": t["answer"]}]
    return out


def _display(turns: Sequence[Turn]) -> History:
    out: History = []
    for t in turns:
        out += [{"role": "user", "content": safe_text(t["question"])},
                {"role": "assistant", "content": t["shown"]}]
    return out


def chat_stream(
    assistant: AssistantLike, question: str, turns: Sequence[Turn] | None,
    delay: float = STREAM_DELAY_S,
) -> Iterator[tuple[History, list[Turn], str]]:
    """Yield (chatbot messages, turns, textbox value) as the answer streams in.

    Earlier turns go to ``ask`` as history, so follow-ups ("那借呗呢?") use the conversation.
    """
    turns = list(turns or [])
    question = (question or "").strip()
    if not question:
        yield _display(turns), turns, ""
        return
    pending = {"question": question, "answer": "", "shown": "…"}
    yield _display([*turns, pending]), turns, ""
    try:
        answer = assistant.ask(question, _history(turns))
    except Exception as exc:  # the UI edge: show the problem, keep the page alive
        shown = _callout("error", f"**出错了 Something went wrong:** {safe_text(str(exc))}")
        done = [*turns, {"question": question, "answer": "", "shown": shown}]
        yield _display(done), done, ""
        return
    body = _body(answer)
    for k in range(1, STREAM_CHUNKS):
        pending = {**pending, "shown": render_answer(answer, upto=len(body) * k // STREAM_CHUNKS)}
        yield _display([*turns, pending]), turns, ""
        time.sleep(delay)
    done = [*turns, {"question": question, "answer": answer.text, "shown": render_answer(answer)}]
    yield _display(done), done, ""


def ask_markdown(assistant: AssistantLike, question: str) -> str:
    """The ``/ask`` endpoint: the answer as Markdown with its numbered sources."""
    try:
        answer = assistant.ask(question)
    except ValueError as exc:  # empty question and the like: a message for the caller
        raise gr.Error(str(exc), print_exception=False) from None
    text = safe_markdown(answer.text)
    if answer.citations and SOURCES_HEADING[answer.language] not in text:
        lines = [f"[{i}] {safe_markdown(c.title)} ({'; '.join(c.sources)})"
                 for i, c in enumerate(answer.citations, 1)]
        text += "\n\n" + SOURCES_HEADING[answer.language] + ":\n" + "\n".join(lines)
    return text


# -- what-if ---------------------------------------------------------------------------------
def _label(name: str) -> str:
    spec = FIELD_SPECS[name]
    return f"{spec.label_zh} {spec.label_en[:1].upper()}{spec.label_en[1:]}"


def _estimate(est: LimitEstimate) -> dict[str, Any]:
    return {"low": est.low, "high": est.high, "band": est.band, "points": est.points,
            "band_zh": est.band_label("zh"), "band_en": est.band_label("en")}


def factor_points(profile: Profile) -> list[tuple[str, int, int]]:
    """(field, points it adds or takes away, the most it could add) for each scored factor."""
    ev = load_rules().evaluate(context_of(profile.as_dict()))
    return [(f.field, f.points, f.best_points) for f in ev.factors]


def compute_whatif(profile: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The ``/what_if`` JSON; raises ``ValueError`` (ProfileError, WhatIfError) naming the field."""
    sim = simulate(profile, changes)
    w = sim.result
    after_profile = sim.profile.with_changes(**dict(changes))
    points_after = {f: p for f, p, _ in factor_points(after_profile)}
    plan = sim.plan
    return {
        "profile": sim.profile.as_dict(),
        "before": _estimate(sim.before),
        "after": _estimate(sim.after),
        "changed": {f: [a, b] for f, (a, b) in w.changed.items()} if w else {},
        "explanation": {"zh": w.explanation.zh, "en": w.explanation.en} if w else None,
        "reasons": [{"code": r.code, "zh": r.text_zh, "en": r.text_en,
                     "points_lost": r.points_lost} for r in sim.after.reasons],
        "suggestion": None if plan.target_band == sim.after.band else {
            "target_band": plan.target_band, "reachable": plan.reachable,
            "zh": plan.explanation.zh, "en": plan.explanation.en},
        "factors": [{"field": f, "label_zh": FIELD_SPECS[f].label_zh,
                     "label_en": FIELD_SPECS[f].label_en, "before": p,
                     "after": points_after[f], "best": best}
                    for f, p, best in factor_points(sim.profile)],
        "notice": dict(NOTICE),
        "rules_version": sim.after.rules_version,
    }


def friendly_error(exc: Exception) -> str:
    """``输入有误 Invalid input — 芝麻分 Sesame score: sesame_score must be …``."""
    msg = str(exc)
    field = next((f for f in FIELDS if msg.startswith(f)), None) or next(
        (f for f in FIELDS if f in msg), None)
    where = f"{_label(field)}: " if field else ""
    return _callout("error", f"**输入有误 Invalid input** — {where}{safe_text(msg)}")


@lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """A CJK font matplotlib can use, or None (then the chart's labels stay English)."""
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        low = path.lower()
        if any(k in low for k in ("wqy", "notosanscjk", "notosanssc", "sourcehansans")):
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    return None


def factor_chart(data: Mapping[str, Any]) -> Figure:
    """Horizontal bars: the points each factor adds (+) or takes away (-), now and after."""
    factors = list(data["factors"])[::-1]
    font = _cjk_font()
    labels = [(f"{f['label_zh']}\n" if font else "") + f["label_en"] for f in factors]
    fig = Figure(figsize=(7.5, 4.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    if font:
        for t in (ax.title, ax.xaxis.label):
            t.set_fontfamily([font, "sans-serif"])
    ys = range(len(factors))
    changed = bool(data["changed"])
    h = 0.38 if changed else 0.6
    ax.barh(list(ys), [f["best"] for f in factors], height=0.85, color="#e8eaed",
            label="最多 most possible" if font else "most possible")
    now = ax.barh([y + (h / 2 if changed else 0) for y in ys], [f["before"] for f in factors],
                  height=h, color="#1a73e8", label="现在 now" if font else "now")
    ax.bar_label(now, fontsize=7, padding=2)
    if changed:
        after = ax.barh([y - h / 2 for y in ys], [f["after"] for f in factors], height=h,
                        color="#e8710a", label="改变后 after" if font else "after the change")
        ax.bar_label(after, fontsize=7, padding=2)
    ax.set_yticks(list(ys), labels, fontfamily=[font, "sans-serif"] if font else "sans-serif",
                  fontsize=8)
    ax.axvline(0, color="#5f6368", linewidth=0.8)
    ax.set_xlabel("points: adds (+) or takes away (-)")
    ax.set_title(f"Points per factor (total {data['before']['points']}"
                 + (f" -> {data['after']['points']})" if changed else ")"), fontsize=10)
    legend_font: dict[str, Any] = {"size": 8, **({"family": [font, "sans-serif"]} if font else {})}
    ax.legend(loc="lower right", prop=legend_font)
    return fig


def _range_md(title: str, est: Mapping[str, Any]) -> str:
    return (f"**{title}**\n\n<span class='mb-range'>¥{est['low']:,} – ¥{est['high']:,}</span>\n\n"
            f"{est['band_zh']} {est['band_en']} · {est['points']} 分 points")


def whatif_view(
    profile: Mapping[str, Any], changes: Sequence[tuple[str | None, Any]] = ()
) -> tuple[str, str, str, str, str, Figure | None]:
    """The What-if tab: profile values and (field, new value) changes ->
    (error, before, after, reasons, suggestion, chart). Never raises."""
    try:
        data = compute_whatif(profile, {f: v for f, v in changes if f})
    except Exception as exc:  # ProfileError / WhatIfError name the field; nothing crashes
        return friendly_error(exc), "—", "—", "", "", None
    reasons = "\n".join(f"- {safe_markdown(r['zh'])}<br>{safe_markdown(r['en'])}"
                        for r in data["reasons"]) or "- 没有明显拉低的因素 Nothing holds it back"
    s = data["suggestion"]
    suggestion = ("你已在本模型的最高档 You are in this model's top band." if s is None
                  else f"{safe_markdown(s['zh'])}\n\n{safe_markdown(s['en'])}")
    after_title = "改变后 After the change" if data["changed"] else "改变后 After (no change)"
    return (
        "",
        _range_md("现在 Now", data["before"]),
        _range_md(after_title, data["after"]),
        f"**主要原因 Top reasons**\n\n{reasons}",
        f"**怎样到下一档 What it takes (next band)**\n\n{suggestion}",
        factor_chart(data),
    )


def whatif_form(*values: Any) -> tuple[str, str, str, str, str, Figure | None]:
    """The tab's inputs, flat: one value per profile field, the "income unknown" checkbox, then
    (field, value) pairs from the change panel."""
    n = len(FIELDS)
    profile = dict(zip(FIELDS, values[:n], strict=True))
    if values[n]:
        profile["monthly_income"] = None
    pairs = values[n + 1:]
    return whatif_view(profile, list(zip(pairs[::2], pairs[1::2], strict=True)))


# -- knowledge -------------------------------------------------------------------------------
BROWSE_COLUMNS = ["id", "标题 Title", "Title (en)", "标签 Tags", "审核于 Reviewed"]
SEARCH_COLUMNS = ["id", "标题 Title", "结论 Verdict", "来源 Sources", "审核于 Reviewed"]


def browse_table(assistant: AssistantLike) -> pd.DataFrame:
    rows = [[e.id, e.title_zh, e.title_en, ", ".join(e.tags), e.reviewed.isoformat()]
            for e in assistant.knowledge_entries()]
    return pd.DataFrame(rows, columns=BROWSE_COLUMNS)


def search_knowledge(assistant: AssistantLike, query: str, k: int = 8) -> tuple[str, pd.DataFrame]:
    """(status line, results table) for a knowledge-base search."""
    query = (query or "").strip()
    if not query:
        return "输入关键词搜索 Type words to search.", pd.DataFrame(columns=SEARCH_COLUMNS)
    try:
        hits = assistant.find_entries(query, k)
    except Exception as exc:  # the UI edge
        return friendly_error(exc), pd.DataFrame(columns=SEARCH_COLUMNS)
    rows = [[c.doc_id, c.title, c.snippet, "；".join(c.sources), c.reviewed] for c in hits]
    status = (f"找到 {len(rows)} 条 {len(rows)} found — 点一行查看全文 click a row to read it"
              if rows else "没有结果 No results")
    return status, pd.DataFrame(rows, columns=SEARCH_COLUMNS)


def entry_markdown(entry: Entry) -> str:
    """One entry in full, both languages, with its sources and reviewed date."""
    def section(title: str, lang: str) -> str:
        s = entry.zh if lang == "zh" else entry.en
        points = "\n".join(f"- {safe_markdown(p)}" for p in s.points)
        return f"### {title}\n\n**{safe_markdown(s.verdict)}**\n\n{points}"

    sources = "\n".join(f"- {safe_markdown(s)}" for s in entry.sources)
    return "\n\n".join([
        f"## {safe_markdown(entry.title_zh)}\n\n*{safe_markdown(entry.title_en)}*",
        f"`{entry.id}` · 标签 tags: {safe_markdown(', '.join(entry.tags))} · "
        f"审核于 reviewed {entry.reviewed.isoformat()}",
        section("中文", "zh"), section("English", "en"),
        f"### 来源 Sources\n\n{sources}",
    ])


def view_entry(assistant: AssistantLike, entry_id: str | None) -> str:
    if not entry_id:
        return "选择一个条目 Choose an entry."
    for e in assistant.knowledge_entries():
        if e.id == entry_id:
            return entry_markdown(e)
    return f"没有这个条目 No such entry: {safe_text(entry_id)}"


def selected_id(evt: gr.SelectData) -> str | None:
    """The entry id of a clicked table row (the id is the first column)."""
    row = evt.row_value
    return str(row[0]) if row else None


# -- the page --------------------------------------------------------------------------------
CSS = """
.mb-callout { border-left: 5px solid; border-radius: 8px; padding: .5em .9em; margin: .3em 0; }
.mb-scam { background: #fdecea; border-color: #d93025; color: #5f1512; }
.mb-abstain { background: #f1f3f4; border-color: #80868b; color: #3c4043; }
.mb-error { background: #fef7e0; border-color: #e37400; color: #5c3200; }
.mb-notice { background: #fff8e1; border-left: 5px solid #f9a825; border-radius: 8px;
             padding: .4em .9em; color: #4e3a00; }
.mb-sources { border-top: 1px solid #dadce0; margin-top: .6em; padding-top: .3em;
              font-size: .92em; }
.mb-sources details { margin: .2em 0; }
.mb-sources summary { cursor: pointer; font-weight: 600; }
.mb-range { font-size: 1.5em; font-weight: 700; }
"""
THEME = gr.themes.Default(
    primary_hue="blue",
    font=[gr.themes.LocalFont("Source Sans Pro"), "PingFang SC", "Microsoft YaHei",
          "WenQuanYi Micro Hei", "Noto Sans CJK SC", "sans-serif"],
)
NOTICE_MD = f"**{NOTICE['zh']}**<br>**{NOTICE['en']}**"


def _chat_tab(assistant: AssistantLike) -> None:
    with gr.Tab("问答 Chat", id="chat"):
        chatbot = gr.Chatbot(
            elem_id="mb-chat", label="明白 Mingbai", height=520, sanitize_html=True,
            render_markdown=True, allow_tags=False, latex_delimiters=[], feedback_options=None,
            buttons=["copy"],
            placeholder="**明白 Mingbai** · 花呗、借呗、芝麻信用、征信、闲鱼防骗；有来源的回答。"
                        "<br>Huabei, Jiebei, Sesame Credit, credit reports, Xianyu scams: "
                        "sourced answers.",
        )
        turns = gr.State([])
        with gr.Row():
            box = gr.Textbox(placeholder="输入问题… Type a message...", show_label=False,
                             elem_id="mb-question", scale=8, max_lines=6, autofocus=True)
            send = gr.Button("提问 Ask", variant="primary", elem_id="mb-send", scale=1)
            clear = gr.Button("清空 Clear", elem_id="mb-clear", scale=1)
        examples = gr.Dataset(components=[box], samples=[[q] for q in EXAMPLES],
                              label="示例问题 Example questions", elem_id="mb-examples")

        def stream(question: str, state: list[Turn]) -> Iterator[tuple[History, list[Turn], str]]:
            yield from chat_stream(assistant, question, state)

        def stream_example(sample: list[str], state: list[Turn]) -> Iterator[Any]:
            yield from chat_stream(assistant, sample[0] if sample else "", state)

        io = {"outputs": [chatbot, turns, box], **CONCURRENCY, **PRIVATE}
        gr.on([box.submit, send.click], stream, [box, turns], **io)
        examples.click(stream_example, [examples, turns], **io)
        clear.click(lambda: ([], []), None, [chatbot, turns], **PRIVATE)


def _whatif_tab() -> None:
    with gr.Tab("额度模拟 What-if", id="whatif"):
        gr.Markdown(NOTICE_MD, elem_classes=["mb-notice"], elem_id="mb-notice")
        with gr.Row():
            with gr.Column(scale=1):
                gr.Markdown("### 你的情况 Your profile")
                inputs: list[gr.components.Component] = []
                for name in FIELDS:
                    spec = FIELD_SPECS[name]
                    if spec.maximum is not None:
                        inputs.append(gr.Slider(
                            spec.minimum, spec.maximum, value=DEFAULTS[name],
                            step=1 if spec.kind is int else 0.01, label=_label(name),
                            elem_id=f"mb-wi-{name}"))
                    else:
                        inputs.append(gr.Number(value=DEFAULTS[name] or 0, label=_label(name),
                                                elem_id=f"mb-wi-{name}"))
                income = inputs[FIELDS.index("monthly_income")]
                assert isinstance(income, gr.Number)
                unknown = gr.Checkbox(DEFAULTS["monthly_income"] is None,
                                      label="月收入未知 Income unknown",
                                      elem_id="mb-wi-income-unknown")
                income.input(lambda: False, None, unknown, **PRIVATE)  # typing an income = known
                inputs.append(unknown)
            with gr.Column(scale=1):
                gr.Markdown("### 改变 Change")
                choices = [("（不改）No change", NOT_CHANGED)] + [(_label(f), f) for f in FIELDS]
                for i in range(CHANGE_ROWS):
                    with gr.Row():
                        inputs.append(gr.Dropdown(
                            choices, value="overdue_12m" if i == 0 else NOT_CHANGED,
                            label=f"项目 Field {i + 1}", elem_id=f"mb-change-field-{i}"))
                        inputs.append(gr.Number(value=2 if i == 0 else None,
                                                label=f"新值 New value {i + 1}",
                                                elem_id=f"mb-change-value-{i}"))
                run = gr.Button("估算 Estimate", variant="primary", elem_id="mb-whatif-run")
                first = whatif_form(*[c.value for c in inputs])
                error = gr.Markdown(first[0], elem_id="mb-whatif-error")
                with gr.Row():
                    before = gr.Markdown(first[1], elem_id="mb-whatif-before")
                    after = gr.Markdown(first[2], elem_id="mb-whatif-after")
                reasons = gr.Markdown(first[3], elem_id="mb-whatif-reasons")
                suggestion = gr.Markdown(first[4], elem_id="mb-whatif-suggestion")
        chart = gr.Plot(first[5], label="各因素加减分 Points each factor adds or takes away",
                        elem_id="mb-whatif-chart")
        triggers: list[Any] = [run.click]
        for c in inputs:
            if isinstance(c, gr.Slider):
                triggers += [c.release, c.input]
            elif isinstance(c, gr.Number):
                triggers += [c.submit, c.blur]
            elif isinstance(c, gr.Dropdown | gr.Checkbox):
                triggers.append(c.change)
        gr.on(triggers, whatif_form, inputs, [error, before, after, reasons, suggestion, chart],
              trigger_mode="always_last", **PRIVATE)


def _knowledge_tab(assistant: AssistantLike) -> None:
    with gr.Tab("知识库 Knowledge", id="knowledge"):
        with gr.Row():
            query = gr.Textbox(placeholder="搜索知识库 Search the knowledge base",
                               show_label=False, elem_id="mb-kb-query", scale=8)
            go = gr.Button("搜索 Search", elem_id="mb-kb-search", scale=1)
        status = gr.Markdown(elem_id="mb-kb-status")
        results = gr.Dataframe(headers=SEARCH_COLUMNS, interactive=False, wrap=True,
                               elem_id="mb-kb-results", label="搜索结果 Results",
                               column_widths=["18%", "20%", "34%", "18%", "10%"])
        entries = assistant.knowledge_entries()
        pick = gr.Dropdown([(f"{e.id} — {e.title_zh}", e.id) for e in entries], value=None,
                           label="查看条目 View an entry", elem_id="mb-kb-pick")
        view = gr.Markdown("选择一个条目 Choose an entry.", elem_id="mb-kb-entry")
        with gr.Accordion(f"全部条目 All entries ({len(entries)})", open=True):
            table = gr.Dataframe(browse_table(assistant), interactive=False, wrap=True,
                                 elem_id="mb-kb-browse", max_height=420,
                                 column_widths=["30%", "28%", "22%", "12%", "8%"])

        def search(q: str) -> tuple[str, pd.DataFrame]:
            return search_knowledge(assistant, q)

        def show(entry_id: str | None) -> str:
            return view_entry(assistant, entry_id)

        gr.on([query.submit, go.click], search, query, [status, results], **CONCURRENCY,
              **PRIVATE)
        results.select(selected_id, None, pick, **PRIVATE)
        table.select(selected_id, None, pick, **PRIVATE)
        pick.change(show, pick, view, **PRIVATE)


def build_ui(
    assistant: AssistantLike, extra_tabs: Sequence[Callable[[], None]] = ()
) -> gr.Blocks:
    """The whole page, handed the core object. Each ``extra_tabs`` callable builds one more tab
    (``with gr.Tab("评测 Evaluation"): ...``) inside the tabs. Pass ``CSS``/``THEME`` to launch."""
    with gr.Blocks(title="明白 Mingbai", analytics_enabled=False) as demo:
        gr.Markdown("# 明白 Mingbai\n花呗、借呗、芝麻信用、征信与闲鱼防骗：有来源的中英双语解答。 "
                    "Sourced, bilingual answers about consumer credit in China.")
        with gr.Tabs(elem_id="mb-tabs"):
            _chat_tab(assistant)
            _whatif_tab()
            _knowledge_tab(assistant)
            for build_tab in extra_tabs:
                build_tab()

        def ask(question: str) -> str:
            """Answer one question: the answer as Markdown with its numbered sources."""
            return ask_markdown(assistant, question)

        def what_if_api(profile: dict[str, Any], changes: dict[str, Any] | None = None
                        ) -> dict[str, Any]:
            """Educational limit estimate before/after changes, with reasons and the notice."""
            try:
                return compute_whatif(profile or {}, changes or {})
            except ValueError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        gr.api(ask, api_name="ask", **CONCURRENCY)
        gr.api(what_if_api, api_name="what_if")
    demo.queue(default_concurrency_limit=4)
    return demo
