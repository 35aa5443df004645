"""ui.batching: concurrent questions share one ask_many call; one bad question fails alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence

import pytest

from assistant.answer import Answer
from ui.batching import Batcher


class Recorder:
    def __init__(self) -> None:
        self.batches: list[int] = []
        self.gate = threading.Event()

    def ask(self, question: str, history: Sequence[Mapping[str, str]] | None = None) -> Answer:
        if not question.strip():
            raise ValueError("question is empty")
        return Answer(f"A:{question}:{len(history or [])}", "knowledge", [], False, None, "en")

    def ask_many(self, questions: Sequence[str], histories: Sequence[object]) -> list[Answer]:
        self.gate.wait(5)  # hold the first batch so the others pile up
        self.batches.append(len(questions))
        return [self.ask(q, h) for q, h in zip(questions, histories, strict=True)]  # type: ignore[arg-type]


async def test_concurrent_requests_are_batched_in_order() -> None:
    rec = Recorder()
    batcher = Batcher(rec, max_batch=8, wait=0.05)
    tasks = [asyncio.create_task(batcher.ask(f"q{i}", [{"role": "user", "content": "x"}]))
             for i in range(12)]
    await asyncio.sleep(0.2)
    rec.gate.set()
    answers = await asyncio.gather(*tasks)
    assert [a.text for a in answers] == [f"A:q{i}:1" for i in range(12)]
    assert sum(rec.batches) == 12 and max(rec.batches) > 1


async def test_a_bad_question_fails_only_its_own_request() -> None:
    rec = Recorder()
    rec.gate.set()
    batcher = Batcher(rec, wait=0.05)
    good, bad = await asyncio.gather(batcher.ask("fine", None), batcher.ask("  ", None),
                                     return_exceptions=True)
    assert isinstance(good, Answer) and good.text == "A:fine:0"
    assert isinstance(bad, ValueError)


async def test_assistants_without_ask_many_work() -> None:
    class Plain:
        def ask(self, question: str, history: object = None) -> Answer:
            return Answer(question, "knowledge", [], False, None, "en")

    batcher = Batcher(Plain())
    assert (await batcher.ask("hi", None)).text == "hi"
    with pytest.raises(AttributeError):
        Plain().ask_many  # type: ignore[attr-defined]  # noqa: B018
