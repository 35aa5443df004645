"""Micro-batching for concurrent questions: one embedding call answers many requests.

Under load, requests arriving within a few milliseconds of each other are answered together by
``assistant.ask_many`` (one batched query embedding instead of one per request), on one worker
thread, so torch is never oversubscribed by dozens of request threads on a 2-core machine.

>>> batcher = Batcher(bot)  # doctest: +SKIP
>>> answer = await batcher.ask("花呗是什么", None)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from assistant.answer import Answer

History = Sequence[Mapping[str, str]] | None
MAX_BATCH = 16
WAIT_SECONDS = 0.003  # how long the first request waits for company


@dataclass
class _Job:
    question: str
    history: History
    future: Future[Answer]


class Batcher:
    """Feeds ``assistant.ask_many`` from a queue on a daemon thread (``ask`` if it has none)."""

    def __init__(self, assistant: Any, max_batch: int = MAX_BATCH, wait: float = WAIT_SECONDS):
        self.assistant = assistant
        self.max_batch = max_batch
        self.wait = wait
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="ask-batcher", daemon=True)
        self._thread.start()

    async def ask(self, question: str, history: History) -> Answer:
        job = _Job(question, history, Future())
        self._jobs.put(job)
        return await asyncio.wrap_future(job.future)

    def _loop(self) -> None:
        while True:
            jobs = [self._jobs.get()]
            try:
                while len(jobs) < self.max_batch:
                    jobs.append(self._jobs.get(timeout=self.wait))
            except queue.Empty:
                pass
            self._run(jobs)

    def _run(self, jobs: list[_Job]) -> None:
        ask_many = getattr(self.assistant, "ask_many", None)
        if ask_many is not None and len(jobs) > 1:
            try:
                answers = ask_many([j.question for j in jobs], [j.history for j in jobs])
            except Exception:  # one bad question must not fail the others: go one by one
                pass
            else:
                for job, answer in zip(jobs, answers, strict=True):
                    job.future.set_result(answer)
                return
        for job in jobs:
            try:
                job.future.set_result(self.assistant.ask(job.question, job.history))
            except Exception as exc:  # delivered to the request that caused it
                job.future.set_exception(exc)
