"""The 知识库 Knowledge tab: search the knowledge base, browse every entry, read one in full.

Handlers are module-level functions taking the knowledge source (the assistant) and the page's
language (``lang``: headers, titles and status lines in it), so tests drive them with a fake.

>>> status, table = search_knowledge(assistant, "借呗")  # a status line, a table  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from assistant.surface import Surface
from knowledge.entry import Entry
from ui.i18n import Lang, in_page_language, lang_of, say, tr
from ui.render import CONCURRENCY, PRIVATE, OnLoad, safe_markdown, safe_text
from ui.whatif_tab import friendly_error

KnowledgeSource = Surface  # what the tab needs from the core (assistant.surface)


BROWSE_COLUMNS = {"zh": ["id", "标题", "标签", "审核于"],
                  "en": ["id", "Title", "Tags", "Reviewed"]}
SEARCH_COLUMNS = {"zh": ["id", "标题", "结论", "来源", "审核于"],
                  "en": ["id", "Title", "Verdict", "Sources", "Reviewed"]}


def browse_table(assistant: KnowledgeSource, lang: str = "zh") -> pd.DataFrame:
    """Every entry: id, title in ``lang``, tags, reviewed date."""
    en = lang == "en"
    rows = [[e.id, e.title_en if en else e.title_zh, ", ".join(e.tags), e.reviewed.isoformat()]
            for e in assistant.knowledge_entries()]
    return pd.DataFrame(rows, columns=BROWSE_COLUMNS[lang_of(lang)])


def search_knowledge(
    assistant: KnowledgeSource, query: str, k: int = 8, lang: str = "zh"
) -> tuple[str, pd.DataFrame]:
    """(status line, results table) for a knowledge-base search; nothing for a query no entry
    answers (the answers' abstain rule)."""
    columns = SEARCH_COLUMNS[lang_of(lang)]
    query = (query or "").strip()
    if not query:
        return say(lang, "输入关键词搜索。", "Type words to search."), pd.DataFrame(columns=columns)
    try:
        hits = assistant.find_entries(query, k)
    except Exception as exc:  # the UI edge
        return friendly_error(exc, lang), pd.DataFrame(columns=columns)
    rows = [[c.doc_id, c.title, c.snippet, "；".join(c.sources), c.reviewed] for c in hits]
    n = len(rows)
    found = say(lang, f"找到 {n} 条，点一行查看全文。", f"{n} found: click a row to read it.")
    none = say(lang, "知识库里没有能回答这个的条目。换个说法，或在下面浏览全部条目。",
               "No entry answers this; try other words, or browse all entries below.")
    status = found if rows else none
    return status, pd.DataFrame(rows, columns=columns)


def entry_markdown(entry: Entry, lang: str = "zh") -> str:
    """One entry in full, in ``lang``, with its sources and reviewed date; the other language
    folded underneath."""
    def section(which: str) -> str:
        s = entry.zh if which == "zh" else entry.en
        points = "\n".join(f"- {safe_markdown(p)}" for p in s.points)
        return f"**{safe_markdown(s.verdict)}**\n\n{points}"

    first, other = ("en", "zh") if lang == "en" else ("zh", "en")
    title = entry.title_en if first == "en" else entry.title_zh
    sources = "\n".join(f"- {safe_markdown(s)}" for s in entry.sources)
    return "\n\n".join([
        f"## {safe_markdown(title)}",
        f"`{entry.id}` · {say(lang, '标签', 'tags')}: {safe_markdown(', '.join(entry.tags))} · "
        f"{say(lang, '审核于', 'reviewed')} {entry.reviewed.isoformat()}",
        section(first),
        f"### {say(lang, '来源', 'Sources')}\n\n{sources}",
        f"<details><summary>{'English' if other == 'en' else '中文'}</summary>\n\n"
        f"{section(other)}\n\n</details>",
    ])


def view_entry(assistant: KnowledgeSource, entry_id: str | None, lang: str = "zh") -> str:
    if not entry_id:
        return say(lang, "选择一个条目。", "Choose an entry.")
    for e in assistant.knowledge_entries():
        if e.id == entry_id:
            return entry_markdown(e, lang)
    return say(lang, "没有这个条目：", "No such entry: ") + safe_text(entry_id)


def selected_id(evt: gr.SelectData) -> str | None:
    """The entry id of a clicked table row (the id is the first column)."""
    row = evt.row_value
    return str(row[0]) if row else None


def _entry_choices(assistant: KnowledgeSource, lang: str) -> list[tuple[str, str]]:
    en = lang == "en"
    return [(f"{e.id} — {e.title_en if en else e.title_zh}", e.id)
            for e in assistant.knowledge_entries()]


def build_knowledge_tab(assistant: KnowledgeSource) -> OnLoad:
    """The tab, built inside the page's ``gr.Tabs``. Returns what the page runs on load: the
    tables and the entry list in the page's language."""
    entries = assistant.knowledge_entries()
    with gr.Tab(tr("知识库"), id="knowledge"):
        with gr.Row():
            query = gr.Textbox(placeholder=tr("搜索知识库"),
                               show_label=False, elem_id="mb-kb-query", scale=8)
            go = gr.Button(tr("搜索"), elem_id="mb-kb-search", scale=1, min_width=64)
        status = gr.Markdown(elem_id="mb-kb-status")
        results = gr.Dataframe(headers=SEARCH_COLUMNS["zh"], interactive=False, wrap=True,
                               elem_id="mb-kb-results", label=tr("搜索结果"),
                               column_widths=["18%", "20%", "34%", "18%", "10%"])
        pick = gr.Dropdown(_entry_choices(assistant, "zh"), value=None,
                           label=tr("查看条目"), elem_id="mb-kb-pick")
        view = gr.Markdown(tr("选择一个条目。"), elem_id="mb-kb-entry")
        with gr.Accordion(f"全部条目（{len(entries)}）", open=True) as every:
            table = gr.Dataframe(browse_table(assistant), interactive=False, wrap=True,
                                 elem_id="mb-kb-browse", max_height=420,
                                 column_widths=["34%", "38%", "18%", "10%"])

        def search(lang: Lang, q: str) -> tuple[str, pd.DataFrame]:
            return search_knowledge(assistant, q, lang=lang)

        def show(lang: Lang, entry_id: str | None) -> str:
            return view_entry(assistant, entry_id, lang)

        def localize(lang: Lang) -> tuple[Any, ...]:
            if lang == "zh":  # built in Chinese: nothing to send
                return (gr.skip(),) * 4
            n = len(entries)
            return (pd.DataFrame(columns=SEARCH_COLUMNS[lang_of(lang)]),
                    gr.Dropdown(choices=_entry_choices(assistant, lang)),
                    gr.Accordion(label=f"All entries ({n})"),
                    browse_table(assistant, lang))

        gr.on([query.submit, go.click], in_page_language(search), query, [status, results],
              **CONCURRENCY, **PRIVATE)
        results.select(selected_id, None, pick, **PRIVATE)
        table.select(selected_id, None, pick, **PRIVATE)
        pick.change(in_page_language(show), pick, view, **PRIVATE).then(
            None, None, None, js="() => document.getElementById('mb-kb-entry')"
                                 "?.scrollIntoView({behavior: 'smooth', block: 'start'})")
    return OnLoad(localize, [], [results, pick, every, table])
