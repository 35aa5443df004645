"""Check that no sentence of a real-question corpus was copied into the repository.

    python -m benchmarks.no_copies PAIRS.jsonl [--max-similarity 0.8]

Compares every question and title of the knowledge entries and every question of the evaluation
sets with every real question of PAIRS.jsonl (``sentence1``/``sentence2``). Texts are compared
without punctuation, spaces and the corpus's ``***`` masks; a pair is a copy when the texts are
equal, or when their character-bigram Dice similarity reaches ``--max-similarity`` (for texts of
10 characters or more: "花呗怎么还款" is how anyone says it, not a copy of someone's sentence).
Prints each copy with where it is and exits 1 if there is any; exits 0, saying
it skipped, when PAIRS.jsonl does not exist.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_FUZZY_CHARS = 10  # shorter texts count as copies only when equal: short questions coincide
_STRIP = re.compile(r"[\s\W_]+|\*+", re.UNICODE)


def key(text: str) -> str:
    """The form texts are compared in.

    >>> key("花呗，怎么 还款？***")
    '花呗怎么还款'
    """
    return _STRIP.sub("", text).lower()


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def ours() -> Iterator[tuple[str, str]]:
    """(where, text) for every question-like text the repository holds."""
    import yaml

    for path in sorted((ROOT / "knowledge" / "entries").rglob("*.md")):
        front = path.read_text(encoding="utf-8").split("---")[1]
        meta = yaml.safe_load(front) or {}
        for field in ("title_zh", "questions_zh"):
            values = meta.get(field) or []
            for text in [values] if isinstance(values, str) else values:
                yield f"{path.relative_to(ROOT)} ({field})", str(text)
    for path in sorted((ROOT / "knowledge" / "eval").glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                yield f"{path.relative_to(ROOT)}:{n}", str(row.get("question", ""))
                for turn in row.get("history") or []:
                    if turn.get("role") == "user":
                        yield f"{path.relative_to(ROOT)}:{n} (history)", str(turn["content"])


def copies(
    real: Iterable[str], candidates: Iterable[tuple[str, str]], max_similarity: float
) -> list[tuple[str, str, str, float]]:
    """(where, our text, the real text, similarity) for every candidate too close to a real one."""
    real_keys = sorted({key(r): r for r in real if key(r)}.items())
    exact = dict(real_keys)
    grams = [bigrams(k) for k, _ in real_keys]
    postings: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(grams):
        for b in g:
            postings[b].append(i)
    found = []
    for where, text in candidates:
        k = key(text)
        if not k:
            continue
        if k in exact:
            found.append((where, text, exact[k], 1.0))
            continue
        if len(k) < MIN_FUZZY_CHARS:
            continue
        mine = bigrams(k)
        shared = Counter(i for b in mine for i in postings.get(b, ()))
        for i, n in shared.most_common(5):
            dice = 2 * n / (len(mine) + len(grams[i]))
            if dice >= max_similarity:
                found.append((where, text, real_keys[i][1], round(dice, 3)))
                break
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", type=Path)
    ap.add_argument("--max-similarity", type=float, default=0.85)
    args = ap.parse_args(argv)
    if not args.pairs.is_file():
        print(f"skipped: {args.pairs} does not exist", file=sys.stderr)
        return 0
    real = []
    for line in args.pairs.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            real += [row["sentence1"], row["sentence2"]]
    found = copies(real, ours(), args.max_similarity)
    for where, text, source, sim in found:
        print(f"{where}: {text!r} is too close to a real question ({sim}): {source!r}")
    print(f"{len(found)} copies found", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
