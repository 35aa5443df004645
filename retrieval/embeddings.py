"""Embedding models behind one small interface.

An :class:`Embedder` turns passages and queries into unit vectors and names itself with a
``fingerprint`` (vectors of two fingerprints are never mixed in one collection). The default wraps
a local sentence-transformers folder (multilingual-e5-small, built by ``mingbai models build``)
and applies the E5 prefixes through the model's ``query``/``passage`` prompts. It is also a
LangChain ``Embeddings``, so LangChain components can use it directly.

sentence-transformers (and torch) are imported only when the model is first used, so opening an
index whose content did not change never pays the 5-7 s import. Answering uses the same model on
ONNX Runtime when the folder has been exported (:mod:`retrieval.onnx_embedder`); pick one with
:func:`retrieval.backends.make_embedder`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from langchain_core.embeddings import Embeddings

from knowledge.errors import ModelNotReadyError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
ModelT = TypeVar("ModelT")


@runtime_checkable
class Embedder(Protocol):
    """What retrieval needs from an embedding model."""

    @property
    def fingerprint(self) -> str:
        """Stable id of the model's weights and prompts (used to name the collection)."""
        ...

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def model_fingerprint(model_path: str) -> str:
    """A short id for a model folder: its build stamp or config files, else the given name.

    Reading a few small files keeps this cheap: no model load is needed to tell whether an
    existing index belongs to this model.
    """
    path = Path(model_path)
    digest = hashlib.sha256()
    stamp = path / "mingbai_build.json"
    if stamp.is_file():
        files = json.loads(stamp.read_text(encoding="utf-8")).get("files", {})
        digest.update(json.dumps(files, sort_keys=True).encode())
    elif path.is_dir():
        for name in ("config.json", "modules.json", "config_sentence_transformers.json"):
            if (path / name).is_file():
                digest.update((path / name).read_bytes())
        for weights in sorted(path.glob("*.safetensors")):
            digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    else:
        digest.update(model_path.encode())
    return digest.hexdigest()[:12]


def model_identity(model_path: str) -> str:
    """The name a model's calibrated thresholds are stored under (assistant.calibration).

    A model built by ``mingbai models build`` is named by what it was built from (its name and
    the source image's hash: the same on every machine, whatever bytes the ONNX export wrote);
    any other folder by its :func:`model_fingerprint`.

    >>> model_identity("/no/such/folder") == model_fingerprint("/no/such/folder")
    True
    """
    stamp = Path(model_path) / "mingbai_build.json"
    if stamp.is_file():
        data = json.loads(stamp.read_text(encoding="utf-8"))
        if data.get("model_name") and data.get("source_sha256"):
            return f"{data['model_name']}-{str(data['source_sha256'])[:12]}"
    return model_fingerprint(model_path)


class LazyEmbedder(Embeddings, Generic[ModelT]):
    """What the backends share: a model folder, its fingerprint, and a thread-safe load-once.

    Subclasses implement ``_load`` (called at most once) and ``_encode``, which honours
    ``batch_size`` and ``query_max_tokens`` (a cap on query length; passages use the model's
    full length); the LangChain ``embed_*`` methods are shared.
    """

    def __init__(
        self, model_path: str, *, batch_size: int = 32, query_max_tokens: int | None = None
    ) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.query_max_tokens = query_max_tokens
        self._fingerprint = model_fingerprint(model_path)
        self._model: ModelT | None = None
        self._lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> ModelT:
        """Load the model once (thread-safe); later calls return it at once."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self) -> ModelT:
        raise NotImplementedError

    def _encode(self, texts: Sequence[str], kind: str) -> list[list[float]]:
        """Vectors of ``texts`` as ``kind`` ("query" or "passage"), in order."""
        raise NotImplementedError

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts, "passage") if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], "query")[0]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Many queries in one call (the micro-batcher and batch evaluation use this).

        Each query runs through the model on its own, exactly as :meth:`embed_query` runs it: a
        padded batch is another computation (other matrix shapes, other kernels' summation order),
        so a question's vector, and with it its answer, could depend on the questions it happened
        to share a batch with. Measured on 2 cores, batching saved nothing for queries anyway
        (ONNX Runtime: 10.1 ms a query alone, 11.4 ms in batches of 16: docs/benchmarks.md).
        """
        return [self._encode([t], "query")[0] for t in texts]


class SentenceTransformerEmbedder(LazyEmbedder["SentenceTransformer"]):
    """A sentence-transformers model loaded by local path (or hub id, for online users).

    >>> emb = SentenceTransformerEmbedder("/path/to/model")  # nothing loaded yet  # doctest: +SKIP
    >>> len(emb.embed_query("借呗是什么"))  # loads on first use  # doctest: +SKIP
    384
    """

    def __init__(
        self,
        model_path: str,
        *,
        batch_size: int = 32,
        device: str = "cpu",
        query_max_tokens: int | None = None,
    ) -> None:
        super().__init__(model_path, batch_size=batch_size, query_max_tokens=query_max_tokens)
        self.device = device
        self._prompts: dict[str, str] = {}

    def _load(self) -> SentenceTransformer:
        local = Path(self.model_path)
        looks_local = local.is_absolute() or self.model_path.startswith((".", "~"))
        if looks_local and not (local / "modules.json").is_file():
            raise ModelNotReadyError(
                f"embedding model folder {local} is missing or incomplete; "
                "run `mingbai models build` (or `make run`), or point MINGBAI_EMBED_MODEL "
                "at a sentence-transformers folder"
            )
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(self.model_path, device=self.device)
        model.eval()
        prompts = dict(getattr(model, "prompts", {}) or {})
        # E5 models need "query: "/"passage: "; other models may define their own or none.
        self._prompts = {k: prompts.get(k, "") for k in ("query", "passage")}
        return model

    def _truncate(self, texts: Sequence[str], prompt: str, max_tokens: int) -> list[str]:
        """Cut texts so that prompt + text fits in ``max_tokens`` (as the ONNX backend does)."""
        tokenizer = self.load().tokenizer
        out = []
        for text in texts:
            enc = tokenizer(
                prompt + text, truncation=True, max_length=max_tokens, return_offsets_mapping=True
            )
            end = max((e for _, e in enc["offset_mapping"]), default=0)
            out.append(text if end >= len(prompt + text) else (prompt + text)[len(prompt) : end])
        return out

    def _encode(self, texts: Sequence[str], kind: str) -> list[list[float]]:
        model = self.load()
        prompt = self._prompts.get(kind) or ""
        if kind == "query" and self.query_max_tokens:
            texts = self._truncate(texts, prompt, self.query_max_tokens)
        vectors: Any = model.encode(
            list(texts),
            prompt=prompt or None,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [v.tolist() for v in vectors]
