"""Text normalisation shared by indexing and querying.

>>> normalize("在閒魚買東西會開通借被嗎？")
'在闲鱼买东西会开通借呗吗?'
>>> normalize("does buying on idle fish open jie bei")
'does buying on Xianyu open Jiebei'
>>> detect_language("jiebei 额度 why 降了")
'zh'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from knowledge.lang import CJK as _CJK
from knowledge.lang import Lang, detect_language
from knowledge.lexicon import load_lexicon

__all__ = ["Lang", "apply_aliases", "detect_language", "normalize", "strip_control"]
# Lone surrogates (\ud800-\udfff) arrive through JSON escapes and cannot be encoded: dropped.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)
_SPACES = re.compile(r"[ \t\r\n\u3000]+")


def strip_control(text: str) -> str:
    """Remove control and invisible formatting characters, keep newlines and tabs as spaces."""
    return _CONTROL.sub("", text.replace("\t", " "))


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc  # small C extension, loads in ~10 ms

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _alias_patterns() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    """(pattern, zh canonical, en canonical), longest variant first."""
    rows: list[tuple[str, str, str]] = []
    for term in load_lexicon().terms:
        for variant in term.variants:
            rows.append((variant, term.zh, term.en))
    rows.sort(key=lambda r: -len(r[0]))
    out = []
    for variant, zh, en in rows:
        if re.fullmatch(r"[A-Za-z][A-Za-z \-]*", variant):
            pat = re.compile(
                r"(?<![A-Za-z])" + re.escape(variant).replace(r"\ ", r"\s*") + r"(?![A-Za-z])", re.I
            )
        else:
            pat = re.compile(re.escape(variant), re.I)
        out.append((pat, zh, en))
    return tuple(out)


def apply_aliases(text: str, lang: Lang) -> str:
    """Replace known aliases and misspellings by the canonical name in ``lang``."""
    for pattern, zh, en in _alias_patterns():
        text = pattern.sub(zh if lang == "zh" else en, text)
    return text


@lru_cache(maxsize=16384)
def normalize(text: str, lang: Lang | None = None) -> str:
    """Canonical form used for retrieval: NFKC (full-width → half-width), simplified Chinese,
    canonical product names, collapsed whitespace. Display text is never normalised.

    Cached: one question is normalised by the router, the dialogue rules, the decision and the
    scam check, and it is a pure function of its text."""
    text = unicodedata.normalize("NFKC", strip_control(text))
    if _CJK.search(text):
        text = _t2s().convert(text)
    lang = lang or detect_language(text)
    text = apply_aliases(text, lang)
    return _SPACES.sub(" ", text).strip()
