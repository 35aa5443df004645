"""A question prepared once: its normal form, language and tokens, computed on first use and kept.

The assistant makes one :class:`Prepared` per text it reads (the message, the query it resolved
to, an earlier message) and hands that object to routing, search, the decision and the what-if
parser. Each of them reads the view it needs instead of normalising the text again; views that
belong to a higher layer (the what-if slots) are kept on the same object through :meth:`view`.

>>> p = Prepared("在閒魚買東西會開通借被嗎？")
>>> p.norm, p.lang
('在闲鱼买东西会开通借呗吗?', 'zh')
>>> p.tokens
('闲鱼', '买', '东西', '开通', '借呗')
>>> prepare(p) is p
True
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from retrieval.lexical import key_of_normal, tokens_of_normal
from retrieval.text import Lang, detect_language, normalize

__all__ = ["Prepared", "Text", "prepare"]
T = TypeVar("T")


class Prepared:
    """``text`` (already cleaned and masked by the caller) with its views, each computed once."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"Prepared needs a string, not {type(text).__name__}")
        self.text = text
        self._views: dict[str, Any] = {}

    @cached_property
    def norm(self) -> str:
        """The canonical form retrieval reads (``retrieval.text.normalize``)."""
        return normalize(self.text)

    @cached_property
    def lower(self) -> str:
        """The canonical form, lower-cased (what the rules' patterns match)."""
        return self.norm.lower()

    @cached_property
    def lang(self) -> Lang:
        return detect_language(self.text)

    @cached_property
    def tokens(self) -> tuple[str, ...]:
        """jieba tokens without punctuation and stopwords (``retrieval.lexical.tokenize``)."""
        return tokens_of_normal(self.lower)

    @cached_property
    def key(self) -> str:
        """The form listed questions are compared in (``retrieval.lexical.question_key``)."""
        return key_of_normal(self.lower)

    def view(self, name: str, compute: Callable[[Prepared], T]) -> T:
        """A view a higher layer derives from this text (``"slots"``), computed on first use."""
        if name not in self._views:
            self._views[name] = compute(self)
        value: T = self._views[name]
        return value

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Prepared({self.text!r})"


Text = str | Prepared


def prepare(text: Text) -> Prepared:
    """``text`` itself when it is already prepared, else a new :class:`Prepared` for it."""
    return text if isinstance(text, Prepared) else Prepared(text)
