"""Question pairs as an intent test: does the assistant resolve two questions to the same entry
exactly when people say they ask the same thing?

A file of pairs is JSON lines with ``sentence1``, ``sentence2`` and ``label`` ("1" the same intent,
"0" different), the shape of the AFQMC corpus (real customer-service questions). The top cited
entry is taken as a question's intent; an abstained or clarified question has none, so it never
counts as "the same" as anything.

- ``same``: share of same-intent pairs whose two questions get the same top entry;
- ``apart``: share of different-intent pairs whose top entries differ (or are missing);
- ``balanced``: their mean (chance is 0.50);
- ``wrong_product``: share of the questions naming exactly one of Huabei / Jiebei that are
  answered from an entry about the other one only;
- ``abstain_rate``, ``clarify_rate``, ``scam_rate``: over the distinct questions.

>>> pairs = read_pairs("pairs.jsonl")  # doctest: +SKIP
>>> summary = evaluate_pairs(bot, pairs).summary  # doctest: +SKIP
>>> summary["balanced"]  # doctest: +SKIP
0.74
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assistant.answer import Answer
from assistant.errors import PairFileError

ONE_PRODUCT = ("huabei", "jiebei")  # the products the wrong-product rate is measured on


@dataclass(frozen=True)
class QuestionPair:
    first: str
    second: str
    same: bool


def _field(row: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in row:
            return row[name]
    return None


def read_pairs(path: Path | str) -> list[QuestionPair]:
    """Every pair of a JSON-lines file (``sentence1``/``sentence2``/``label``, or
    ``question1``/``question2``/``label``); a bad line is an error naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PairFileError(f"cannot read {path}: {exc}") from exc
    pairs = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise PairFileError(f"{path}:{n}: not JSON ({exc})") from None
        first = _field(row, "sentence1", "question1")
        second = _field(row, "sentence2", "question2")
        label = str(_field(row, "label")).strip()
        if not isinstance(first, str) or not isinstance(second, str) or label not in ("0", "1"):
            raise PairFileError(
                f"{path}:{n}: expected sentence1, sentence2 and a label of 0 or 1"
            )
        pairs.append(QuestionPair(first.strip(), second.strip(), label == "1"))
    if not pairs:
        raise PairFileError(f"{path} holds no pairs")
    return pairs


def read_pair_questions(path: Path | str) -> list[str]:
    """The distinct questions of a pairs file, in the order they first appear."""
    seen: dict[str, None] = {}
    for pair in read_pairs(path):
        seen.setdefault(pair.first)
        seen.setdefault(pair.second)
    return list(seen)


class _Asks(Protocol):
    def ask_many(self, questions: Sequence[str]) -> list[Answer]: ...


def intent_of(answer: Answer) -> str | None:
    """The entry a question was resolved to, or None when it was not resolved to one."""
    if answer.route == "whatif":
        return "(what-if)"
    if answer.abstained or getattr(answer, "clarifying", False) or not answer.citations:
        return None
    return answer.citations[0].doc_id


@dataclass(frozen=True)
class PairRun:
    pairs: list[QuestionPair]
    answers: dict[str, Answer]
    summary: dict[str, Any]


def evaluate_pairs(
    assistant: _Asks,
    pairs: Sequence[QuestionPair],
    *,
    question_products: Callable[[str], set[str]],
    entry_products: Callable[[str], set[str]],
    batch: int = 64,
) -> PairRun:
    """Ask every distinct question once, then score the pairs (see the module docstring)."""
    questions = list(dict.fromkeys(q for p in pairs for q in (p.first, p.second)))
    answers: dict[str, Answer] = {}
    for i in range(0, len(questions), batch):
        part = questions[i : i + batch]
        answers.update(zip(part, assistant.ask_many(part), strict=True))
    intents = {q: intent_of(a) for q, a in answers.items()}

    def resolved_same(p: QuestionPair) -> bool:
        a, b = intents[p.first], intents[p.second]
        return a is not None and a == b

    same_pairs = [p for p in pairs if p.same]
    apart_pairs = [p for p in pairs if not p.same]
    same = sum(resolved_same(p) for p in same_pairs) / max(1, len(same_pairs))
    apart = sum(not resolved_same(p) for p in apart_pairs) / max(1, len(apart_pairs))
    one_product = [q for q in questions if len(question_products(q) & set(ONE_PRODUCT)) == 1]
    wrong = 0
    for q in one_product:
        intent = intents[q]
        if intent is None or intent.startswith("("):
            continue
        named = question_products(q) & set(ONE_PRODUCT)
        about = entry_products(intent) & set(ONE_PRODUCT)
        if about and not about & named:
            wrong += 1
    n = max(1, len(questions))
    summary = {
        "pairs": len(pairs),
        "same_pairs": len(same_pairs),
        "apart_pairs": len(apart_pairs),
        "same": round(same, 4),
        "apart": round(apart, 4),
        "balanced": round((same + apart) / 2, 4),
        "questions": len(questions),
        "one_product_questions": len(one_product),
        "wrong_product": round(wrong / max(1, len(one_product)), 4),
        "abstain_rate": round(sum(a.abstained for a in answers.values()) / n, 4),
        "clarify_rate": round(
            sum(bool(getattr(a, "clarifying", False)) for a in answers.values()) / n, 4
        ),
        "scam_rate": round(sum(a.scam_warning is not None for a in answers.values()) / n, 4),
        "distinct_intents": len({i for i in intents.values() if i is not None}),
    }
    return PairRun(list(pairs), answers, summary)
