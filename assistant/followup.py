"""Follow-up questions: "那花呗呢?" after a Jiebei question is about Huabei, with the same intent.

The retrieval query for a short follow-up is rebuilt from the previous user question: the product
it named is swapped for the new one ("那花呗呢?"), or the previous question's products are added to
a product-less follow-up ("那怎么还?" → "借呗 那怎么还?"). A longer follow-up (up to 40 characters
or 20 words) that names no product only gets the products added; one that names a product and
asks something of its own ("那个花呗分期手续费怎么算") is left whole.

>>> resolve_followup("那花呗呢?", [{"role": "user", "content": "借呗逾期有什么后果"}])
'花呗逾期有什么后果'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from knowledge.lexicon import load_lexicon
from retrieval.prepared import Text, prepare
from retrieval.text import Lang, detect_language, normalize

_FILLER_ZH = r"(?:嗯|哦|好的|好吧|行|ok|那个)?[,，\s]*"
_FILLER_EN = r"(?:ok(?:ay)?|so|hmm|right|alright|well)?[,\s]*"
_FOLLOWUP_ZH = (
    re.compile(rf"^{_FILLER_ZH}(那|那么|还有|然后|再问|另外|如果是|换成|对于|同样|也)"),
    re.compile(r"呢[?？。!！]*$"),
    re.compile(r"(它|这个|那个|这样)"),
)
_FOLLOWUP_EN = (
    re.compile(
        rf"^{_FILLER_EN}(and|what about|how about|same for|and for|what if it'?s|for|also)\b", re.I
    ),
    re.compile(r"\b(it|that|this one|them)\b", re.I),
)
# A short follow-up may also switch the product ("那花呗呢?" → the previous question about Huabei).
MAX_FOLLOWUP_CHARS_ZH = 14
MAX_FOLLOWUP_WORDS_EN = 7
# A longer one that names no product only gets the previous question's products added
# ("那如果只晚了一天呢 也会被记上去吗" after a Huabei question): it keeps all its own words.
MAX_CONTEXTUAL_CHARS_ZH = 40
MAX_CONTEXTUAL_WORDS_EN = 20


@lru_cache(maxsize=1)
def _products() -> tuple[tuple[str, str], ...]:
    """(zh, en) canonical names of the products a follow-up can switch between."""
    names = {"借呗", "花呗", "闲鱼", "芝麻信用", "芝麻分", "网商贷", "征信", "支付宝", "淘宝"}
    return tuple((t.zh, t.en) for t in load_lexicon().terms if t.zh in names)


def products_in(text: str) -> list[tuple[str, str]]:
    low = text.lower()
    return [(zh, en) for zh, en in _products() if zh in text or en.lower() in low]


def user_messages(history: Sequence[Mapping[str, str]] | None) -> list[str]:
    """The user's non-blank messages in ``history``, oldest first."""
    return [
        str(m.get("content", ""))
        for m in history or ()
        if m.get("role") == "user" and str(m.get("content", "")).strip()
    ]


def _last_user_message(history: Sequence[Mapping[str, str]]) -> str | None:
    users = user_messages(history)
    return users[-1] if users else None


def _refers_back(text: str, lang: Lang, max_zh: int, max_en: int) -> bool:
    if lang == "zh":
        return len(text) <= max_zh and any(p.search(text) for p in _FOLLOWUP_ZH)
    return len(text.split()) <= max_en and any(p.search(text) for p in _FOLLOWUP_EN)


def is_followup(question: Text) -> bool:
    """A short question that leans on the previous one ("那花呗呢?", "and Huabei?")."""
    q = prepare(question)
    return _refers_back(q.norm, q.lang, MAX_FOLLOWUP_CHARS_ZH, MAX_FOLLOWUP_WORDS_EN)


