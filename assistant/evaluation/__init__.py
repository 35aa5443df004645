"""Batch evaluation: a client of the public API it measures (``Surface.ask``), importing nothing
private of the assistant.

Modules: ``rows.py`` (evaluation files: JSONL, CSV, YAML, validated rows), ``run.py`` (checking
answers and summarising: ``evaluate``), ``metrics.py`` (hit@k, MRR, nDCG via trec_eval),
``targets.py`` (the targets file ``make test`` gates on), ``report.py`` and ``plots.py`` (the HTML
report), ``pairs.py`` (real question pairs: same / apart / balanced), ``cli.py`` (``mingbai eval``).

>>> from assistant.evaluation import evaluate, load_rows  # doctest: +SKIP
>>> rows = load_rows("knowledge/eval/faq.jsonl").rows  # doctest: +SKIP
>>> evaluate(Assistant(), rows).summary["mrr"]  # doctest: +SKIP
"""

from assistant.evaluation.run import (
    FAILURE_BUCKETS,
    FORMATS,
    HIGHER_IS_BETTER,
    K_MAX,
    KNOWN_COLUMNS,
    LIST_COLUMNS,
    LOWER_IS_BETTER,
    METRICS,
    Asker,
    BadRow,
    Check,
    EvalFileError,
    EvalRow,
    EvalRun,
    LoadedRows,
    Records,
    RowResult,
    check_row,
    evaluate,
    load_rows,
    percentile,
    recall_at_k,
    retrieval_metrics,
    summarize,
)

__all__ = [
    "FAILURE_BUCKETS", "FORMATS", "HIGHER_IS_BETTER", "KNOWN_COLUMNS", "K_MAX", "LIST_COLUMNS",
    "LOWER_IS_BETTER", "METRICS", "Asker", "BadRow", "Check", "EvalFileError", "EvalRow",
    "EvalRun", "LoadedRows", "Records", "RowResult", "check_row", "evaluate", "load_rows",
    "percentile", "recall_at_k", "retrieval_metrics", "summarize",
]  # fmt: skip
