"""Retrieval metrics from ranks: hit@k, MRR, nDCG@10 and recall@k, one relevant entry per query.

trec_eval (through pytrec_eval) computes them when installed; our own code gives the same numbers
without it (``library=False`` forces ours, so tests check both).

>>> retrieval_metrics([1, 2, None])["mrr"]
0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence

K_MAX = 10  # hit@k and recall@k for k = 1..K_MAX


def _measures_own(rank: int | None) -> dict[str, float]:
    """The trec_eval measures for one query whose one relevant document sits at ``rank``."""
    out = {f"success_{k}": float(rank is not None and rank <= k) for k in range(1, K_MAX + 1)}
    out["recip_rank"] = 1 / rank if rank else 0.0
    out["ndcg_cut_10"] = 1 / math.log2(rank + 1) if rank and rank <= 10 else 0.0
    return out


def _measures(ranks: Sequence[int | None], library: bool) -> list[dict[str, float]]:
    """Per-query measures from trec_eval (pytrec_eval) when installed, else from our own code.

    Each query becomes a ranking with one relevant document at its rank: an expected id is
    "any of these", so only the best-ranked one counts (trec_eval would want all of them).
    """
    try:
        if not library:
            raise ImportError
        import pytrec_eval
    except ImportError:
        return [_measures_own(r) for r in ranks]
    qrels = {f"q{i}": {"rel": 1} for i in range(len(ranks))}
    run: dict[str, dict[str, float]] = {}
    for i, rank in enumerate(ranks):
        depth = max(K_MAX, rank or 0)
        docs = {f"d{j}": float(depth - j) for j in range(1, depth + 1)}  # distinct: no ties
        if rank is not None:
            docs["rel"] = docs.pop(f"d{rank}")
        run[f"q{i}"] = docs
    cutoffs = ",".join(str(k) for k in range(1, K_MAX + 1))
    evaluator = pytrec_eval.RelevanceEvaluator(
        qrels, {"recip_rank", "ndcg_cut.10", f"success.{cutoffs}"}
    )
    scores = evaluator.evaluate(run)
    return [scores[f"q{i}"] for i in range(len(ranks))]


def _mean(per_query: list[dict[str, float]], key: str) -> float | None:
    return round(sum(m[key] for m in per_query) / len(per_query), 4) if per_query else None


def retrieval_metrics(
    ranks: Sequence[int | None], *, library: bool = True
) -> dict[str, float | None]:
    """hit@1, hit@3, MRR and nDCG@10 for one relevant document per query (rank None = missed).

    >>> retrieval_metrics([1, 2, None])["mrr"]
    0.5
    """
    per_query = _measures(ranks, library)
    return {
        "hit_at_1": _mean(per_query, "success_1"),
        "hit_at_3": _mean(per_query, "success_3"),
        "mrr": _mean(per_query, "recip_rank"),
        "ndcg_at_10": _mean(per_query, "ndcg_cut_10"),
    }


def recall_at_k(ranks: Sequence[int | None], *, library: bool = True) -> dict[str, float | None]:
    """Share of queries whose expected document is in the top k, for k = 1..10.

    >>> recall_at_k([1, 3, None])["3"]
    0.6667
    """
    per_query = _measures(ranks, library)
    return {str(k): _mean(per_query, f"success_{k}") for k in range(1, K_MAX + 1)}
