"""Exact nearest-neighbour search over an in-memory copy of the store's vectors.

Chroma's HNSW index is approximate: on our ~1,500 chunks it returned a different top-40 for 7% of
the ranks on the evaluation set, and missed the best chunk outright for "12315和12378有什么区别"
(0.876 instead of 0.895), which flipped that answer to "I don't know" — and the miss depended on how
the graph happened to be built, so an embedded store and a Chroma server disagreed. At this size a
full scan is one small matrix product (well under a millisecond for a batch of 16), so we scan:
Chroma stays the system of record (persistence, the manifest, a shared server), and the ranking is
exact and the same on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class VectorScan:
    """An immutable snapshot: chunk ids and their unit-length vectors (float64)."""

    def __init__(self, ids: Sequence[str], vectors: Sequence[Sequence[float]] | np.ndarray) -> None:
        matrix = np.asarray(vectors, dtype=np.float64)
        if len(ids) == 0:
            matrix = matrix.reshape(0, 0)
        elif matrix.ndim != 2 or matrix.shape[0] != len(ids):
            raise ValueError(f"{len(ids)} ids but vectors of shape {matrix.shape}")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True) if len(ids) else matrix
        self.ids: tuple[str, ...] = tuple(ids)
        self.matrix = matrix / np.where(norms == 0, 1.0, norms) if len(ids) else matrix

    def __len__(self) -> int:
        return len(self.ids)

    def nearest(
        self, queries: Sequence[Sequence[float]] | np.ndarray, n: int
    ) -> list[list[tuple[str, float]]]:
        """The ``n`` most cosine-similar chunks of each query, best first.

        Ties are broken by chunk id, so the order never depends on insertion order or batching.
        """
        if len(queries) == 0:
            return []
        if not self.ids or n <= 0:
            return [[] for _ in range(len(queries))]
        q = np.asarray(queries, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != self.matrix.shape[1]:
            raise ValueError(
                f"query vectors of shape {q.shape} do not match the index's "
                f"{self.matrix.shape[1]} dimensions; was the index built with another model?"
            )
        q = q / np.where((norms := np.linalg.norm(q, axis=1, keepdims=True)) == 0, 1.0, norms)
        n = min(n, len(self.ids))
        order = np.arange(len(self.ids))
        out = []
        for query in q:
            # One matrix-vector product per query, not one matrix product per batch: BLAS sums a
            # batch in another order, so a question's scores would depend (in the last bit) on
            # which other questions shared its batch.
            row = self.matrix @ query
            if n < len(self.ids):
                # Everything at or above the n-th best similarity, so ties at the cut are kept
                # for the id-based tie-break below.
                cut = np.partition(row, len(row) - n)[len(row) - n]
                pick = order[row >= cut]
            else:
                pick = order
            ranked = sorted(pick.tolist(), key=lambda i: (-row[i], self.ids[i]))[:n]
            out.append([(self.ids[i], float(row[i])) for i in ranked])
        return out
