"""retrieval.search and the LangChain retriever over the real index."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from retrieval.langchain_retriever import KnowledgeRetriever

pytestmark = pytest.mark.slow


def test_entries_not_chunks_best_first(bot) -> None:  # type: ignore[no-untyped-def]
    result = bot.components.search.search("花呗怎么提额", k=5)
    ids = [h.entry_id for h in result.hits]
    assert len(ids) == len(set(ids)) == 5
    assert ids[0] == "huabei-raise-limit"
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)


def test_exact_listed_question_ranks_first(bot) -> None:  # type: ignore[no-untyped-def]
    entry = bot.components.entries["jiebei-lenders"]
    hit = bot.components.search.search(entry.questions_zh[1]).hits[0]
    assert hit.entry_id == "jiebei-lenders" and hit.exact


def test_unknown_words_are_reported(bot) -> None:  # type: ignore[no-untyped-def]
    assert bot.components.search.search("支付宝怎么交电费").unknown_words == ["电费"]


class TestKnowledgeRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _search(self, bot) -> None:  # type: ignore[no-untyped-def]
        type(self)._search_obj = bot.components.search

    @property
    def retriever_constructor(self) -> type[KnowledgeRetriever]:
        return KnowledgeRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, object]:
        return {"search": type(self)._search_obj}

    @property
    def retriever_query_example(self) -> str:
        return "借呗逾期有什么后果"
