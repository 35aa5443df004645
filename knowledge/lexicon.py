"""Product names, aliases and domain words (data in ``lexicon.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

LEXICON_PATH = Path(__file__).resolve().parent / "lexicon.yaml"


@dataclass(frozen=True)
class Term:
    zh: str
    en: str
    variants: tuple[str, ...]


GENERAL = "general"  # an entry's `products:` value for entries about no product


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[Term, ...]
    domain_words: tuple[str, ...]
    products: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> words
    actions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> words
    opposites: dict[str, frozenset[str]] = field(default_factory=dict)  # action -> its undoers

    def all_zh_words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*(t.zh for t in self.terms), *self.domain_words]))

    def products_in(self, normalized: str) -> frozenset[str]:
        """The products a normalised text names.

        >>> sorted(load_lexicon().products_in("用余额宝还花呗可以吗"))
        ['huabei', 'yuebao']
        """
        text = normalized.lower()
        return frozenset(p for p, words in self.products.items() if any(w in text for w in words))

    def actions_in(self, normalized: str) -> frozenset[str]:
        """The actions a normalised text asks about.

        >>> sorted(load_lexicon().actions_in("花呗分期可以提前还吗"))
        ['early_repay', 'instalment']
        """
        text = normalized.lower()
        return frozenset(a for a, words in self.actions.items() if any(w in text for w in words))

    def opposed_to(self, actions: frozenset[str]) -> frozenset[str]:
        """The actions that undo any of ``actions``.

        >>> sorted(load_lexicon().opposed_to(frozenset({"limit_drop"})))
        ['raise_limit']
        """
        return frozenset(o for a in actions for o in self.opposites.get(a, ()))


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    terms = tuple(
        Term(zh=t["zh"], en=t["en"], variants=tuple(str(v) for v in t.get("variants", [])))
        for t in data.get("terms", [])
    )
    def groups(key: str) -> dict[str, tuple[str, ...]]:
        raw = data.get(key) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: '{key}' must map ids to lists of words")
        return {str(k): tuple(str(w).lower() for w in v) for k, v in raw.items()}

    actions = groups("actions")
    opposites: dict[str, set[str]] = {}
    for pair in data.get("opposites") or []:
        unknown = [a for a in pair if a not in actions]
        if len(pair) != 2 or unknown:
            raise ValueError(
                f"{path}: 'opposites' takes pairs of action ids; {pair!r} "
                + (f"names unknown action(s) {', '.join(map(str, unknown))}" if unknown
                   else "is not a pair")
            )
        a, b = map(str, pair)
        opposites.setdefault(a, set()).add(b)
        opposites.setdefault(b, set()).add(a)
    return Lexicon(
        terms=terms,
        domain_words=tuple(data.get("domain_words", [])),
        products=groups("products"),
        actions=actions,
        opposites={k: frozenset(v) for k, v in opposites.items()},
    )
