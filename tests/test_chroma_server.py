"""MINGBAI_CHROMA_URL: a real `chroma run` server on 127.0.0.1 gives the same answers as the
embedded store, on the whole evaluation set."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.bot import Assistant
from assistant.factory import build_components
from assistant.settings import Settings
from tests.conftest import free_port

pytestmark = pytest.mark.slow
FAQ = Path(__file__).resolve().parents[1] / "knowledge" / "eval" / "faq.jsonl"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = str(Path(sys.executable).parent / "chroma")
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        else:
            pytest.fail("chroma server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server_bot(chroma_url: str, real_embedder, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path_factory.mktemp("home-server"), chroma_url=chroma_url)
    return Assistant(components=build_components(settings, embedder=real_embedder))


def test_index_lives_in_the_server(server_bot, chroma_url: str) -> None:  # type: ignore[no-untyped-def]
    import chromadb

    store = server_bot.components.search.store
    client = chromadb.HttpClient(host="127.0.0.1", port=int(chroma_url.rsplit(":", 1)[1]))
    assert store.name in {c.name for c in client.list_collections()}
    assert store.count() > 1000


def test_answers_are_identical_to_the_embedded_store(server_bot, bot) -> None:  # type: ignore[no-untyped-def]
    rows = [json.loads(line) for line in FAQ.read_text(encoding="utf-8").splitlines() if line]
    questions = [r["question"] for r in rows]
    histories = [r.get("history") for r in rows]
    remote = server_bot.ask_many(questions, histories)
    local = bot.ask_many(questions, histories)
    for q, a, b in zip(questions, remote, local, strict=True):
        assert (a.text, a.route, a.abstained) == (b.text, b.route, b.abstained), q
        assert [c.doc_id for c in a.citations] == [c.doc_id for c in b.citations], q


def test_second_assistant_sees_the_index_without_rebuilding(
    chroma_url: str, real_embedder, tmp_path_factory: pytest.TempPathFactory,
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path_factory.mktemp("replica"), chroma_url=chroma_url)
    replica = build_components(settings, embedder=real_embedder, build_missing=False, warm=False)
    assert replica.search.search("花呗怎么提额").hits[0].entry_id == "huabei-raise-limit"
