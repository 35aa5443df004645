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


@pytest.mark.parametrize("entry_id", ["jiebei-lenders", "scam-safe-account", "about-mingbai"])
def test_listed_questions_rank_their_entry_first(bot, entry_id: str) -> None:  # type: ignore[no-untyped-def]
    entry = bot.components.entries[entry_id]
    for question in (*entry.questions_zh[:3], *entry.questions_en[:2]):
        hit = bot.components.search.search(question).hits[0]
        assert hit.entry_id == entry_id, question
        assert hit.dense > 0.93  # query vs passage prefixes: never exactly 1


def test_signals_are_reported(bot) -> None:  # type: ignore[no-untyped-def]
    search = bot.components.search
    hit = search.search("花呗分期手续费怎么算").hits[0]
    weight = search.config.lexical_weight
    assert weight > 0 and hit.lexical > 0
    assert hit.score == pytest.approx(hit.dense + weight * hit.lexical)


def test_unknown_words_are_reported(bot) -> None:  # type: ignore[no-untyped-def]
    assert bot.components.search.search("支付宝怎么交停车费").unknown_words == ["停车费"]


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


def test_the_knowledge_tool_gives_entries_with_their_sources(bot) -> None:  # type: ignore[no-untyped-def]
    tool = bot.langchain_tool(k=2)
    assert tool.name == "mingbai_knowledge" and "Huabei" in tool.description
    msg = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name,
                       "args": {"query": "借呗可以提前还款吗"}})  # fmt: skip
    docs = msg.artifact
    assert len(docs) == 2 and msg.content.startswith(f"[{docs[0].metadata['id']}] ")
    assert "sources:" in msg.content and docs[0].metadata["id"].startswith("jiebei-")
