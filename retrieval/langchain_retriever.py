"""A LangChain retriever over the knowledge base: one ``Document`` per entry, best first.

>>> retriever = KnowledgeRetriever(search=search, k=3)  # doctest: +SKIP
>>> [d.metadata["id"] for d in retriever.invoke("花呗怎么提额")]  # doctest: +SKIP
['huabei-raise-limit', ...]
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
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
