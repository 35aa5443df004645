"""The web page: ``build_ui(assistant)`` -> tabs 问答 Chat, 额度模拟 What-if, 知识库 Knowledge.

>>> demo = build_ui(Assistant())  # the UI is handed the core object  # doctest: +SKIP
>>> demo.launch(css=CSS, theme=THEME)  # Gradio 6: css/theme go to launch()  # doctest: +SKIP

This module holds the chat tab and puts the page together; the other tabs live in
``ui.whatif_tab`` and ``ui.knowledge_tab``, the escaping and callouts they share in ``ui.render``.
Handlers are module-level functions taking the assistant, so tests drive them with a fake.
What a user typed is always shown as text (``safe_text``); answers are our own Markdown with raw
HTML escaped (``safe_markdown``), wrapped in our callouts and numbered, expandable sources.
Named API endpoints: ``/ask`` (question -> Markdown with sources), ``/what_if`` (-> JSON dict).
"""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import gradio as gr

from assistant.answer import Answer, Citation
from assistant.composer import SOURCES_HEADING
from assistant.surface import Surface
from ui.i18n import (
    INDEPENDENT_LINE,
    RECORDING_LINE,
    SWITCH_LANGUAGE_JS,
    Lang,
    in_page_language,
    say,
    tr,
)
from ui.knowledge_tab import (
    BROWSE_COLUMNS,
    SEARCH_COLUMNS,
    browse_table,
    build_knowledge_tab,
    entry_markdown,
    search_knowledge,
    selected_id,
    view_entry,
)
from ui.render import CONCURRENCY, PRIVATE, OnLoad, callout, plain_text, safe_markdown, safe_text
from ui.whatif_tab import (
    CHANGE_ROWS,
    NOT_CHANGED,
    NOTICE_MD,
    build_whatif_tab,
    compute_whatif,
    factor_chart,
    friendly_error,
    whatif_form,
    whatif_view,
)

__all__ = [  # the other tabs' handlers and the shared helpers are re-exported from here
    "BROWSE_COLUMNS", "CHANGE_ROWS", "CONCURRENCY", "CSS", "EXAMPLES", "HEAD", "NOTICE_MD",
    "NOT_CHANGED",
    "PRIVATE", "SEARCH_COLUMNS", "STREAM_CHUNKS", "STREAM_DELAY_S", "THEME", "AssistantLike",
    "History", "Turn", "ask_markdown", "browse_table", "build_ui", "chat_stream",
    "compute_whatif", "entry_markdown", "factor_chart", "friendly_error",
    "render_answer", "render_sources", "safe_markdown", "safe_text", "search_knowledge",
    "selected_id", "view_entry", "whatif_form", "whatif_view",
]  # fmt: skip

History = list[dict[str, str]]
Turn = dict[str, str]  # {"question": raw text, "answer": raw answer text, "shown": rendered,
#                         "suggested": the related questions offered after it, one per line}


AssistantLike = Surface  # what the page needs from the core (assistant.surface; tests pass a fake)


EXAMPLES: tuple[str, ...] = (
    "在闲鱼买东西会开通借呗吗?",
    "Does buying on Xianyu open Jiebei?",
    "闲鱼买家说我要先开通借呗才能收到货款，还发了个二维码",
    "如果逾期两次，借呗额度会降多少?",
    "What if my Sesame score goes from 650 to 720?",
    "借呗逾期有什么后果?",
)
# the 👎 reasons (assistant.questionlog.schema.REASONS), shown under the message's flag icon,
# in the page's language
FEEDBACK_OPTIONS = {
    "zh": {"没回答我的问题": "not_answered", "答错了": "wrong", "看不懂": "unclear",
           "其他": "other"},
    "en": {"Not answered": "not_answered", "Wrong": "wrong", "Hard to understand": "unclear",
           "Other": "other"},
}
FEEDBACK_REASONS = {**FEEDBACK_OPTIONS["zh"], **FEEDBACK_OPTIONS["en"]}  # label -> reason
STREAM_CHUNKS = 4
STREAM_DELAY_S = 0.04  # between streamed chunks, so the page visibly streams


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


