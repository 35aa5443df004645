"""What the knowledge base misses, from the question log: ``find_gaps`` and ``export_rows``.

A gap candidate is a recorded question that was abstained on, answered with a clarifying
question, down-voted, or answered with a small margin between the two best entries. Candidates are
grouped by meaning: their e5 vectors, clustered by scikit-learn's agglomerative clustering
(average linkage on cosine distance, a distance threshold instead of a number of groups), which
is deterministic for the same questions. Each group comes with its count, up to five masked
examples, the entries nearest to it and a draft entry file to write and index.

The examples are users' words: rephrase them in our own before they go into an entry.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.lang import detect_language

MARGIN_BELOW = 0.01  # a best entry this close to the second is a barely answered question
# The widest cosine distance inside one group. e5-small squeezes Chinese questions together:
# measured, paraphrases 0.04-0.085 apart, different questions about one product 0.09-0.12,
# different products 0.11-0.16 (`mingbai gaps --distance` to try another model's).
DISTANCE = 0.09
EXAMPLES = 5


@dataclass
class Gap:
    """One group of questions the knowledge base did not answer well."""

    count: int
    examples: list[str]
    why: Counter[str]  # abstained, clarified, down-voted, narrow
    lang: str
    nearest: list[tuple[str, float]] = field(default_factory=list)  # (entry id, score)

    def draft(self, n: int) -> str:
        """A draft entry file: front matter to complete, the examples as comments, body TODO."""
        zh = self.lang == "zh"
        examples = "\n".join(f"#   - {e}" for e in self.examples)
        nearest = ", ".join(f"{i} ({s:.3f})" for i, s in self.nearest) or "none"
        return (
            "---\n"
            f"# Draft from the question log: {self.count} question(s), "
            f"{', '.join(f'{k} {v}' for k, v in self.why.most_common())}.\n"
            f"# Nearest entries now: {nearest}.\n"
            "# What people asked (masked; rephrase in our own words, never copy):\n"
            f"{examples}\n"
            f"id: TODO-gap-{n}\n"
            "title_zh: TODO\n"
            "title_en: TODO\n"
            "tags: [TODO]\n"
            "products: [TODO]\n"
            f"questions_zh:\n{self._template('zh')}"
            f"questions_en:\n{self._template('en')}"
            "sources:\n  - TODO (a law and its article, or an agreement or help page by name)\n"
            "reviewed: TODO\n"
            "---\n"
            "## 中文\n\nTODO" + ("（先写结论，再写要点）\n" if zh else "\n")
            + "\n## English\n\nTODO\n"
        )


    def _template(self, lang: str) -> str:
        """The examples of ``lang`` as the questions to write, each marked to be rephrased."""
        mine = [e for e in self.examples if (detect_language(e) == lang)]
        mark = "TODO 用自己的话改写：" if lang == "zh" else "TODO rephrase in our words: "
        items = [f"  - {json.dumps(mark + e, ensure_ascii=False)}" for e in mine] or ["  - TODO"]
        return "\n".join(items) + "\n"


def candidates(rows: Iterable[Mapping[str, Any]], down_voted: set[str],
               margin_below: float = MARGIN_BELOW) -> list[tuple[Mapping[str, Any], str]]:
    """The rows that are gap candidates, each with why."""
    out = []
    for row in rows:
        if row.get("route") in ("conversation", "whatif") or row.get("scam"):
            continue  # small talk, estimates and scam warnings are not knowledge gaps
        if row["id"] in down_voted:
            why = "down-voted"
        elif row.get("abstained"):
            why = "abstained"
        elif row.get("clarifying"):
            why = "clarified"
        elif row.get("margin") is not None and row["margin"] < margin_below:
            why = "narrow"
        else:
            continue
        out.append((row, why))
    return out


def find_gaps(
    rows: Sequence[tuple[Mapping[str, Any], str]],
    embed: Callable[[list[str]], Sequence[Sequence[float]]],
    nearest: Callable[[str], list[tuple[str, float]]] | None = None,
    distance: float = DISTANCE,
) -> list[Gap]:
    """``rows`` (from :func:`candidates`) grouped by meaning, largest group first."""
    import numpy as np

    if not rows:
        return []
    texts: dict[str, list[tuple[Mapping[str, Any], str]]] = {}
    for row, why in rows:  # the same words asked twice are one point, counted twice
        texts.setdefault(_key(str(row["question"])), []).append((row, why))
    keys = sorted(texts)
    if len(keys) == 1:
        labels = [0]
    else:
        from sklearn.cluster import AgglomerativeClustering

        vectors = np.asarray(embed([str(texts[k][0][0]["question"]) for k in keys]), dtype=float)
        labels = list(AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="complete", distance_threshold=distance,
        ).fit_predict(vectors))
    groups: dict[int, list[str]] = {}
    for key, label in zip(keys, labels, strict=True):
        groups.setdefault(int(label), []).append(key)
    gaps = []
    for members in groups.values():
        hits = [h for k in members for h in texts[k]]
        by_count = sorted(members, key=lambda k: (-len(texts[k]), k))
        examples = [str(texts[k][0][0]["question"]) for k in by_count[:EXAMPLES]]
        langs = Counter(str(r.get("lang", "zh")) for r, _ in hits)
        gap = Gap(len(hits), examples, Counter(w for _, w in hits), langs.most_common(1)[0][0])
        if nearest is not None:
            gap.nearest = nearest(examples[0])
        gaps.append(gap)
    return sorted(gaps, key=lambda g: (-g.count, g.examples[0]))


def report(gaps: Sequence[Gap], since: str) -> str:
    """The gaps as Markdown: each group's count, why, examples and nearest entries."""
    if not gaps:
        return f"# Gaps since {since}\n\nNo abstained, clarified, down-voted or narrow answers.\n"
    lines = [f"# Gaps since {since}", "",
             f"{sum(g.count for g in gaps)} questions in {len(gaps)} groups, largest first. "
             "Examples are masked users' words: rephrase them, never copy them into an entry.", ""]
    for n, g in enumerate(gaps, 1):
        why = ", ".join(f"{k} {v}" for k, v in g.why.most_common())
        lines += [f"## {n}. {g.count} question(s) ({why})", ""]
        lines += [f"- {e}" for e in g.examples]
        near = ", ".join(f"`{i}` {s:.3f}" for i, s in g.nearest) or "none"
        lines += ["", f"Nearest entries: {near}. Draft: `draft-{n}.md`.", ""]
    return "\n".join(lines)


