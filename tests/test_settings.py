"""assistant.settings: read once from MINGBAI_* variables, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.settings import DEFAULT_MODEL, Settings


def test_defaults_use_the_user_cache_dir(tmp_path: Path) -> None:
    s = Settings.from_env({"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "c")})
    assert s.home == tmp_path / "c" / "mingbai"
    assert s.embed_model == DEFAULT_MODEL and s.llm is None and s.chroma_url is None
    assert s.model_path() == str(s.home / "models" / DEFAULT_MODEL)


def test_env_overrides(tmp_path: Path) -> None:
    model = tmp_path / "my-model"
    model.mkdir()
    s = Settings.from_env(
        {
            "MINGBAI_HOME": str(tmp_path / "h"),
            "MINGBAI_EMBED_MODEL": str(model),
            "MINGBAI_LLM": "ollama:qwen2.5",
            "MINGBAI_CHROMA_URL": "http://127.0.0.1:8000",
        }
    )
    assert s.home == tmp_path / "h"
    assert s.model_path() == str(model)
    assert s.llm == "ollama:qwen2.5" and s.chroma_url == "http://127.0.0.1:8000"


def test_hub_ids_pass_through() -> None:
    s = Settings.from_env({"MINGBAI_HOME": "/tmp/x", "MINGBAI_EMBED_MODEL": "intfloat/e5-small"})
    assert s.model_path() == "intfloat/e5-small"


def test_bad_llm_setting_says_how_to_fix() -> None:
    with pytest.raises(ConfigError, match="openai:gpt-4o-mini"):
        Settings.from_env({"MINGBAI_HOME": "/tmp/x", "MINGBAI_LLM": "gpt4"})


def test_embed_backend_defaults_to_auto_and_rejects_unknown_values() -> None:
    assert Settings.from_env({"MINGBAI_HOME": "/tmp/x"}).embed_backend == "auto"
    env = {"MINGBAI_HOME": "/tmp/x", "MINGBAI_EMBED_BACKEND": " Torch "}
    assert Settings.from_env(env).embed_backend == "torch"
    with pytest.raises(ConfigError, match=r"MINGBAI_EMBED_BACKEND='gpu'.*auto, onnx, torch"):
        Settings.from_env({"MINGBAI_HOME": "/tmp/x", "MINGBAI_EMBED_BACKEND": "gpu"})
