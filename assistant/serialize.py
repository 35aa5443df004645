"""The one JSON shape of what Mingbai returns, used by every face (HTTP, MCP, CLI, the page).

``answer_json`` is an :class:`~assistant.answer.Answer` with its citations numbered as in the
text ([1], [2]) and its parts in the same shape; ``extension_json`` is the part of it that the
OpenAI-compatible API carries in its ``mingbai`` object (docs/api.md); ``simulation_json`` is a
what-if result. Faces never build these dicts themselves.

>>> from assistant.answer import Answer, Citation
>>> a = Answer("**是。** [1]", "knowledge", [Citation("x", "题", "是。", 0.95)], False, None, "zh")
>>> answer_json(a)["citations"][0]["index"], extension_json(a)["route"]
(1, 'knowledge')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from assistant.answer import Answer, Citation

if TYPE_CHECKING:
    from assistant.whatif.simulate import Simulation


def citations_json(citations: Sequence[Citation]) -> list[dict[str, Any]]:
    """Citations (an answer's, or a search's results), numbered from 1 as answers number them."""
    return [{"index": i, **asdict(c), "sources": list(c.sources)}
            for i, c in enumerate(citations, 1)]  # fmt: skip


def answer_json(answer: Answer) -> dict[str, Any]:
    """Every field of the answer; ``parts`` in the same shape."""
    data = {k: v for k, v in asdict(answer).items() if k not in ("citations", "parts")}
    data["notes"], data["suggestions"] = list(answer.notes), list(answer.suggestions)
    data["suggestion_ids"] = list(answer.suggestion_ids)
    data["retrieved"] = [list(r) for r in answer.retrieved]
    data["citations"] = citations_json(answer.citations)
    data["parts"] = [answer_json(p) for p in answer.parts]
    return data


EXTENSION_FIELDS = ("id", "route", "abstained", "clarifying", "scam_warning", "language", "notes",
                    "suggestions")  # fmt: skip
PART_FIELDS = ("question", "text", "route", "abstained", "clarifying", "citations")


def extension_json(answer: Answer) -> dict[str, Any]:
    """The answer's structure beside its text, so that no client takes the text apart."""
    full = answer_json(answer)
    out = {k: full[k] for k in EXTENSION_FIELDS}
    out["parts"] = [{k: p[k] for k in PART_FIELDS} for p in full["parts"]]
    return out


def simulation_json(sim: Simulation, lang: str = "zh") -> dict[str, Any]:
    """A what-if result: the estimate before and after, what changed and why, and the plan."""
    return sim.to_dict(lang)
