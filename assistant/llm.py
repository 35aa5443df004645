"""Optional LLM rewriting, through LangChain chat models (``MINGBAI_LLM=openai:MODEL`` or
``ollama:MODEL``). The LLM only rewrites the retrieved entries; citations are added by code, and
the grounded text is used whenever the model fails. A new backend is one registry entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.composer import ComposeInput, GroundedComposer
from knowledge.errors import ConfigError

log = logging.getLogger("mingbai.llm")
PROMPT_PATH = Path(__file__).resolve().parent / "prompts" / "rewrite.yaml"


def _openai(model: str) -> Any:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise ConfigError("MINGBAI_LLM=openai:… needs `pip install 'mingbai[llm]'`") from exc
    return ChatOpenAI(model=model, temperature=0)


def _ollama(model: str) -> Any:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise ConfigError("MINGBAI_LLM=ollama:… needs `pip install 'mingbai[llm]'`") from exc
    return ChatOllama(model=model, temperature=0)


BACKENDS: dict[str, Callable[[str], Any]] = {"openai": _openai, "ollama": _ollama}


def chat_model_from_spec(spec: str) -> Any:
    """``"openai:gpt-4o-mini"`` → a LangChain chat model; unknown backends list the valid ones."""
    backend, _, model = spec.partition(":")
    if backend not in BACKENDS or not model:
        raise ConfigError(
            f"MINGBAI_LLM={spec!r}: backend must be one of {sorted(BACKENDS)} followed by "
            "':MODEL', e.g. 'openai:gpt-4o-mini'"
        )
    return BACKENDS[backend](model)


@lru_cache(maxsize=1)
def _prompt() -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load(PROMPT_PATH.read_text(encoding="utf-8"))
    return data


class LLMComposer:
    """Rewrites the grounded answer with a chat model; falls back to it on any model error."""

    def __init__(self, chat_model: Any) -> None:
        self.chat_model = chat_model
        self.fallback = GroundedComposer()

    def messages(self, data: ComposeInput) -> list[tuple[str, str]]:
        prompt = _prompt()
        entries = "\n".join(
            f"[{i}] {e.title(data.lang)}\n{e.section(data.lang).text()}"
            for i, e in enumerate(data.entries, 1)
        )
        language = "Simplified Chinese" if data.lang == "zh" else "English"
        return [
            ("system", prompt["system"].format(language_name=language)),
            (
                "human",
                prompt["user"].format(
                    question=data.question.replace("<", "‹").replace(">", "›"),
                    entries=entries,
                    scam_warning=data.scam_warning or "",
                ),
            ),
        ]

    def compose(self, data: ComposeInput) -> str:
        if data.choice:  # a question back, not an answer to rewrite
            return self.fallback.compose(data)
        try:
            reply = self.chat_model.invoke(self.messages(data))
            text = str(getattr(reply, "content", reply)).strip()
        except Exception as exc:  # the model is outside our control: never fail the answer
            log.warning("LLM rewrite failed (%s); using the grounded answer", type(exc).__name__)
            return self.fallback.compose(data)
        if not text:
            return self.fallback.compose(data)
        if data.scam_warning and data.scam_warning not in text:
            text = f"{data.scam_warning}\n\n{text}"
        return text
