"""Product names, aliases and domain words (data in ``lexicon.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

LEXICON_PATH = Path(__file__).resolve().parent / "lexicon.yaml"


@dataclass(frozen=True)
class Term:
    zh: str
    en: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[Term, ...]
    domain_words: tuple[str, ...]

    def all_zh_words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*(t.zh for t in self.terms), *self.domain_words]))


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    terms = tuple(
        Term(zh=t["zh"], en=t["en"], variants=tuple(str(v) for v in t.get("variants", [])))
        for t in data.get("terms", [])
    )
    return Lexicon(terms=terms, domain_words=tuple(data.get("domain_words", [])))
