"""Exact nearest-neighbour search over an in-memory copy of the store's vectors, in fixed point.

Chroma's HNSW index is approximate: on our ~1,500 chunks it returned a different top-40 for 7% of
the ranks on the evaluation set, and missed the best chunk outright for "12315和12378有什么区别"
(0.876 instead of 0.895), which flipped that answer to "I don't know". At this size a full scan is
one small matrix product, so we scan: Chroma stays the system of record (persistence, the
manifest, a shared server), and the ranking is exact.

Exact also means *the same everywhere*. A float32 matrix product is not: OpenBLAS picks its kernel
by CPU (Haswell, SkylakeX, Zen, Neoverse...) and a kernel sums a row in an order that depends on
the row's position inside its block, so the same question could score two near-tied chunks in
another order depending on the machine, the thread count, or which questions shared its batch.
So the scan works on integers: every unit vector is scaled by ``2**SCALE_BITS`` and rounded,
and stored as float64. Each product is then an integer below ``2**48``, and by Cauchy-Schwarz the
absolute sum of a row's products stays below ``2**49`` — well inside float64's 53-bit exact range
— so every partial sum is exact and the order of summation cannot change a single bit. The unit
vectors themselves are made with exactly rounded arithmetic (``math.fsum``, IEEE square root and
division), so the integers are a pure function of the stored float32 values.

>>> scan = VectorScan(["a", "b", "c"], [[3.0, 4.0], [2.0, 0.0], [0.0, 5.0]])
>>> [(i, round(s, 6)) for i, s in scan.nearest([[1.0, 0.0]], 3)[0]]
[('b', 1.0), ('a', 0.6), ('c', 0.0)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

SCALE_BITS = 24  # unit vectors on a grid of 2**-24: products below 2**48, sums below 2**49
_SCALE = float(2**SCALE_BITS)
_PRODUCT_SCALE = float(2 ** (2 * SCALE_BITS))


def fixed_point(vectors: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, times ``2**SCALE_BITS``, rounded (float64 holding integers).

    All-zero rows stay zero. Deterministic on every machine: the norm is an exactly rounded sum.

    >>> fixed_point([[3.0, 4.0]]).tolist()
    [[10066330.0, 13421773.0]]
    """
    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {matrix.shape}")
    # Squares of float32 (or of any float64 with <= 26 significant bits) are exact; fsum adds them
    # with one rounding; sqrt and the division are IEEE-exact operations.
    norms = np.array([math.sqrt(math.fsum((row * row).tolist())) for row in matrix])
    norms = np.where(norms == 0, 1.0, norms)[:, None]
    return np.rint(matrix / norms * _SCALE)


class VectorScan:
    """An immutable snapshot: chunk ids and their vectors, on the fixed-point grid."""

    def __init__(self, ids: Sequence[str], vectors: Sequence[Sequence[float]] | np.ndarray) -> None:
        self.ids: tuple[str, ...] = tuple(ids)
        if not self.ids:
            self.matrix = np.zeros((0, 0), dtype=np.float64)
            return
        matrix = np.asarray(vectors, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[0] != len(self.ids):
            raise ValueError(f"{len(self.ids)} ids but vectors of shape {matrix.shape}")
        self.matrix = np.ascontiguousarray(fixed_point(matrix).T)  # (dims, chunks)

    @classmethod
    def from_grid(cls, ids: Sequence[str], matrix: np.ndarray) -> VectorScan:
        """A snapshot from vectors already on the grid, ``(dims, chunks)`` as :attr:`matrix`
        holds them (what :meth:`grid` gave; a saved snapshot read back)."""
        scan = cls([], [])
        scan.ids = tuple(ids)
        if scan.ids:
            grid = np.ascontiguousarray(matrix, dtype=np.float64)
            if grid.ndim != 2 or grid.shape[1] != len(scan.ids):
                raise ValueError(f"{len(scan.ids)} ids but a grid of shape {grid.shape}")
            scan.matrix = grid
        return scan

    def grid(self) -> np.ndarray:
        """The vectors on the grid as int32 ``(dims, chunks)``: exact (every value is an integer
        of at most 2**24 in magnitude), half the bytes of the float64 copy."""
        return self.matrix.astype(np.int32)

    def __len__(self) -> int:
        return len(self.ids)

    def nearest(
        self, queries: Sequence[Sequence[float]] | np.ndarray, n: int
    ) -> list[list[tuple[str, float]]]:
        """The ``n`` most cosine-similar chunks of each query, best first.

        Ties (exact, on the integer grid) are broken by chunk id, so the order never depends on
        insertion order, batching or the machine.
        """
        if len(queries) == 0:
            return []
        if not self.ids or n <= 0:
            return [[] for _ in range(len(queries))]
        q = np.asarray(queries, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != self.matrix.shape[0]:
            raise ValueError(
                f"query vectors of shape {q.shape} do not match the index's "
                f"{self.matrix.shape[0]} dimensions; was the index built with another model?"
            )
        with _blas().limit(limits=1, user_api="blas"):
            sims = fixed_point(q) @ self.matrix  # exact integers (see the module docstring)
        n = min(n, len(self.ids))
        order = np.arange(len(self.ids))
        out = []
        for row in sims:
            if n < len(self.ids):
                # Everything at or above the n-th best similarity, so ties at the cut are kept
                # for the id-based tie-break below.
                cut = np.partition(row, len(row) - n)[len(row) - n]
                pick = order[row >= cut]
            else:
                pick = order
            ranked = sorted(pick.tolist(), key=lambda i: (-row[i], self.ids[i]))[:n]
            out.append([(self.ids[i], float(row[i]) / _PRODUCT_SCALE) for i in ranked])
        return out


@lru_cache(maxsize=1)
def _blas() -> Any:
    """The process's BLAS thread pools (found once: looking them up takes milliseconds).

    One thread: OpenBLAS's workers spin after each small product and took a core from ONNX
    Runtime under load (20 clients: 128 -> 100 req/s). The result does not depend on it.
    """
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