def resolve_followup(question: Text, history: Sequence[Mapping[str, str]] | None) -> Text:
    """The question to retrieve with: ``question`` itself (the same object) unless it is a
    follow-up."""
    if not history:
        return question
    previous = _last_user_message(history)
    if previous is None:
        return question
    q = prepare(question)
    prev = normalize(previous)
    now = q.norm
    new_products = products_in(now)
    old_products = products_in(prev)
    if not is_followup(q):
        longer = _refers_back(now, q.lang, MAX_CONTEXTUAL_CHARS_ZH, MAX_CONTEXTUAL_WORDS_EN)
        if longer and old_products and not new_products:
            return f"{_names(old_products, now)} {now}"
        return question
    if new_products and old_products:
        if _says_more(now, new_products):
            return question  # "那个花呗分期手续费怎么算" asks its own question
        zh, en = new_products[0]
        for old_zh, old_en in old_products:
            prev = prev.replace(old_zh, zh)
            prev = re.sub(re.escape(old_en), en, prev, flags=re.I)
        return prev
    if not new_products and old_products:
        return f"{_names(old_products, now)} {now}"
    return f"{prev} {now}"


_SWAP_WORDS_ZH = re.compile(
    r"那么|那|还有|然后|另外|如果是|换成|对于|同样|也|的|呢|吗|啊|呀|怎么样|会怎样"
)
_SWAP_WORDS_EN = re.compile(
    r"\b(and|what|about|how|same|for|the|then|also|if|it'?s|is|with|ok(ay)?|so)\b", re.I
)
_NOT_WORDS = re.compile(r"[\W_]+")


def _says_more(text: str, products: Sequence[tuple[str, str]]) -> bool:
    """Whether a follow-up naming a product says more than "what about <product>?"."""
    rest = text
    for zh, en in products:
        rest = rest.replace(zh, " ")
        rest = re.sub(re.escape(en), " ", rest, flags=re.I)
    if detect_language(text) == "zh":
        return len(_NOT_WORDS.sub("", _SWAP_WORDS_ZH.sub("", rest))) > 4
    return len(_SWAP_WORDS_EN.sub(" ", rest).split()) > 2


def _names(products: Sequence[tuple[str, str]], text: str) -> str:
    """The products' names in ``text``'s language."""
    zh = detect_language(text) == "zh"
    return " ".join(name_zh if zh else name_en for name_zh, name_en in products)


STORY_TURNS = 3  # the current message and the two user messages before it
STORY_MESSAGE_CHARS = 1000  # of each earlier message (a pasted page must not slow the check)


# A message continues the story before it when it points back at it (他/对方/现在/then, the
# person who called...) or is too short to stand alone; "借呗能提前还吗" after a scam story is a new
# question, and gets no warning.
_CONTINUES_ZH = re.compile(
    r"他|她|对方|他们|那人|这人|那个人|客服|现在|然后|接着|又|还要|还让|刚才|刚刚|那我|我该|"
    r"要给吗|能给吗|怎么办|给不给|转不转|要不要|这样|这个"
)
_CONTINUES_EN = re.compile(
    r"\b(he|she|they|them|him|her|the (guy|man|woman|caller|buyer|seller|agent)|"
    r"now|then|again|next|should i|what do i do|this guy)\b",
    re.I,
)
MAX_STANDALONE_CHARS = 6


def continues_story(question: Text) -> bool:
    """True when ``question`` reads as the next part of an earlier message, not a new question.

    >>> continues_story("现在要我把验证码报给他，要给吗"), continues_story("借呗能提前还吗")
    (True, False)
    """
    text = str(question).strip()
    if len(text) <= MAX_STANDALONE_CHARS:
        return True
    return bool(_CONTINUES_ZH.search(text) or _CONTINUES_EN.search(text))


def recent_story(question: Text, history: Sequence[Mapping[str, str]] | None) -> str | None:
    """The user's last few messages joined, when ``question`` continues a conversation.

    Scam stories are often told over several messages ("有人给我打电话说是支付宝客服" … "现在要我
    把验证码报给他"); a check that reads only the last one misses them. None without earlier
    messages.
    """
    earlier = [
        m.strip()[:STORY_MESSAGE_CHARS] for m in user_messages(history)[-(STORY_TURNS - 1) :]
    ]
    if not earlier or not continues_story(question):
        return None
    q = prepare(question)
    sep = "。" if q.lang == "zh" else ". "
    return sep.join([*earlier, q.text.strip()])
