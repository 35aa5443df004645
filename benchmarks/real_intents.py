"""Group real customer questions by meaning, to find the intents the knowledge base must cover.

    python -m benchmarks.real_intents PAIRS.jsonl --out DIR [--threshold 0.12]

PAIRS.jsonl holds question pairs (``sentence1``/``sentence2``, as the AFQMC corpus does); every
distinct question is embedded with the bundled e5 model and grouped by agglomerative clustering
(scikit-learn, average linkage over cosine distance, cut at ``--threshold``). DIR gets
``clusters.md`` (largest group first, every member listed, with the entry the assistant answers
from today) for a person to read, and ``clusters.jsonl`` for scripts. Nothing is written into the
repository: the questions are real users' and stay outside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from assistant.evaluation.pairs import read_pair_questions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--threshold", type=float, default=0.12, help="cosine distance cut")
    args = ap.parse_args(argv)
    if not args.pairs.is_file():
        print(f"skipped: {args.pairs} does not exist", file=sys.stderr)
        return 0
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering

    from assistant import Assistant

    questions = read_pair_questions(args.pairs)
    bot = Assistant()
    vectors = np.asarray(bot.components.search.embed_many(questions), dtype=np.float64)
    answers = bot.ask_many(questions)
    labels = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=args.threshold,
    ).fit_predict(vectors)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        groups[int(label)].append(i)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), questions[g[0]]))
    args.out.mkdir(parents=True, exist_ok=True)
    head = f"# {len(questions)} questions, {len(ordered)} groups (threshold {args.threshold})"
    lines = [head, ""]
    with (args.out / "clusters.jsonl").open("w", encoding="utf-8") as out:
        for n, members in enumerate(ordered, 1):
            tops = Counter(
                answers[i].citations[0].doc_id if answers[i].citations else "(abstain)"
                for i in members
            )
            top3 = dict(tops.most_common(3))
            lines.append(f"## {n}. {len(members)} questions; answered from {top3}")
            for i in members:
                top = answers[i].citations[0].doc_id if answers[i].citations else "(abstain)"
                lines.append(f"- {questions[i]}  → {top}")
            lines.append("")
            out.write(json.dumps(
                {"group": n, "size": len(members), "questions": [questions[i] for i in members]},
                ensure_ascii=False,
            ) + "\n")
    (args.out / "clusters.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(questions)} questions in {len(ordered)} groups -> {args.out}/clusters.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