def export_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The log as evaluation rows ``mingbai eval`` reads: each question with the route and the
    entry it was answered from (tagged ``from-log``, ``to-review``: what it *was* answered from
    is not yet what it *should* be)."""
    out = []
    for row in rows:
        if row.get("route") == "conversation":
            continue
        item: dict[str, Any] = {
            "id": f"log-{str(row['id'])[:12]}",
            "question": row["question"],
            "expect_route": row["route"],
            "expect_abstain": bool(row.get("abstained")),
            "lang": row.get("lang") or "zh",
            "tags": ["from-log", "to-review"],
        }
        if row.get("top_entry") and not row.get("abstained"):
            item["expect_doc"] = row["top_entry"]
        if row.get("clarifying"):
            item["expect_clarify"] = True
        out.append(item)
    return out


_SPACE = re.compile(r"\s+")


def _key(question: str) -> str:
    return _SPACE.sub(" ", question.strip().lower())


def gaps_since(assistant: Any, log: Any, since: Any, distance: float = DISTANCE) -> list[Gap]:
    """The gaps of ``log`` since ``since`` (what ``mingbai gaps`` shows)."""
    return gaps_of(assistant, log.questions(since), log.down_voted(since), distance)


def gaps_of(assistant: Any, questions: Iterable[Mapping[str, Any]], down_voted: set[str],
            distance: float = DISTANCE) -> list[Gap]:
    """The gaps among recorded ``questions``, grouped with ``assistant``'s own embedding model,
    with the entries nearest each group (the operator page passes the rows it already read)."""
    rows = candidates(questions, down_voted)
    if not rows:
        return []
    search = assistant.components.search

    def nearest(q: str) -> list[tuple[str, float]]:  # closest, even below the answer threshold
        return [(h.entry_id, round(h.score, 4)) for h in search.search(q, k=3).hits]

    return find_gaps(rows, search.embed_many, nearest, distance)
