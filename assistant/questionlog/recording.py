"""``Recorded``: a :class:`~assistant.surface.Surface` that records every answer it gives.

Each face wraps the assistant once with its own name (``Recorded(assistant, log, "api")``) and
calls it as it called the assistant. Each answer gets an ``id`` (returned by the faces, the key
for feedback) and one row in the log: the masked question, the entries cited with their scores,
the flags, the latency, the face and the versions; never the answer text. A conversation is
followed by its last answer: a message whose history ends with an answer this process gave joins
that answer's conversation.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from assistant.answer import Answer, Citation
from assistant.privacy import mask_personal_data
from assistant.questionlog.schema import REASONS
from assistant.questionlog.store import QuestionLog
from retrieval.text import strip_control

if TYPE_CHECKING:
    from assistant.surface import Surface
    from assistant.whatif.simulate import Simulation
    from knowledge.entry import Entry

History = Sequence[Mapping[str, str]]
CONVERSATIONS = 50_000  # answers remembered to follow conversations (about 4 MB)
MAX_COMMENT = 1000


def _key(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:24]


class Recorded:
    """``inner`` (any Surface), each answer recorded in ``log`` as coming from ``face``."""

    def __init__(self, inner: Surface, log: QuestionLog | None, face: str,
                 versions: Mapping[str, str] | None = None) -> None:
        self.inner = inner
        self.log = log
        self.face = face
        found = versions if versions is not None else getattr(inner, "versions", None)
        self.versions = dict(found) if isinstance(found, Mapping) else {}
        self._conversations: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    # -- answering, recorded -------------------------------------------------------------------
    def ask(self, question: str, history: History | None = None) -> Answer:
        return self.ask_many([question], [history])[0]

    def ask_many(self, questions: Sequence[str],
                 histories: Sequence[History | None] | None = None) -> list[Answer]:
        t0 = time.perf_counter()
        answers = self.inner.ask_many(questions, histories)
        share = (time.perf_counter() - t0) * 1000 / max(1, len(answers))
        hist = list(histories) if histories is not None else [None] * len(answers)
        return [self._record(a, h, share) for a, h in zip(answers, hist, strict=True)]

    def _record(self, answer: Answer, history: History | None, latency_ms: float) -> Answer:
        answer_id = uuid.uuid4().hex
        conversation = self._conversation(history) or answer_id
        with self._lock:
            self._conversations[_key(answer.text)] = conversation
            while len(self._conversations) > CONVERSATIONS:
                self._conversations.popitem(last=False)
        if self.log is not None:
            scores = [s for _, s in answer.retrieved]
            margin = round(scores[0] - scores[1], 4) if len(scores) > 1 else None
            self.log.record({
                "id": answer_id, "at": datetime.now(UTC), "conversation": conversation,
                "face": self.face, "lang": answer.language, "route": answer.route,
                "question": mask_personal_data(answer.question)[:4000],
                "cited": [[c.doc_id, c.score] for c in answer.citations],
                "top_entry": answer.citations[0].doc_id if answer.citations else None,
                "top_score": answer.citations[0].score if answer.citations else None,
                "margin": margin, "abstained": answer.abstained, "clarifying": answer.clarifying,
                "scam": answer.scam_warning is not None, "latency_ms": round(latency_ms, 2),
                "rules_version": self.versions.get("rules", ""),
                "index_version": self.versions.get("index", ""),
            })
        return replace(answer, id=answer_id)

    def _conversation(self, history: History | None) -> str | None:
        for turn in reversed(history or []):
            if turn.get("role") == "assistant":
                with self._lock:
                    return self._conversations.get(_key(str(turn.get("content", ""))))
        return None

    # -- feedback ------------------------------------------------------------------------------
    def feedback(self, answer_id: str, vote: int, reason: str | None = None,
                 comment: str | None = None) -> bool:
        """Record a 👍 (``vote=1``) or 👎 (``-1``) on an answer this log knows the id of; the
        comment is masked and cut to 1,000 characters. A bad vote or reason is a ValueError."""
        if not isinstance(answer_id, str) or not 1 <= len(answer_id) <= 40:
            raise ValueError("answer id must be the id an answer came with")
        if reason is not None and reason not in REASONS:
            raise ValueError(f"reason must be one of {', '.join(REASONS)}")
        text = mask_personal_data(strip_control(comment or "")).strip()[:MAX_COMMENT] or None
        return self.log.feedback(answer_id, vote, reason, text) if self.log else False

    # -- the rest of the surface, as is ----------------------------------------------------------
    def what_if(self, profile: Mapping[str, Any], changes: Mapping[str, Any] | None = None,
                target_band: str | None = None) -> Simulation:
        return self.inner.what_if(profile, changes, target_band)

    def knowledge_entries(self) -> list[Entry]:
        return self.inner.knowledge_entries()

    def find_entries(self, query: str, k: int = 10) -> list[Citation]:
        return self.inner.find_entries(query, k)

    @property
    def ready(self) -> bool:
        return self.inner.ready

    def __getattr__(self, name: str) -> Any:  # wait_ready, components, ... of the assistant
        return getattr(self.inner, name)
