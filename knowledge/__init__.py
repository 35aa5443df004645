"""The knowledge base: Markdown entries (data) and the code that loads and validates them."""

from knowledge.entry import Entry, Lang, Section
from knowledge.lexicon import Lexicon, load_lexicon
from knowledge.loader import EntryError, LoadResult, load_knowledge

__all__ = [
    "Entry",
    "EntryError",
    "Lang",
    "Lexicon",
    "LoadResult",
    "Section",
    "load_knowledge",
    "load_lexicon",
]
