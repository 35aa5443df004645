"""A LangChain retriever over the knowledge base: one ``Document`` per entry, best first, and
the same as a tool for agents (``knowledge_tool``; ``Assistant.langchain_tool()`` builds one).

>>> retriever = KnowledgeRetriever(search=search, k=3)  # doctest: +SKIP
>>> [d.metadata["id"] for d in retriever.invoke("花呗怎么提额")]  # doctest: +SKIP
['huabei-raise-limit', ...]
>>> knowledge_tool(search).invoke({"query": "花呗怎么提额"})  # doctest: +SKIP
'[huabei-raise-limit] 花呗怎么提额？...'
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.prompts import PromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool, create_retriever_tool
from pydantic import ConfigDict

from retrieval.search import KnowledgeSearch
from retrieval.text import detect_language


class KnowledgeRetriever(BaseRetriever):
    """Entries as Documents: the answer in the query's language, with id, title, score, sources."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    search: KnowledgeSearch
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        lang = detect_language(query)
        docs = []
        for hit in self.search.search(query, k=k).hits:
            entry = self.search.entries[hit.entry_id]
            docs.append(
                Document(
                    id=entry.id,
                    page_content=f"{entry.title(lang)}\n{entry.section(lang).text()}",
                    metadata={
                        "id": entry.id,
                        "title": entry.title(lang),
                        "score": hit.score,
                        "sources": list(entry.sources),
                        "reviewed": entry.reviewed.isoformat(),
                    },
                )
            )
        return docs


TOOL_NAME = "mingbai_knowledge"
TOOL_DESCRIPTION = (
    "Search Mingbai's curated, sourced knowledge base about Alipay's Huabei (花呗), Jiebei (借呗), "
    "Sesame Credit and credit scams. Input: a question in Chinese or English. Output: the closest "
    "entries, best first, each with its id, title, answer, sources and review date; cite them."
)
DOCUMENT_PROMPT = PromptTemplate.from_template(
    "[{id}] {page_content}\n(sources: {sources}; reviewed {reviewed})"
)


def knowledge_tool(search: KnowledgeSearch, k: int = 4) -> BaseTool:
    """The retriever as a LangChain tool: text for the model, the Documents as its artifact."""
    return create_retriever_tool(
        KnowledgeRetriever(search=search, k=k), TOOL_NAME, TOOL_DESCRIPTION,
        document_prompt=DOCUMENT_PROMPT, response_format="content_and_artifact",
    )  # fmt: skip