def render_sources(citations: Sequence[Citation], lang: str = "zh") -> str:
    """Numbered sources, each expandable: title, verdict snippet, references, reviewed date (in
    the answer's language)."""
    items = []
    for i, c in enumerate(citations, 1):
        refs = "\n".join(f"- {safe_markdown(r)}" for r in c.sources)
        reviewed = f"{say(lang, '审核于', 'reviewed')} {c.reviewed}" if c.reviewed else ""
        items.append(
            f"<details><summary>[{i}] {html.escape(c.title)}</summary>\n\n"
            f"{safe_markdown(c.snippet)}\n\n{refs}\n\n{reviewed} · `{c.doc_id}`\n\n</details>"
        )
    heading = say(lang, "来源", "Sources")
    return (f'<div class="mb-sources">\n\n**{heading}**\n\n' + "\n\n".join(items)
            + "\n\n</div>")


def _copy_mark(answer: Answer) -> str:
    """The answer as plain text, hidden in the bubble for the copy button (``COPY_HEAD``)."""
    data = base64.b64encode(plain_text(answer.text).encode()).decode()
    return f"<!--mb-copy:{data}-->"


def render_answer(answer: Answer, upto: int | None = None) -> str:
    """The chat bubble: scam callout, the answer (or an "I don't know" callout), sources.

    ``upto`` shows only the first characters of the answer (streaming); sources come last.
    A whole answer carries its plain text for the copy button.
    """
    shown = _rendered(answer, upto)
    return shown if upto is not None else f"{shown}\n\n{_copy_mark(answer)}"


