"""Turn entries into the small texts that are embedded and indexed.

Indexed per entry: both titles, every listed question, the Chinese answer body (verdict and
points) and the English verdict, split on sentence ends. English points are not embedded: they
were 24% of the tokens embedded, embedding is nearly all of what `mingbai index` costs from
scratch, and without them no real (Chinese) question's answer changes and the gate is unchanged
(docs/decisions.md, "What is indexed").

Each chunk points back to its entry id; its id carries the entry's index hash
(:func:`index_hash`: its content, and how texts are normalised), so a changed entry's new chunks
never collide with the old ones, and a changed lexicon re-embeds what it normalised.

>>> from knowledge.loader import load_knowledge
>>> [c.kind for c in chunk_entry(load_knowledge().by_id()["about-mingbai"])][:3]
['title', 'title', 'question']
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from knowledge.entry import Entry, Lang
from knowledge.lexicon import LEXICON_PATH
from retrieval.text import normalize

if TYPE_CHECKING:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

# Bump when chunk_entry() or normalize() change what is embedded: every entry is re-embedded.
CHUNKING_VERSION = "2"  # 2: English points no longer embedded
SENTENCE_ENDS = ["\n", "。", "！", "？", "；", ". ", "! ", "? ", "; "]
CHUNK_CHARS = 160
POINTS_LANGS: tuple[Lang, ...] = ("zh",)
"""Languages whose answer points are embedded besides the verdict (see the module docstring)."""


@dataclass(frozen=True)
class Chunk:
    id: str
    entry_id: str
    entry_hash: str
    kind: str  # "title" | "question" | "body"
    lang: Lang
    text: str  # normalised text, as embedded
    n_chunks: int  # how many chunks this entry version has (to detect a cut-short write)

    def metadata(self) -> dict[str, str | int]:
        return {
            "entry_id": self.entry_id,
            "entry_hash": self.entry_hash,
            "kind": self.kind,
            "lang": self.lang,
            "n_chunks": self.n_chunks,
        }


def chunk_id(entry_id: str, entry_hash: str, n: int) -> str:
    """A chunk's id: its entry, that entry's content hash, and its position."""
    return f"{entry_id}:{entry_hash}:{n}"


def entry_id_of(chunk_id: str) -> str:
    """The entry a chunk belongs to, read back from its id (entry ids may contain ':')."""
    return chunk_id.rsplit(":", 2)[0]


@lru_cache(maxsize=1)
def _splitter() -> RecursiveCharacterTextSplitter:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        separators=SENTENCE_ENDS,
        keep_separator="end",
        chunk_size=CHUNK_CHARS,
        chunk_overlap=0,
        strip_whitespace=True,
    )


def split_sentences(text: str) -> list[str]:
    """Split a body into sentence-sized pieces (a piece may hold short sentences together)."""
    return [piece for piece in _splitter().split_text(text) if piece.strip()]


@lru_cache(maxsize=1)
def normalization_key() -> str:
    """What decides an entry's embedded texts besides the entry: the lexicon (product aliases
    and misspellings are normalised with it) and this module's version."""
    digest = hashlib.sha256(CHUNKING_VERSION.encode() + b"|" + LEXICON_PATH.read_bytes())
    return digest.hexdigest()[:12]


def index_hash(entry: Entry) -> str:
    """The version of ``entry`` as indexed: its content and :func:`normalization_key` (an entry
    indexed under another lexicon is stale: its texts were normalised differently)."""
    content = entry.content_hash  # a property that serialises the entry: read it once
    digest = hashlib.sha256(f"{content}|{normalization_key()}".encode())
    return digest.hexdigest()[: len(content)]


def chunk_entry(entry: Entry) -> list[Chunk]:
    texts: list[tuple[str, Lang, str]] = [
        ("title", "zh", entry.title_zh),
        ("title", "en", entry.title_en),
    ]
    texts += [("question", "zh", q) for q in entry.questions_zh]
    texts += [("question", "en", q) for q in entry.questions_en]
    for lang in ("zh", "en"):
        section = entry.section(lang)
        points = section.points if lang in POINTS_LANGS else []
        for piece in split_sentences("\n".join([section.verdict, *points])):
            texts.append(("body", lang, piece))
    unique: list[tuple[str, Lang, str]] = []
    seen: set[tuple[str, str]] = set()
    for kind, lang, raw in texts:
        text = normalize(raw, lang)
        if text and (kind, text) not in seen:
            seen.add((kind, text))
            unique.append((kind, lang, text))
    h = index_hash(entry)
    return [
        Chunk(chunk_id(entry.id, h, i), entry.id, h, kind, lang, text, len(unique))
        for i, (kind, lang, text) in enumerate(unique)
    ]


def chunk_entries(entries: Iterable[Entry]) -> list[Chunk]:
    return [c for e in entries for c in chunk_entry(e)]
