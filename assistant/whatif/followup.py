"""What-if follow-ups: "要是涨到750呢" after "芝麻分680，借呗额度大概多少" is a new what-if.

A short follow-up that brings a number or a change of its own continues the last what-if question
of the conversation: the scorer reads that question with the new change added. A bare number
("那800呢", "what about 750?") applies to the one profile field the earlier question named; when it
named several, the follow-up is left alone rather than guessed at. Chains work: each follow-up
builds on the resolved one before it.

>>> history = [{"role": "user", "content": "芝麻分680，借呗额度大概多少"}]
>>> resolve_whatif_followup("要是涨到750呢", history, lambda t: "额度" in t)
'芝麻分680，借呗额度大概多少。如果芝麻分变成750'
>>> resolve_whatif_followup("那花呗呢", history, lambda t: "额度" in t) is None
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from assistant.followup import user_messages
from assistant.whatif.profile import FIELD_SPECS
from assistant.whatif.slot_grammar import normalize as slot_normalize
from assistant.whatif.slots import Slots, parse_slots
from retrieval.prepared import Text, prepare
from retrieval.text import normalize

MAX_FOLLOWUP_CHARS = 40
_FOLLOWUP = re.compile(
    r"^(那|那么|要是|如果|假如|假设|换成|再|还有)|呢[?？。!！\s]*$"
    r"|^(what if|and if|if|what about|how about|and|say)\b",
    re.I,
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _is_followup_form(text: str) -> bool:
    return len(text) <= MAX_FOLLOWUP_CHARS and bool(_FOLLOWUP.search(text.strip()))


def _fields(slots: Slots) -> list[str]:
    return list(dict.fromkeys([*slots.changes, *slots.values]))


def _merge(base: str, question: Text) -> str | None:
    """``base`` (a what-if question) plus the change ``question`` brings; None if it brings
    none."""
    follow = str(question)
    zh = prepare(question).lang == "zh"
    sep = "。" if zh else ". "
    before = parse_slots(base)
    combined = f"{base}{sep}{follow}"
    after = parse_slots(combined)
    if (after.changes, after.values) != (before.changes, before.values):
        return combined  # the follow-up names its own change or fact ("那要是逾期两次呢")
    fields = _fields(before)
    numbers = _NUMBER.findall(slot_normalize(follow))
    if len(fields) != 1 or len(numbers) != 1 or _fields(parse_slots(question)):
        return None
    spec = FIELD_SPECS[fields[0]]
    number = numbers[0]
    if zh:
        phrase = f"如果{spec.label_zh}变成{number}"
    else:
        phrase = f"what if my {spec.label_en} goes to {number}"
    candidate = f"{base}{sep}{phrase}"
    return candidate if fields[0] in parse_slots(candidate).changes else None


def _resolve(users: list[str], is_whatif: Callable[[str], bool]) -> str | None:
    """The what-if text the last of ``users`` stands for, or None if it is not one."""
    if not users:
        return None
    last = users[-1]
    if is_whatif(last):
        return last
    if not _is_followup_form(normalize(last)):
        return None
    earlier = _resolve(users[:-1], is_whatif)
    return _merge(earlier, last) if earlier is not None else None


def resolve_whatif_followup(
    question: Text,
    history: Sequence[Mapping[str, str]] | None,
    is_whatif: Callable[[str], bool],
) -> str | None:
    """The text to score when ``question`` continues a what-if conversation, else None.

    ``is_whatif`` says whether a message is a what-if question on its own (the router's verdict).
    """
    if not history or not _is_followup_form(prepare(question).norm):
        return None
    users = user_messages(history)[-6:]  # a what-if conversation longer than this starts over
    base = _resolve(users, is_whatif)
    return _merge(base, question) if base is not None else None
