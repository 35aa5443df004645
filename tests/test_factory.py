"""assistant.factory: wiring, and refusing to serve from a missing or foreign index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import IndexNotReadyError, ModelNotReadyError
from assistant.factory import build_components, load_answering_rules
from assistant.settings import Settings
from knowledge.loader import entry_file, load_knowledge
from retrieval.indexer import update_index
from retrieval.store import ChunkStore, StoreLocation
from tests.conftest import HashEmbedder


def test_answering_rules_load_from_data() -> None:
    rules = load_answering_rules()
    assert set(rules.abstain_below) == {"zh", "en"}
    assert 0.5 < rules.abstain_below["zh"] < rules.unknown_word_below["zh"] < 1
    assert rules.search.lexical_weight >= 0


def test_refuses_a_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotReadyError, match="run `mingbai index`"):
        build_components(
            Settings(home=tmp_path), build_missing=False, embedder=HashEmbedder(), warm=False
        )


def test_refuses_an_index_of_another_model(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    old = ChunkStore(StoreLocation(settings.index_dir / "chroma"), HashEmbedder("old-model"))
    update_index(old, load_knowledge().entries[:2], lock_path=tmp_path / "lock")
    with pytest.raises(IndexNotReadyError, match="another embedding model"):
        build_components(settings, build_missing=False, embedder=HashEmbedder("new"), warm=False)


def test_refuses_a_missing_model(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, embed_model=str(tmp_path))  # an empty folder
    with pytest.raises(ModelNotReadyError, match="mingbai models build"):
        build_components(settings, build_missing=False, warm=False)


def test_builds_what_is_missing_and_warns_when_stale(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    kb = tmp_path / "kb"
    kb.mkdir()
    for name in ("huabei-what-is-huabei", "about-mingbai"):
        (kb / f"{name}.md").write_text(entry_file(name).read_text(encoding="utf-8"), "utf-8")
    settings = Settings(home=tmp_path / "home")
    emb = HashEmbedder()
    c = build_components(settings, knowledge_dir=kb, embedder=emb, warm=False)
    assert c.index_report is not None and sorted(c.index_report.added) == [
        "about-mingbai",
        "huabei-what-is-huabei",
    ]
    (kb / "about-mingbai.md").unlink()
    build_components(settings, knowledge_dir=kb, embedder=emb, warm=False, build_missing=False)
    assert "out of date" in caplog.text


def test_an_index_left_complete_is_checked_without_reading_every_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Start-up checks the index against the entries; when the last complete index run left
    exactly these entries, that is known without reading every chunk's metadata (~0.3 s)."""
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "about-mingbai.md").write_text(entry_file("about-mingbai").read_text("utf-8"), "utf-8")
    settings = Settings(home=tmp_path / "home")
    build_components(settings, knowledge_dir=kb, embedder=HashEmbedder(), warm=False)

    def no_manifest(*_: object) -> None:
        raise AssertionError("every chunk's metadata was read")

    monkeypatch.setattr(ChunkStore, "manifest", no_manifest)
    build_components(settings, knowledge_dir=kb, embedder=HashEmbedder(), warm=False,
                     build_missing=False)
    assert "out of date" not in caplog.text


@pytest.mark.slow
def test_a_process_may_exit_right_after_creating_the_assistant(
    bot, model_path: str, session_home: Path  # type: ignore[no-untyped-def]
) -> None:
    """The model loads in a background thread; exiting before it finishes must be clean
    (a daemon thread killed inside ONNX Runtime used to abort the process: exit code 134)."""
    env = {**os.environ, "MINGBAI_HOME": str(session_home), "MINGBAI_EMBED_MODEL": model_path}
    code = "from assistant import Assistant; Assistant(build_missing=False)"
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
            cwd=Path(__file__).resolve().parents[1],
        )
        assert done.returncode == 0, done.stderr[-2000:]


class _LoadsOnFirstQuery(HashEmbedder):
    loaded = False

    def embed_query(self, text: str) -> list[float]:
        self.loaded = True
        return super().embed_query(text)


def test_a_server_starts_the_model_load_when_it_chooses(tmp_path: Path) -> None:
    """``load_model=False``: built and warm, but the model is not loaded until the server calls
    load_model_in_background (after its page is built); the default starts it at once."""
    import threading

    from assistant.factory import load_model_in_background

    def join_warm_up() -> None:
        for thread in threading.enumerate():
            if thread.name == "warm-up":
                thread.join(timeout=30)

    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "about-mingbai.md").write_text(entry_file("about-mingbai").read_text("utf-8"), "utf-8")
    later = _LoadsOnFirstQuery()
    build_components(Settings(home=tmp_path / "a"), knowledge_dir=kb, embedder=later,
                     load_model=False)  # fmt: skip
    join_warm_up()
    assert not later.loaded
    load_model_in_background(later)
    join_warm_up()
    assert later.loaded
    now = _LoadsOnFirstQuery()
    build_components(Settings(home=tmp_path / "b"), knowledge_dir=kb, embedder=now)
    join_warm_up()
    assert now.loaded
