"""Follow-up questions: "那花呗呢?" after a Jiebei question is about Huabei, with the same intent.

The retrieval query for a short follow-up is rebuilt from the previous user question: the product
it named is swapped for the new one, or the previous question's products are added to a
product-less follow-up ("那怎么还?" → "借呗 那怎么还?").

>>> resolve_followup("那花呗呢?", [{"role": "user", "content": "借呗逾期有什么后果"}])
'花呗逾期有什么后果'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from knowledge.lexicon import load_lexicon
from retrieval.text import detect_language, normalize

_FOLLOWUP_ZH = (
    re.compile(r"^(那|那么|还有|然后|再问|另外|如果是|换成|对于|同样|也)"),
    re.compile(r"呢[?？。!！]*$"),
    re.compile(r"(它|这个|那个|这样)"),
)
_FOLLOWUP_EN = (
    re.compile(r"^(and|what about|how about|same for|and for|what if it'?s|for|also)\b", re.I),
    re.compile(r"\b(it|that|this one|them)\b", re.I),
)
MAX_FOLLOWUP_CHARS_ZH = 14
MAX_FOLLOWUP_WORDS_EN = 7


@lru_cache(maxsize=1)
def _products() -> tuple[tuple[str, str], ...]:
    """(zh, en) canonical names of the products a follow-up can switch between."""
    names = {"借呗", "花呗", "闲鱼", "芝麻信用", "芝麻分", "网商贷", "征信", "支付宝", "淘宝"}
    return tuple((t.zh, t.en) for t in load_lexicon().terms if t.zh in names)


def products_in(text: str) -> list[tuple[str, str]]:
    low = text.lower()
    return [(zh, en) for zh, en in _products() if zh in text or en.lower() in low]


def _last_user_message(history: Sequence[Mapping[str, str]]) -> str | None:
    for message in reversed(history):
        if message.get("role") == "user" and str(message.get("content", "")).strip():
            return str(message["content"])
    return None


def is_followup(question: str) -> bool:
    text = normalize(question)
    if detect_language(text) == "zh":
        short = len(text) <= MAX_FOLLOWUP_CHARS_ZH
        return short and any(p.search(text) for p in _FOLLOWUP_ZH)
    short = len(text.split()) <= MAX_FOLLOWUP_WORDS_EN
    return short and any(p.search(text) for p in _FOLLOWUP_EN)


def resolve_followup(question: str, history: Sequence[Mapping[str, str]] | None) -> str:
    """The question to retrieve with: ``question`` itself unless it is a follow-up."""
    if not history or not is_followup(question):
        return question
    previous = _last_user_message(history)
    if previous is None:
        return question
    prev = normalize(previous)
    now = normalize(question)
    new_products = products_in(now)
    old_products = products_in(prev)
    if new_products and old_products:
        zh, en = new_products[0]
        for old_zh, old_en in old_products:
            prev = prev.replace(old_zh, zh)
            prev = re.sub(re.escape(old_en), en, prev, flags=re.I)
        return prev
    if not new_products and old_products:
        lang = detect_language(now)
        names = " ".join(zh if lang == "zh" else en for zh, en in old_products)
        return f"{names} {now}"
    return f"{prev} {now}"
