"""Product names, aliases and domain words (data in ``lexicon.yaml``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from knowledge.errors import ConfigError, validation_problems

LEXICON_PATH = Path(__file__).resolve().parent / "lexicon.yaml"


@dataclass(frozen=True)
class Term:
    zh: str
    en: str
    variants: tuple[str, ...]
    # words holding a variant that is not a misspelling there: 支付保费 is paying a premium
    not_in: tuple[str, ...] = ()


GENERAL = "general"  # an entry's `products:` value for entries about no product


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[Term, ...]
    domain_words: tuple[str, ...]
    products: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> words
    actions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> words
    opposites: dict[str, frozenset[str]] = field(default_factory=dict)  # action -> its undoers
    kind_of: dict[str, frozenset[str]] = field(default_factory=dict)  # act -> broader acts

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
        """The actions a normalised text asks about. A word inside a longer word of another
        action does not count: "被关闭了" is the state ``closed``, not the act of closing; nor
        does one inside a name: the 支付 of 支付宝 is not paying.

        >>> sorted(load_lexicon().actions_in("花呗分期可以提前还吗"))
        ['early_repay', 'instalment']
        >>> sorted(load_lexicon().actions_in("借呗被关闭了怎么重新开"))
        ['closed', 'reopen']
        >>> sorted(load_lexicon().actions_in("公司的支付宝能开通借呗吗"))
        ['open']
        """
        text = normalized.lower()
        spans: list[tuple[int, int, str]] = []
        for action, words in (("", self._names), *self.actions.items()):
            for word in words:
                start = text.find(word)
                while start >= 0:
                    spans.append((start, start + len(word), action))
                    start = text.find(word, start + 1)
        return frozenset(
            action for start, end, action in spans
            if action
            and not any(s <= start and end <= e and (e - s) > (end - start) and other != action
                        for s, e, other in spans)
        )

    @cached_property
    def _names(self) -> tuple[str, ...]:
        """Every product and term name (lower case)."""
        names = {t.zh.lower() for t in self.terms}
        names |= {w for words in self.products.values() for w in words}
        return tuple(sorted(names))

    def opposed_to(self, actions: frozenset[str]) -> frozenset[str]:
        """The actions that undo any of ``actions``.

        >>> sorted(load_lexicon().opposed_to(frozenset({"limit_drop"})))
        ['raise_limit']
        """
        return frozenset(o for a in actions for o in self.opposites.get(a, ()))

    def broader(self, action: str) -> frozenset[str]:
        """The acts ``action`` is a kind of: reopening is opening again, so an entry about
        opening (A 账号关了, B 账号怎么开通) covers a question about reopening.

        >>> sorted(load_lexicon().broader("reopen"))
        ['open']
        """
        return self.kind_of.get(action, frozenset())


class _TermRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str
    variants: tuple[str, ...] = ()
    not_in: tuple[str, ...] = ()


class _LexiconFile(BaseModel):
    """``lexicon.yaml`` as written (an unknown key is an error)."""

    model_config = ConfigDict(extra="forbid")
    terms: tuple[_TermRow, ...] = ()
    domain_words: tuple[str, ...] = ()
    products: dict[str, tuple[str, ...]] = {}
    actions: dict[str, tuple[str, ...]] = {}
    opposites: tuple[tuple[str, str], ...] = ()
    kind_of: dict[str, tuple[str, ...]] = {}


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """The lexicon, validated: an unknown key or a wrong type is a ConfigError naming the file
    and the key (``terms.3.variants``); an opposite naming an unknown action is one too."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        f = _LexiconFile.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the lexicon ({exc})") from exc
    except ValidationError as exc:
        problems, key = validation_problems(exc.errors())
        raise ConfigError(f"{path}: {problems}", field=key) from None
    actions = {k: tuple(w.lower() for w in v) for k, v in f.actions.items()}
    opposites: dict[str, set[str]] = {}
    for a, b in f.opposites:
        _known_actions(path, "opposites", (a, b), actions)
        opposites.setdefault(a, set()).add(b)
        opposites.setdefault(b, set()).add(a)
    for act, kinds in f.kind_of.items():
        _known_actions(path, "kind_of", (act, *kinds), actions)
    for n, t in enumerate(f.terms):
        stray = [w for w in t.not_in if not any(v.lower() in w.lower() for v in t.variants)]
        if stray:
            raise ConfigError(
                f"{path}: terms.{n}.not_in: {', '.join(stray)} hold(s) none of the variants of "
                f"{t.zh}; list only words in which a variant is not a misspelling",
                field=f"terms.{n}.not_in")
    return Lexicon(
        terms=tuple(Term(t.zh, t.en, t.variants, t.not_in) for t in f.terms),
        domain_words=f.domain_words,
        products={k: tuple(w.lower() for w in v) for k, v in f.products.items()},
        actions=actions,
        opposites={k: frozenset(v) for k, v in opposites.items()},
        kind_of={k: frozenset(v) for k, v in f.kind_of.items()},
    )


def _known_actions(path: Path, key: str, names: tuple[str, ...], actions: Mapping[str, object]
                   ) -> None:
    """A ConfigError naming the file, ``key`` and the ``names`` that are not lexicon actions."""
    unknown = [x for x in names if x not in actions]
    if unknown:
        raise ConfigError(f"{path}: '{key}' names unknown action(s) {', '.join(unknown)}",
                          field=key)
