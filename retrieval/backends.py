"""Which embedder answers for a model folder: the backends by name, in one registry.

``auto`` takes ONNX Runtime when the folder has an exported ``onnx/model.onnx`` and
sentence-transformers on torch otherwise; ``onnx`` and ``torch`` force one. Both give the same
vectors (checked when the model is built) and share one fingerprint, so an index built by one is
searched by the other. This module sits above both backends, so neither imports the other.

>>> sorted(BACKENDS)
['auto', 'onnx', 'torch']
"""

from __future__ import annotations

from collections.abc import Callable

from knowledge.errors import ConfigError, ModelNotReadyError
from retrieval.embeddings import Embedder, SentenceTransformerEmbedder
from retrieval.onnx_embedder import OnnxEmbedder, has_onnx


def _onnx(model_path: str, query_max_tokens: int | None) -> Embedder:
    if not has_onnx(model_path):
        raise ModelNotReadyError(
            f"MINGBAI_EMBED_BACKEND=onnx but {model_path} has no onnx/model.onnx; run "
            "`mingbai models build` (the bundled model), or use MINGBAI_EMBED_BACKEND=auto"
        )
    return OnnxEmbedder(model_path, query_max_tokens=query_max_tokens)


def _torch(model_path: str, query_max_tokens: int | None) -> Embedder:
    return SentenceTransformerEmbedder(model_path, query_max_tokens=query_max_tokens)


def _auto(model_path: str, query_max_tokens: int | None) -> Embedder:
    maker = _onnx if has_onnx(model_path) else _torch
    return maker(model_path, query_max_tokens)


BACKENDS: dict[str, Callable[[str, int | None], Embedder]] = {
    "auto": _auto, "onnx": _onnx, "torch": _torch,
}  # fmt: skip


def make_embedder(
    model_path: str, backend: str = "auto", *, query_max_tokens: int | None = None
) -> Embedder:
    """The embedder for ``model_path`` through ``backend`` (a name in :data:`BACKENDS`)."""
    if backend not in BACKENDS:
        raise ConfigError(
            f"unknown embedding backend {backend!r}; valid backends: {', '.join(BACKENDS)} "
            "(MINGBAI_EMBED_BACKEND)", field="backend",
        )  # fmt: skip
    return BACKENDS[backend](model_path, query_max_tokens)
