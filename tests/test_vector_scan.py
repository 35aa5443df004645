"""retrieval.vector_scan: exact cosine ranking, deterministic ties, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.vector_scan import VectorScan


def brute_force(ids: list[str], matrix: np.ndarray, query: np.ndarray, n: int) -> list[str]:
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    sims = unit @ (query / np.linalg.norm(query))
    return [ids[i] for i in sorted(range(len(ids)), key=lambda i: (-sims[i], ids[i]))[:n]]


def test_ranking_is_exact_on_random_vectors() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.normal(size=(2000, 64))
    ids = [f"e{i:04d}#{i % 3}" for i in range(2000)]
    queries = rng.normal(size=(25, 64))
    scan = VectorScan(ids, matrix)
    for query, row in zip(queries, scan.nearest(queries, 40), strict=True):
        assert [i for i, _ in row] == brute_force(ids, matrix, query, 40)
        sims = [s for _, s in row]
        assert sims == sorted(sims, reverse=True)
        assert -1.0 <= sims[-1] <= sims[0] <= 1.0


def test_similarity_is_cosine_whatever_the_vector_lengths() -> None:
    scan = VectorScan(["a", "b"], [[3.0, 0.0], [1.0, 1.0]])
    (row,) = scan.nearest([[10.0, 0.0]], 2)
    assert row[0] == ("a", pytest.approx(1.0))
    assert row[1] == ("b", pytest.approx(2**-0.5))


def test_ties_are_broken_by_id_not_by_insertion_order() -> None:
    vectors = [[1.0, 0.0]] * 5 + [[0.0, 1.0]]
    forward = VectorScan(["d", "b", "e", "a", "c", "z"], vectors)
    backward = VectorScan(["c", "a", "e", "b", "d", "z"], vectors)
    assert [i for i, _ in forward.nearest([[1.0, 0.0]], 3)[0]] == ["a", "b", "c"]
    assert forward.nearest([[1.0, 0.0]], 3) == backward.nearest([[1.0, 0.0]], 3)


def test_batching_does_not_change_a_query_result() -> None:
    """Bit for bit: a plain matrix product of another shape sums in another order."""
    rng = np.random.default_rng(3)
    scan = VectorScan([f"c{i}" for i in range(1500)], rng.normal(size=(1500, 384)))
    queries = rng.normal(size=(40, 384))
    alone = [scan.nearest([q], 10)[0] for q in queries]
    for size in (2, 15, 16, 17, 40):
        picked = rng.choice(len(queries), size=size, replace=False)
        together = scan.nearest(queries[picked], 10)
        assert together == [alone[i] for i in picked], size


def test_small_and_empty_snapshots() -> None:
    scan = VectorScan(["a", "b"], [[1.0, 0.0], [0.0, 1.0]])
    assert len(scan.nearest([[1.0, 1.0]], 10)[0]) == 2
    assert scan.nearest([], 5) == []
    empty = VectorScan([], [])
    assert len(empty) == 0
    assert empty.nearest([[1.0, 0.0]], 5) == [[]]


def test_zero_vectors_do_not_divide_by_zero() -> None:
    scan = VectorScan(["a", "b"], [[0.0, 0.0], [1.0, 0.0]])
    ((first, sim), _) = scan.nearest([[1.0, 0.0]], 2)[0]
    assert (first, sim) == ("b", pytest.approx(1.0))
    assert scan.nearest([[0.0, 0.0]], 1)[0][0][1] == 0.0


def test_mismatched_shapes_are_refused_with_the_likely_cause() -> None:
    with pytest.raises(ValueError, match="3 ids"):
        VectorScan(["a", "b", "c"], [[1.0, 0.0]])
    scan = VectorScan(["a"], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="another model"):
        scan.nearest([[1.0, 0.0, 0.0]], 1)
