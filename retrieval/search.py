"""Entry-level search: dense similarity first, optional lexical and exact-question signals.

Chunks come back from the store; they are folded into entries (an entry scores its best chunk), so
callers get entries, best first, with the signals that ranked them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.entry import Entry
from retrieval.lexical import (
    BM25Index,
    QuestionIndex,
    Vocabulary,
    tokenize_entries,
    word_counts,
)
from retrieval.points import PointRanker
from retrieval.prepared import Text, prepare
from retrieval.store import ChunkHit, ChunkStore


@dataclass(frozen=True)
class SearchConfig:
    """How signals are combined. The defaults are the ones the evaluation chose
    (docs/benchmarks.md, "Retrieval signals")."""

    n_chunks: int = 40
    lexical_weight: float = 0.0  # 0 switches BM25 off
    exact_match: bool = True  # a query equal to a listed question ranks that entry first
    exact_bonus: float = 0.05


@dataclass(frozen=True)
class EntryHit:
    entry_id: str
    score: float  # the ranking score (dense similarity plus any enabled signal)
    dense: float  # best chunk cosine similarity
    lexical: float = 0.0  # BM25 scaled to [0, 1]
    exact: bool = False


@dataclass
class SearchResult:
    hits: list[EntryHit]
    timings: dict[str, float] = field(default_factory=dict)
    unknown_words: list[str] = field(default_factory=list)  # query words the KB never uses

    @property
    def top(self) -> EntryHit | None:
        return self.hits[0] if self.hits else None


class KnowledgeSearch:
    """Search over the indexed entries of one knowledge base."""

    def __init__(
        self,
        store: ChunkStore,
        entries: Sequence[Entry],
        config: SearchConfig | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.config = config or SearchConfig()
        self.entries = {e.id: e for e in entries}
        self.questions = QuestionIndex(entries) if self.config.exact_match else None
        tokens = tokenize_entries(entries, cache_dir)
        self.bm25 = BM25Index(tokens) if self.config.lexical_weight > 0 else None
        counts = word_counts(tokens)
        self.vocabulary = Vocabulary(counts)
        self.points = PointRanker(counts)  # which bullet of an answer says what was asked

    def embed(self, query: Text) -> list[float]:
        return self.store.embedder.embed_query(prepare(query).norm)

    def embed_many(self, queries: Sequence[Text]) -> list[list[float]]:
        """Query vectors in one batch when the embedder supports it (one by one otherwise)."""
        texts = [prepare(q).norm for q in queries]
        batch = getattr(self.store.embedder, "embed_queries", None)
        if batch is not None and len(texts) > 1:
            return list(batch(texts))
        return [self.store.embedder.embed_query(t) for t in texts]

    def search(
        self, query: Text, k: int = 5, vector: Sequence[float] | None = None
    ) -> SearchResult:
        query = prepare(query)
        t0 = time.perf_counter()
        if vector is None:
            vector = self.embed(query)
        embed_ms = (time.perf_counter() - t0) * 1000
        result = self.search_many([query], [vector], k)[0]
        result.timings["embed_ms"] = embed_ms
        return result

    def search_many(
        self, queries: Sequence[Text], vectors: Sequence[Sequence[float]], k: int = 5
    ) -> list[SearchResult]:
        """Search many embedded queries with one store call (``vectors[i]`` is ``queries[i]``'s)."""
        if len(queries) != len(vectors):
            raise ValueError(f"{len(queries)} queries but {len(vectors)} vectors")
        t0 = time.perf_counter()
        chunk_hits = self.store.query_many(vectors, self.config.n_chunks)
        store_ms = (time.perf_counter() - t0) * 1000 / max(1, len(queries))
        results = []
        for text, hits in zip(queries, chunk_hits, strict=True):
            query = prepare(text)
            t1 = time.perf_counter()
            ranked = self.rank(query, hits)[:k]
            unknown = self.vocabulary.unknown(query)
            rank_ms = (time.perf_counter() - t1) * 1000
            results.append(
                SearchResult(ranked, {"store_ms": store_ms, "rank_ms": rank_ms}, unknown)
            )
        return results

    def rank(self, query: Text, chunk_hits: Sequence[ChunkHit]) -> list[EntryHit]:
        query = prepare(query)
        dense: dict[str, float] = {}
        for hit in chunk_hits:
            if hit.entry_id in self.entries and hit.similarity > dense.get(hit.entry_id, -1.0):
                dense[hit.entry_id] = hit.similarity
        lexical = self.bm25.scores(query) if self.bm25 is not None else {}
        exact_id = self.questions.lookup(query) if self.questions is not None else None
        w = self.config.lexical_weight
        candidates = set(dense) | {i for i in lexical if i in self.entries}
        hits = [
            EntryHit(
                i,
                dense.get(i, 0.0) + w * lexical.get(i, 0.0),
                dense.get(i, 0.0),
                lexical.get(i, 0.0),
                i == exact_id,
            )
            for i in candidates
        ]
        if exact_id is not None and exact_id in self.entries:
            best = max((h.score for h in hits), default=0.0)
            hits = [
                EntryHit(
                    h.entry_id,
                    max(h.score, best + self.config.exact_bonus),
                    h.dense,
                    h.lexical,
                    True,
                )
                if h.exact
                else h
                for h in hits
            ]
            if exact_id not in candidates:
                hits.append(EntryHit(exact_id, best + self.config.exact_bonus, 0.0, 0.0, True))
        hits.sort(key=lambda h: (-h.score, h.entry_id))
        return hits
