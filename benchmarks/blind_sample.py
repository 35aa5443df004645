"""Draw a fixed sample of real questions and write the answers for a blind reading.

    python -m benchmarks.blind_sample PAIRS.jsonl --out FILE.md [--seed 11] [--n 160]

The procedure is ../shared/JUDGING.md: a seeded sample of distinct questions from a file of pairs
(``sentence1``/``sentence2``), each answered through the public Python API, written as a numbered
Markdown file (the question, then the whole answer a user would see) for a reader who has not seen
the knowledge base. Write FILE outside the repository: the questions are real users'.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from assistant.evaluation.pairs import read_pair_questions


def sample(questions: list[str], n: int, seed: int) -> list[str]:
    """``n`` distinct questions, the same ones for the same file, ``n`` and ``seed``."""
    pool = sorted(set(questions))
    return random.Random(seed).sample(pool, min(n, len(pool)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--n", type=int, default=160)
    args = ap.parse_args(argv)
    if not args.pairs.is_file():
        print(f"skipped: {args.pairs} does not exist", file=sys.stderr)
        return 0
    from assistant import Assistant

    picked = sample(read_pair_questions(args.pairs), args.n, args.seed)
    answers = Assistant().ask_many(picked)
    lines = [f"# {len(picked)} real questions (seed {args.seed}) and the assistant's answers", ""]
    for i, (q, a) in enumerate(zip(picked, answers, strict=True), 1):
        lines += [f"## {i}", "", f"**Question:** {q}", "", "**Answer:**", "", a.text, "", "---", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(picked)} answers -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
