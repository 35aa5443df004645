"""The 知识库 Knowledge tab: search the knowledge base, browse every entry, read one in full.

Handlers are module-level functions taking the knowledge source (the assistant), so tests drive
them with a fake.

>>> status, table = search_knowledge(assistant, "借呗")  # a status line, a table  # doctest: +SKIP
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from assistant.surface import Surface
from knowledge.entry import Entry
from ui.i18n import tr
from ui.render import CONCURRENCY, PRIVATE, safe_markdown, safe_text
from ui.whatif_tab import friendly_error

KnowledgeSource = Surface  # what the tab needs from the core (assistant.surface)


BROWSE_COLUMNS = ["id", "标题 Title", "Title (en)", "标签 Tags", "审核于 Reviewed"]
SEARCH_COLUMNS = ["id", "标题 Title", "结论 Verdict", "来源 Sources", "审核于 Reviewed"]


def browse_table(assistant: KnowledgeSource) -> pd.DataFrame:
    rows = [[e.id, e.title_zh, e.title_en, ", ".join(e.tags), e.reviewed.isoformat()]
            for e in assistant.knowledge_entries()]
    return pd.DataFrame(rows, columns=BROWSE_COLUMNS)


def search_knowledge(
    assistant: KnowledgeSource, query: str, k: int = 8
) -> tuple[str, pd.DataFrame]:
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
              if rows else "知识库里没有能回答这个的条目。 No entry answers this; try other "
                           "words, or browse all entries below.")
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


def view_entry(assistant: KnowledgeSource, entry_id: str | None) -> str:
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


def build_knowledge_tab(assistant: KnowledgeSource) -> None:
    """The tab, built inside the page's ``gr.Tabs``."""
    with gr.Tab(tr("知识库"), id="knowledge"):
        with gr.Row():
            query = gr.Textbox(placeholder=tr("搜索知识库"),
                               show_label=False, elem_id="mb-kb-query", scale=8)
            go = gr.Button(tr("搜索"), elem_id="mb-kb-search", scale=1, min_width=64)
        status = gr.Markdown(elem_id="mb-kb-status")
        results = gr.Dataframe(headers=SEARCH_COLUMNS, interactive=False, wrap=True,
                               elem_id="mb-kb-results", label=tr("搜索结果"),
                               column_widths=["18%", "20%", "34%", "18%", "10%"])
        entries = assistant.knowledge_entries()
        pick = gr.Dropdown([(f"{e.id} — {e.title_zh}", e.id) for e in entries], value=None,
                           label=tr("查看条目"), elem_id="mb-kb-pick")
        view = gr.Markdown(tr("选择一个条目。"), elem_id="mb-kb-entry")
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
        pick.change(show, pick, view, **PRIVATE).then(
            None, None, None, js="() => document.getElementById('mb-kb-entry')"
                                 "?.scrollIntoView({behavior: 'smooth', block: 'start'})")
