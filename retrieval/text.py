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
from collections.abc import Callable
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
def _alias_patterns() -> tuple[tuple[re.Pattern[str], str, str, tuple[str, ...]], ...]:
    """(pattern, zh canonical, en canonical, words the variant stays in), longest variant
    first."""
    rows: list[tuple[str, str, str, tuple[str, ...]]] = []
    for term in load_lexicon().terms:
        for variant in term.variants:
            rows.append((variant, term.zh, term.en, tuple(w for w in term.not_in if variant in w)))
    rows.sort(key=lambda r: -len(r[0]))
    out = []
    for variant, zh, en, keep in rows:
        if re.fullmatch(r"[A-Za-z][A-Za-z \-]*", variant):
            pat = re.compile(
                r"(?<![A-Za-z])" + re.escape(variant).replace(r"\ ", r"\s*") + r"(?![A-Za-z])", re.I
            )
        else:
            pat = re.compile(re.escape(variant), re.I)
        out.append((pat, zh, en, keep))
    return tuple(out)


def _inside(match: re.Match[str], words: tuple[str, ...]) -> bool:
    """Whether the matched variant is part of one of ``words`` where it stands in the text."""
    text, variant = match.string, match.group(0)
    for word in words:
        at = word.lower().find(variant.lower())
        start = match.start() - at
        if at >= 0 and start >= 0 and text[start:start + len(word)].lower() == word.lower():
            return True
    return False


def apply_aliases(text: str, lang: Lang) -> str:
    """Replace known aliases and misspellings by the canonical name in ``lang``, except inside
    the words a term lists as ``not_in`` (支付保费 keeps its 支付保)."""
    for pattern, zh, en, keep in _alias_patterns():
        name = zh if lang == "zh" else en
        text = pattern.sub(_replacer(name, keep), text) if keep else pattern.sub(name, text)
    return text


def _replacer(name: str, keep: tuple[str, ...]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return match.group(0) if _inside(match, keep) else name

    return replace


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
