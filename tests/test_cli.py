"""assistant.cli: help, exit codes (0 ok, 1 failure, 2 usage) and one-line messages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from knowledge.loader import entry_file
from ui.cli import app

runner = CliRunner()
MINGBAI = str(Path(sys.executable).parent / "mingbai")


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("ask", "chat", "index", "models", "what-if"):
        assert command in result.output


@pytest.mark.parametrize("command", ["ask", "chat", "index", "what-if"])
def test_every_command_has_help(command: str) -> None:
    assert runner.invoke(app, [command, "--help"]).exit_code == 0


def test_unknown_command_is_a_usage_error() -> None:
    assert runner.invoke(app, ["nonsense"]).exit_code == 2


def _env(home: Path, model_path: str) -> dict[str, str]:
    return {**os.environ, "MINGBAI_HOME": str(home), "MINGBAI_EMBED_MODEL": model_path}


@pytest.mark.slow
def test_index_strict_fails_on_an_invalid_entry(tmp_path: Path, model_path: str) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    shutil.copy(entry_file("huabei-what-is-huabei"), kb)
    (kb / "broken.md").write_text("---\nid: broken\ntags: [a\n---\n", encoding="utf-8")
    env = _env(tmp_path / "home", model_path)
    args = [MINGBAI, "index", "--knowledge", str(kb)]
    lenient = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert lenient.returncode == 0, lenient.stderr
    assert "1 added" in lenient.stdout and "broken.md:3" in lenient.stderr
    strict = subprocess.run([*args, "--strict"], env=env, capture_output=True, text=True)
    assert strict.returncode == 1
    assert strict.stderr.strip().splitlines()[-1].startswith("error: 1 invalid knowledge entries")
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert "0 chunks written" in again.stdout


@pytest.mark.slow
def test_ask_json_and_chat_end_to_end(bot, model_path: str, session_home: Path) -> None:  # type: ignore[no-untyped-def]
    env = _env(session_home, model_path)  # the index the `bot` fixture built
    out = subprocess.run(
        [MINGBAI, "ask", "Does buying on Xianyu open Jiebei?", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["route"] == "knowledge" and data["language"] == "en"
    assert data["citations"][0]["doc_id"] == "xianyu-buying-does-not-open-jiebei"

    empty = subprocess.run([MINGBAI, "ask", "  "], env=env, capture_output=True, text=True)
    assert empty.returncode == 2 and "question is empty" in empty.stderr

    chat = subprocess.run(
        [MINGBAI, "chat"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        input="借呗逾期了会怎样\n那花呗呢?\nexit\n",
    )
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.count("明白>") == 2
    assert "花呗" in chat.stdout.split("明白>")[2]


def test_serve_refuses_without_an_index_and_says_what_to_run(
    tmp_path: Path, model_path: str
) -> None:
    env = _env(tmp_path / "empty-home", model_path)
    out = subprocess.run([MINGBAI, "serve", "--port", "1"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1].startswith("error: no search index found; run")
