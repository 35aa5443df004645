"""Coverage of real questions by the knowledge base, from an annotated sample.

    python -m benchmarks.coverage LABELS.jsonl [LABELS.jsonl ...] --out docs/coverage.md

Each LABELS line is ``{"q": question, "id": entry id or "none", "alt": entry id or ""}``: an
annotator's reading of which entry should answer a real question (kept outside the repository,
with the questions). The script asks the assistant every question and writes, per folder and
entry, the share of the sample that belongs to it and how often the assistant answers from it
(``id`` or ``alt``) — counts only, never a question — between the ``coverage:begin/end`` markers
of ``--out`` (or as the whole file when it has none).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labels", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    rows = []
    for path in args.labels:
        if not path.is_file():
            print(f"skipped: {path} does not exist", file=sys.stderr)
            return 0
        rows += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    from assistant import Assistant

    bot = Assistant()
    entries = bot.components.entries
    answers = []
    for i in range(0, len(rows), 64):
        answers += bot.ask_many([r["q"] for r in rows[i : i + 64]])
    share: Counter[str] = Counter()
    right: Counter[str] = Counter()
    folders: dict[str, list[str]] = defaultdict(list)
    none = sum(r["id"] == "none" for r in rows)
    for r, a in zip(rows, answers, strict=True):
        if r["id"] == "none":
            continue
        share[r["id"]] += 1
        got = a.citations[0].doc_id if a.citations and not a.abstained else None
        right[r["id"]] += got in {r["id"], r.get("alt") or r["id"]}
    for entry_id in share:
        path = entries[entry_id].path
        folder = str(path.parent.relative_to(path.parents[2])) if path else "?"
        folders[folder].append(entry_id)
    n = len(rows)
    lines = [
        f"Sample: {n} real questions; {n - none} ({(n - none) / n:.1%}) belong to an entry, "
        f"{none} ({none / n:.1%}) to none. Answered from the right entry: "
        f"{sum(right.values())} of {n - none} ({sum(right.values()) / max(1, n - none):.1%}).",
        "",
        "| folder | share of the sample | answered from the right entry | entries used |",
        "| --- | --- | --- | --- |",
    ]
    for folder, ids in sorted(folders.items(), key=lambda kv: -sum(share[i] for i in kv[1])):
        total = sum(share[i] for i in ids)
        ok = sum(right[i] for i in ids)
        lines.append(f"| {folder} | {total / n:.1%} | {ok / total:.0%} | {len(ids)} |")
    lines += ["", "| entry | share | right |", "| --- | --- | --- |"]
    for entry_id, count in share.most_common():
        lines.append(f"| `{entry_id}` | {count / n:.1%} | {right[entry_id]}/{count} |")
    block = "\n".join(lines)
    begin, end = "<!-- coverage:begin -->", "<!-- coverage:end -->"
    old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        text = f"{head}{begin}\n{block}\n{end}{rest.split(end, 1)[1]}"
    else:
        text = block + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(lines[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
