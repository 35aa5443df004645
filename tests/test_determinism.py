"""The same question gets the same answer alone, in any batch, in any order, on another BLAS
kernel with one thread, and through the HTTP API under concurrent clients — field by field, with
the unrounded ranking scores (docs/decisions.md, "Answers that do not depend on the machine")."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.answer import Answer
from assistant.evaluation.rows import load_rows
from assistant.serialize import answer_json

ROOT = Path(__file__).resolve().parents[1]
EVAL_FILES = sorted((ROOT / "knowledge" / "eval").glob("*.jsonl"))
Question = tuple[str, list[dict[str, str]] | None]

pytestmark = pytest.mark.slow


def _questions() -> list[Question]:
    out: list[Question] = []
    for path in EVAL_FILES:
        for row in load_rows(path).rows:
            out.append((row.question, [dict(m) for m in row.history] or None))
    return out


def _key(answer: Answer | dict[str, Any]) -> dict[str, Any]:
    """What must never change: everything a user or a caller sees, timings aside."""
    data = answer_json(answer) if isinstance(answer, Answer) else dict(answer)
    data.pop("timings", None)
    data.pop("id", None)  # the question log's key: new for every answer
    data["parts"] = [_key(p) for p in data.get("parts") or []]
    data["citations"] = [
        {k: v for k, v in c.items()} for c in data["citations"]
    ]
    data["retrieved"] = [list(r) for r in data["retrieved"]]
    data["notes"] = list(data["notes"])
    return json.loads(json.dumps(data, ensure_ascii=False))


def _raw_scores(bot: Any, questions: list[Question]) -> list[list[tuple[str, float]]]:
    """The unrounded entry scores behind each knowledge answer (float bits, not 4 decimals)."""
    search = bot.components.search
    texts = [q for q, _ in questions]
    results = search.search_many(texts, search.embed_many(texts), k=10)
    return [[(h.entry_id, h.score.hex()) for h in r.hits] for r in results]


@pytest.fixture(scope="module")
def questions() -> list[Question]:
    qs = _questions()
    assert len(qs) >= 800, len(qs)
    return qs


@pytest.fixture(scope="module")
def alone(bot: Any, questions: list[Question]) -> list[dict[str, Any]]:
    return [_key(bot.ask(q, h)) for q, h in questions]


def _batches(n: int, seed: int) -> list[list[int]]:
    """A shuffled order cut into batches of mixed sizes between 1 and 64."""
    rng = random.Random(seed)
    order = list(range(n))
    rng.shuffle(order)
    out, i = [], 0
    while i < n:
        size = rng.choice([1, 2, 7, 16, 17, 33, 64])
        out.append(order[i : i + size])
        i += size
    return out


def test_any_batch_in_any_order_gives_the_answer_asked_alone(
    bot: Any, questions: list[Question], alone: list[dict[str, Any]]
) -> None:
    for seed in (1, 2):
        got: dict[int, dict[str, Any]] = {}
        for batch in _batches(len(questions), seed):
            answers = bot.ask_many(
                [questions[i][0] for i in batch], [questions[i][1] for i in batch]
            )
            got.update({i: _key(a) for i, a in zip(batch, answers, strict=True)})
        diff = [questions[i][0] for i in range(len(questions)) if got[i] != alone[i]]
        assert not diff, f"{len(diff)} answers changed with batching (seed {seed}), e.g. {diff[:3]}"


_SUBPROCESS = r"""
import json, sys
from assistant import Assistant
from assistant.serialize import answer_json
from assistant.settings import Settings
qs = json.load(sys.stdin)
bot = Assistant(Settings.from_env(), build_missing=False)
answers = []
for i in range(0, len(qs), 13):
    part = qs[i:i + 13]
    answers += bot.ask_many([q for q, _ in part], [h for _, h in part])
search = bot.components.search
texts = [q for q, _ in qs]
raw = [[(h.entry_id, h.score.hex()) for h in r.hits]
       for r in search.search_many(texts, search.embed_many(texts), k=10)]