def _rendered(answer: Answer, upto: int | None) -> str:
    if answer.parts and upto is None:
        blocks = [callout("scam", f"**{safe_markdown(answer.scam_warning)}**")] \
            if answer.scam_warning else []
        blocks += [safe_markdown(n) for n in answer.notes]
        for i, part in enumerate(answer.parts, 1):
            inner = _rendered(replace(part, scam_warning=None, text=_body(part)), None)
            blocks.append(f"**{i}. {safe_markdown(part.question)}**\n\n{inner}")
        return "\n\n".join(blocks)
    body = _body(answer)
    partial = upto is not None and upto < len(body)
    shown = safe_markdown(body[:upto] if partial else body)
    parts = []
    if answer.scam_warning:
        parts.append(callout("scam", f"**{safe_markdown(answer.scam_warning)}**"))
    if answer.abstained:
        dont_know = say(answer.language, "我不知道", "I don't know")
        parts.append(callout("abstain", f"**{dont_know}**\n\n{shown}"))
    else:
        parts.append(shown)
    if answer.citations and not partial:
        parts.append(render_sources(answer.citations, answer.language))
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
    delay: float = STREAM_DELAY_S, lang: str = "zh",
) -> Iterator[tuple[History, list[Turn], str]]:
    """Yield (chatbot messages, turns, textbox value) as the answer streams in.

    Earlier turns go to ``ask`` as history, so follow-ups ("那借呗呢?") use the conversation.
    The answer is in the question's language; a failure is told in ``lang``, the page's.
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
        shown = callout("error", f"**{say(lang, '出错了：', 'Something went wrong:')}** "
                                 f"{safe_text(str(exc))}")
        done = [*turns, {"question": question, "answer": "", "shown": shown, "suggested": ""}]
        yield _display(done), done, ""
        return
    body = _body(answer)
    for k in range(1, STREAM_CHUNKS):
        pending = {**pending, "shown": render_answer(answer, upto=len(body) * k // STREAM_CHUNKS)}
        yield _display([*turns, pending]), turns, ""
        time.sleep(delay)
    done = [*turns, {"question": question, "answer": answer.text, "shown": render_answer(answer),
                     "suggested": "\n".join(answer.suggestions), "id": answer.id}]
    yield _display(done), done, ""


def answer_id_at(turns: Sequence[Turn] | None, index: Any) -> str | None:
    """The id of the answer shown at chat message ``index`` (Gradio's ``LikeData.index``, an int
    or a list starting with one); None for a user message or an answer without an id."""
    position = index[0] if isinstance(index, list | tuple) else index
    turns = list(turns or [])
    if not isinstance(position, int) or position % 2 != 1 or position // 2 >= len(turns):
        return None
    return turns[position // 2].get("id") or None


def record_feedback(assistant: AssistantLike, turns: Sequence[Turn] | None, index: Any,
                    liked: bool | str) -> bool:
    """A 👍/👎 (or a 👎 reason) on the chat message at ``index``: recorded against that answer's
    id. False when nothing can be recorded (no log, a message without an id)."""
    record = getattr(assistant, "feedback", None)
    answer_id = answer_id_at(turns, index)
    if record is None or answer_id is None:
        return False
    if liked is True:
        return bool(record(answer_id, 1))
    reason = FEEDBACK_REASONS.get(liked) if isinstance(liked, str) else None
    return bool(record(answer_id, -1, reason))


def record_comment(assistant: AssistantLike, turns: Sequence[Turn] | None,
                   votes: Mapping[str, int] | None, comment: str) -> bool:
    """A free-text comment on the last answer, with the vote given on it (👎 "other" if none:
    a comment is most often a complaint). Masked by the recorder. False if nothing to record."""
    record = getattr(assistant, "feedback", None)
    text = (comment or "").strip()
    answer_id = turns[-1].get("id") if turns else None
    if record is None or not text or not answer_id:
        return False
    vote = (votes or {}).get(answer_id, -1)
    return bool(record(answer_id, vote, None if vote > 0 else "other", text))


def related_questions(turns: Sequence[Turn] | None) -> list[list[str]]:
    """The questions offered after the last answer (猜你想问), as rows of a Dataset."""
    last = (turns or [{}])[-1]
    return [[q] for q in str(last.get("suggested", "")).splitlines() if q.strip()]


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


# -- the page --------------------------------------------------------------------------------
CSS = """
.mb-callout { border-left: 5px solid; border-radius: 8px; padding: .5em .9em; margin: .3em 0; }
.mb-scam { background: #fdecea; border-color: #d93025; color: #5f1512; }
.mb-abstain { background: #f1f3f4; border-color: #80868b; color: #3c4043; }
.mb-error { background: #fef7e0; border-color: #e37400; color: #5c3200; }
.mb-notice { background: #fff8e1; border-left: 5px solid #f9a825; border-radius: 8px;
             padding: .4em .9em; color: #4e3a00; font-weight: 600; }
.mb-sources { border-top: 1px solid #dadce0; margin-top: .6em; padding-top: .3em;
              font-size: .92em; }
.mb-sources details { margin: .2em 0; }
.mb-sources summary { cursor: pointer; font-weight: 600; }
.mb-range { font-size: 1.5em; font-weight: 700; }
.mb-small { font-size: .85em; color: #5f6368; }
/* example and related questions as chips beside the input, not a table */
.mb-chips table, .mb-chips tbody { display: block; }
.mb-chips tr { display: inline-block; margin: .15em .3em .15em 0; }
.mb-chips td { border: 1px solid #dadce0 !important; border-radius: 999px;
               padding: .25em .8em !important; font-size: .9em; background: #fff;
               cursor: pointer; }
.mb-chips thead { display: none; }
/* contrast (axe-core, WCAG AA 4.5:1): Gradio's slider ends and footer links are too light */
.min_value, .max_value, .show-api, footer a, footer button, .subdued { color: #4d5156 !important; }
button[role="tab"].selected { color: #1d4ed8 !important; }
@media (max-width: 640px) {
  #mb-tabs button[role="tab"] { padding-left: .6em; padding-right: .6em; }
  #mb-chat { height: 44vh !important; }
}
"""
SCROLL_TO_ANSWER = """() => {
  const bots = document.querySelectorAll('#mb-chat [data-testid="bot"]');
  const last = bots[bots.length - 1];
  if (last) last.scrollIntoView({block: 'start', behavior: 'instant'});
}"""
THEME = gr.themes.Default(
    primary_hue="blue",
    font=[gr.themes.LocalFont("Source Sans Pro"), "PingFang SC", "Microsoft YaHei",
          "WenQuanYi Micro Hei", "Noto Sans CJK SC", "sans-serif"],
).set(  # white on this blue is 6.7:1 (the default blue-500 was 3.7:1, under WCAG AA)
    button_primary_background_fill="#1d4ed8",
    button_primary_background_fill_hover="#1e40af",
    button_primary_text_color="#ffffff",
)


def restore(turns: list[Turn] | None) -> tuple[History, list[Turn], Any]:
    """The conversation kept in the browser, shown again after a reload (with its chips)."""
    turns = [t for t in (turns or []) if isinstance(t, dict) and "question" in t]
    rows = related_questions(turns)
    return _display(turns), turns, gr.Dataset(samples=rows, visible=bool(rows))


# Gradio's copy button copies a message's Markdown and HTML; a finished answer carries its plain
# text (``_copy_mark``), and this puts that on the clipboard instead (WeChat gets clean lines).
COPY_HEAD = """<script>
(() => {
  const MARK = /<!--mb-copy:([A-Za-z0-9+/=]+)-->/;
  const plain = (text) => {
    const found = typeof text === "string" ? MARK.exec(text) : null;
    if (!found) return text;
    return new TextDecoder().decode(Uint8Array.from(atob(found[1]), (c) => c.charCodeAt(0)));
  };
  const clip = navigator.clipboard;
  if (clip && clip.writeText) {
    const write = clip.writeText.bind(clip);
    clip.writeText = (text) => write(plain(text));
  }
  // without the clipboard API (a page served over plain http) Gradio copies from a textarea
  document.addEventListener("copy", (event) => {
    const box = [...document.querySelectorAll("textarea")].find((t) => MARK.test(t.value));
    if (!box || !event.clipboardData) return;
    event.clipboardData.setData("text/plain", plain(box.value));
    event.preventDefault();
  }, true);
})();
</script>"""
HEAD = COPY_HEAD  # pass as ``head`` with CSS and THEME (ui.server puts LANGUAGE_HEAD first)


def _chat_tab(assistant: AssistantLike) -> OnLoad:
    log = getattr(assistant, "log", None)
    recording = log is not None and getattr(assistant, "feedback", None) is not None
    with gr.Tab(tr("问答"), id="chat"):
        chatbot = gr.Chatbot(
            elem_id="mb-chat", show_label=False, height="min(480px, 52vh)", autoscroll=False,
            sanitize_html=True,
            render_markdown=True, allow_tags=False, latex_delimiters=[],
            feedback_options=_feedback_options("zh") if recording else None,
            buttons=["copy"],
            placeholder=tr("**明白** · 花呗、借呗、芝麻信用、征信、闲鱼防骗；有来源的回答。"),
        )
        # kept in the browser (encrypted with this server's key): a reload keeps the conversation
        turns = gr.BrowserState([], storage_key="mingbai-chat")
        with gr.Row():
            box = gr.Textbox(placeholder=tr("输入问题…"), show_label=False,
                             elem_id="mb-question", scale=8, max_lines=6, autofocus=True)
            send = gr.Button(tr("提问"), variant="primary", elem_id="mb-send", scale=1,
                             min_width=64)
            clear = gr.Button(tr("新对话"), elem_id="mb-clear", scale=1, min_width=64)
        related = gr.Dataset(components=[box], samples=[], label=tr("猜你想问"),
                             elem_id="mb-related", visible=False, elem_classes=["mb-chips"])
        examples = gr.Dataset(components=[box], samples=[[q] for q in EXAMPLES],
                              label=tr("示例问题"), elem_id="mb-examples",
                              elem_classes=["mb-chips"])
        gr.Markdown(tr(INDEPENDENT_LINE), elem_id="mb-independent", elem_classes=["mb-small"])
        if recording:
            gr.Markdown(tr(RECORDING_LINE), elem_id="mb-recording", elem_classes=["mb-small"])
        with gr.Row(visible=recording):
            comment = gr.Textbox(placeholder=tr("对上一条回答有话要说？（可选，请不要写个人号码）"),
                                 show_label=False, elem_id="mb-comment", scale=8, max_lines=3)
            send_comment = gr.Button(tr("发送反馈"), elem_id="mb-comment-send", scale=1,
                                     min_width=64)

        def with_related(lang: Lang, question: str, state: list[Turn]) -> Iterator[Any]:
            # the related questions come in the turn's own last update, not in a later event: a
            # clear between the answer and a separate update could not then bring them back
            hidden = gr.Dataset(samples=[], visible=False)
            last = None
            for last in chat_stream(assistant, question, state, lang=lang):
                yield (*last, hidden)
            if last is not None:
                rows = related_questions(last[1])
                yield (*last, gr.Dataset(samples=rows, visible=bool(rows)))

        def stream_example(lang: Lang, sample: list[str], state: list[Turn]) -> Iterator[Any]:
            yield from with_related(lang, sample[0] if sample else "", state)

        io = {"outputs": [chatbot, turns, box, related], **CONCURRENCY, **PRIVATE}
        # a finished answer is brought into view by its first line (the warning or the verdict),
        # not by its last: the chat does not auto-scroll to the bottom
        for event in (gr.on([box.submit, send.click], in_page_language(with_related),
                            [box, turns], **io),
                      examples.click(in_page_language(stream_example), [examples, turns], **io),
                      related.click(in_page_language(stream_example), [related, turns], **io)):
            event.then(None, None, None, js=SCROLL_TO_ANSWER)
        # both the button and the chat's own trash icon forget the history used for follow-ups
        forget = {"fn": lambda: ([], [], gr.Dataset(samples=[], visible=False)),
                  "outputs": [chatbot, turns, related], **PRIVATE}
        clear.click(**forget)
        chatbot.clear(**forget)
        if recording:
            votes = gr.State({})  # answer id -> the vote given on it (for a later comment)

            def on_like(data: gr.LikeData, state: list[Turn], given: dict[str, int]
                        ) -> dict[str, int]:
                record_feedback(assistant, state, data.index, data.liked)
                answer_id = answer_id_at(state, data.index)
                if answer_id is None:
                    return given
                return {**given, answer_id: 1 if data.liked is True else -1}

            def on_comment(lang: Lang, text: str, state: list[Turn], given: dict[str, int]
                           ) -> str:
                if record_comment(assistant, state, given, text):
                    gr.Info(say(lang, "已收到，谢谢。", "Received, thank you."))
                return ""

            chatbot.like(on_like, [turns, votes], votes, **PRIVATE)
            gr.on([comment.submit, send_comment.click], in_page_language(on_comment),
                  [comment, turns, votes], comment, **PRIVATE)

    def shown_again(lang: Lang, state: list[Turn] | None) -> tuple[Any, ...]:
        # the conversation kept in the browser, and the 👎 reasons in the page's language
        history, kept, chips = restore(state)
        options = _feedback_options(lang) if recording else None
        return gr.Chatbot(value=history, feedback_options=options), kept, chips  # type: ignore[arg-type]

    return OnLoad(shown_again, [turns], [chatbot, turns, related])


def _feedback_options(lang: Lang) -> tuple[str, ...]:
    return ("Like", "Dislike", *FEEDBACK_OPTIONS[lang])


def build_ui(
    assistant: AssistantLike, extra_tabs: Sequence[Callable[[], None]] = ()
) -> gr.Blocks:
    """The whole page, handed the core object. Each ``extra_tabs`` callable builds one more tab
    (``with gr.Tab("评测 Evaluation"): ...``) inside the tabs. Pass ``CSS``, ``THEME`` and
    ``HEAD`` to launch."""
    with gr.Blocks(title="明白 Mingbai", analytics_enabled=False) as demo:
        with gr.Row(equal_height=False, elem_id="mb-header"):
            gr.Markdown(tr("# 明白 Mingbai\n花呗、借呗、芝麻信用、征信与闲鱼防骗：有来源的解答。"),
                        elem_id="mb-title")
            gr.Button(tr("English"), size="sm", elem_id="mb-lang", scale=0, min_width=72).click(
                None, None, None, js=SWITCH_LANGUAGE_JS)
        with gr.Tabs(elem_id="mb-tabs"):
            loads = [_chat_tab(assistant), build_whatif_tab(assistant),
                     build_knowledge_tab(assistant)]
            for build_tab in extra_tabs:
                build_tab()

        def ask(question: str) -> str:
            """Answer one question: the answer as Markdown with its numbered sources."""
            return ask_markdown(assistant, question)

        def what_if_api(profile: dict[str, Any], changes: dict[str, Any] | None = None
                        ) -> dict[str, Any]:
            """Educational limit estimate before/after changes, with reasons and the notice."""
            try:
                return compute_whatif(assistant, profile or {}, changes or {})
            except ValueError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        for load in loads:  # what each tab shows first, in the page's language
            demo.load(in_page_language(load.fn), list(load.inputs), list(load.outputs),
                      **PRIVATE)
        gr.api(ask, api_name="ask", **CONCURRENCY)
        gr.api(what_if_api, api_name="what_if")
    demo.queue(default_concurrency_limit=4)
    return demo
