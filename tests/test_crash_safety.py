"""Killing `mingbai index` (SIGKILL) mid-way keeps the previous index serving; the next run
completes. Two runs at once: the second fails with a clear message instead of interleaving."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.factory import build_components
from assistant.settings import Settings
from knowledge.loader import ENTRIES_DIR, load_knowledge
from retrieval.embeddings import SentenceTransformerEmbedder

pytestmark = pytest.mark.slow
MINGBAI = str(Path(sys.executable).parent / "mingbai")
_FILES = sorted(ENTRIES_DIR.rglob("*.md"), key=lambda p: p.name)
FIRST = [p.name for p in _FILES[:12]]
LATER = [p.name for p in _FILES[12:40]]
_PATHS = {p.name: p for p in _FILES}


def _index(env: dict[str, str], kb: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MINGBAI, "index", "--knowledge", str(kb), *extra], env=env,
                          capture_output=True, text=True, timeout=600)


def _kill_after(env: dict[str, str], kb: Path, batches: int) -> int:
    """Start an index run and SIGKILL it once it has written ``batches`` batches."""
    proc = subprocess.Popen([MINGBAI, "index", "--knowledge", str(kb)], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    seen = 0
    for line in proc.stderr:
        if line.startswith("indexed "):
            seen += 1
            if seen >= batches:
                os.kill(proc.pid, signal.SIGKILL)
                break
    proc.wait(timeout=60)
    return seen


def _assert_serves(
    home: Path, kb: Path, embedder: SentenceTransformerEmbedder, names: list[str]
) -> None:
    """Every entry of ``names`` (ids from file names) is still found by its title."""
    c = build_components(Settings(home=home), knowledge_dir=kb, embedder=embedder,
                         build_missing=False, warm=False)
    for entry in (c.entries[name.removesuffix(".md")] for name in names):
        hits = c.search.search(entry.title_zh, k=3).hits
        assert entry.id in [h.entry_id for h in hits], entry.id


def test_sigkill_mid_run_keeps_serving_and_next_run_completes(
    tmp_path: Path, model_path: str, real_embedder: SentenceTransformerEmbedder
) -> None:
    kb, home = tmp_path / "kb", tmp_path / "home"
    kb.mkdir()
    for name in FIRST:
        shutil.copy(_PATHS[name], kb)
    env = {**os.environ, "MINGBAI_HOME": str(home), "MINGBAI_EMBED_MODEL": model_path}
    assert _index(env, kb).returncode == 0

    # A big update: every old entry changes and many are added.
    for name in FIRST:
        path = kb / name
        path.write_text(path.read_text(encoding="utf-8") + "\n- Check the app.\n", "utf-8")
    for name in LATER:
        shutil.copy(_PATHS[name], kb)

    for batches in (1, 3):
        assert _kill_after(env, kb, batches) == batches
        _assert_serves(home, kb, real_embedder, FIRST)  # the previous index still serves

    done = _index(env, kb)
    assert done.returncode == 0, done.stderr
    again = _index(env, kb)
    assert "0 chunks written" in again.stdout
    assert f"{len(FIRST) + len(LATER)} unchanged" in again.stdout
    _assert_serves(home, kb, real_embedder, FIRST + LATER)


def test_second_concurrent_run_fails_clearly(tmp_path: Path, model_path: str) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    for name in FIRST + LATER:
        shutil.copy(_PATHS[name], kb)
    env = {**os.environ, "MINGBAI_HOME": str(tmp_path / "home"), "MINGBAI_EMBED_MODEL": model_path}
    first = subprocess.Popen([MINGBAI, "index", "--knowledge", str(kb)], env=env,
                             stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert first.stderr is not None
    for line in first.stderr:  # wait until it is writing (and so holds the lock)
        if line.startswith("indexed "):
            break
    second = _index(env, kb, "--wait", "0.5")
    assert second.returncode == 1
    assert "another `mingbai index` run" in second.stderr
    assert second.stderr.strip().count("\n") == 0  # one line
    first.stderr.read()
    assert first.wait(timeout=600) == 0
    assert "0 chunks written" in _index(env, kb).stdout


def test_entry_hash_versions_are_independent() -> None:
    e = load_knowledge().entries[0]
    assert replace(e, title_zh="x").content_hash != e.content_hash