print(json.dumps({"answers": [answer_json(a) for a in answers], "raw": raw}, ensure_ascii=False))
"""


def _other_kernel() -> str:
    """An OpenBLAS kernel this CPU can run other than the one it picks by itself."""
    import platform

    from threadpoolctl import threadpool_info

    native = next((i.get("architecture") for i in threadpool_info()
                   if i.get("internal_api") == "openblas"), "")  # fmt: skip
    if platform.machine() in ("aarch64", "arm64"):
        return "ARMV8" if native != "ARMV8" else "NEOVERSEN1"
    return "Haswell" if native != "Haswell" else "Sandybridge"


@pytest.fixture(scope="module")
def other_kernel_run(
    bot: Any, questions: list[Question], model_path: str, session_home: Path
) -> Iterator[subprocess.Popen[str]]:
    """The same questions answered by another process, started first: it runs on the second core
    while this module's other tests use the first."""
    if shutil.which("taskset") is None:
        pytest.skip("taskset (util-linux) is needed to pin the process to one CPU")
    env = {
        **os.environ, "OPENBLAS_CORETYPE": _other_kernel(), "OPENBLAS_NUM_THREADS": "1",
        "MINGBAI_HOME": str(session_home), "MINGBAI_EMBED_MODEL": model_path,
    }
    proc = subprocess.Popen(
        ["taskset", "-c", str((os.cpu_count() or 1) - 1), sys.executable, "-c", _SUBPROCESS],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd=ROOT,
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(questions, ensure_ascii=False))
    proc.stdin.close()
    yield proc
    if proc.poll() is None:
        proc.kill()


@pytest.fixture(scope="module", autouse=True)
def _start_the_other_kernel_first(other_kernel_run: subprocess.Popen[str]) -> None:
    """Module-wide, so the second process starts before the first test of the module."""


def test_another_blas_kernel_with_one_thread_gives_the_same_answers(
    bot: Any, questions: list[Question], alone: list[dict[str, Any]],
    other_kernel_run: subprocess.Popen[str],
) -> None:
    """OpenBLAS's kernels sum in different orders (the AMD machine's Haswell kernel broke the
    float32 scan); one CPU means one ONNX Runtime thread and one BLAS thread."""
    kernel = _other_kernel()
    assert other_kernel_run.stdout is not None and other_kernel_run.stderr is not None
    stdout, stderr = other_kernel_run.stdout.read(), other_kernel_run.stderr.read()
    other_kernel_run.wait(timeout=600)
    out = subprocess.CompletedProcess(other_kernel_run.args, other_kernel_run.returncode,
                                      stdout, stderr)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads(out.stdout)
    got = [_key(a) for a in data["answers"]]
    diff = [questions[i][0] for i in range(len(questions)) if got[i] != alone[i]]
    assert not diff, f"{len(diff)} answers differ on the {kernel} kernel, e.g. {diff[:3]}"
    raw = [[(i, s) for i, s in row] for row in data["raw"]]
    assert raw == [list(r) for r in _raw_scores(bot, questions)]


def test_http_clients_at_once_get_the_answers_asked_alone(
    server: str, questions: list[Question], alone: list[dict[str, Any]]
) -> None:
    """Through the micro-batching server: which requests share a batch depends on timing."""
    with httpx.Client(base_url=server, timeout=60) as client:

        def ask(i: int) -> dict[str, Any]:
            q, h = questions[i]
            r = client.post("/v1/ask", json={"question": q, "history": h})
            assert r.status_code == 200, r.text
            return _key(r.json())

        order = list(range(len(questions)))
        random.Random(3).shuffle(order)
        with ThreadPoolExecutor(max_workers=12) as pool:
            got = dict(zip(order, pool.map(ask, order), strict=True))
    diff = [questions[i][0] for i in range(len(questions)) if got[i] != alone[i]]
    assert not diff, f"{len(diff)} answers differ through the HTTP API, e.g. {diff[:3]}"
