"""What a face may call: the one protocol every face (the page, the HTTP and MCP servers, the CLI,
batch evaluation) is written against, and that :class:`~assistant.bot.Assistant` implements.

A face takes a ``Surface``, so tests can hand it a small fake, and it returns results through
``assistant.serialize``. It never reaches into ``Assistant.components``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from assistant.answer import Answer, Citation

if TYPE_CHECKING:
    from assistant.whatif.simulate import Simulation
    from knowledge.entry import Entry

History = Sequence[Mapping[str, str]]


class Surface(Protocol):
    def ask(self, question: str, history: History | None = None) -> Answer:
        """Answer one message (it may ask several questions); ``history`` is the conversation."""
        ...

    def ask_many(
        self, questions: Sequence[str], histories: Sequence[History | None] | None = None
    ) -> list[Answer]:
        """Answer many messages in one batch, in order."""
        ...

    def what_if(
        self,
        profile: Mapping[str, Any],
        changes: Mapping[str, Any] | None = None,
        target_band: str | None = None,
    ) -> Simulation:
        """The rules scorer's estimate for ``profile``, after ``changes``, and a plan."""
        ...

    def knowledge_entries(self) -> list[Entry]:
        """Every knowledge entry, in a stable order."""
        ...

    def find_entries(self, query: str, k: int = 10) -> list[Citation]:
        """The entries closest to ``query``, best first."""
        ...

    @property
    def ready(self) -> bool:
        """True once the model is loaded (health checks; questions before that wait)."""
        ...
