"""Query-time embeddings with ONNX Runtime: the same model, without importing torch.

``mingbai models build`` exports the sentence-transformers folder's BERT to ``onnx/model.onnx``
(the file layout sentence-transformers' own ONNX backend uses) and checks that this embedder gives
the same vectors as sentence-transformers (:mod:`retrieval.onnx_export`). Answering a question then
needs only ``onnxruntime``, ``tokenizers`` and ``numpy``: a fresh process is ready in ~2 s instead
of ~7 s (``import sentence_transformers`` alone pulls torch, transformers, scikit-learn and SciPy),
and a single short query embeds ~2x faster on 2 cores (docs/benchmarks.md).

The pipeline is the folder's own, read from its config files: tokenizer.json (truncated to the
model's maximum length), the ``query``/``passage`` prompts, mean pooling over the attention mask
and L2 normalisation. Folders with another pooling are refused with a message naming the torch
backend.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.errors import ModelNotReadyError
from retrieval.embeddings import LazyEmbedder

if TYPE_CHECKING:
    import numpy as np
    import onnxruntime
    from tokenizers import Encoding, Tokenizer

ONNX_FILE = "onnx/model.onnx"


def has_onnx(model_path: str) -> bool:
    """True when ``model_path`` is a local folder with an exported ONNX model."""
    return (Path(model_path) / ONNX_FILE).is_file()


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class _Pipeline:
    """Everything loaded from the folder; immutable after construction (safe across threads)."""

    def __init__(self, folder: Path, threads: int) -> None:
        import numpy
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.np = numpy
        config = _read_folder_config(folder)
        self.prompts: dict[str, str] = config["prompts"]
        self.max_tokens: int = config["max_tokens"]
        self.normalize: bool = config["normalize"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning worker threads steal the second core from the rest of the request (as
        # OMP_WAIT_POLICY=ACTIVE did for torch): let them sleep.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session: onnxruntime.InferenceSession = ort.InferenceSession(
            str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer: Tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.specials = self.tokenizer.num_special_tokens_to_add(False)

    def encode_tokens(self, text: str, max_tokens: int) -> Encoding:
        """Token ids as sentence-transformers makes them: truncated to ``max_tokens`` in all."""
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        if len(enc.ids) > max_tokens - self.specials:
            enc.truncate(max_tokens - self.specials)
        return self.tokenizer.post_process(enc)

    def embed(self, texts: Sequence[str], max_tokens: int, batch_size: int) -> np.ndarray:
        np = self.np
        encodings = [self.encode_tokens(t, max_tokens) for t in texts]
        out = np.empty((len(texts), 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))  # less padding
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feed)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            if self.normalize:
                norms = np.linalg.norm(pooled, axis=1, keepdims=True)
                pooled = pooled / np.clip(norms, 1e-12, None)
            if out.shape[1] == 0:
                out = np.empty((len(texts), pooled.shape[1]), dtype=np.float32)
            out[rows] = pooled
        return out


@lru_cache(maxsize=4)
def _pool(workers: int) -> ThreadPoolExecutor:
    """The threads that run queries side by side (shared by every embedder of the process)."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="embed")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotReadyError(
            f"cannot read {path} ({exc}); rebuild the model with `mingbai models build --force`"
        ) from exc


def _read_folder_config(folder: Path) -> dict[str, Any]:
    """Prompts, pooling, normalisation and maximum length from a sentence-transformers folder."""
    modules = _read_json(folder / "modules.json")
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    pooling_dirs = [m["path"] for m in modules if str(m.get("type", "")).endswith(".Pooling")]
    if kinds[:2] != ["Transformer", "Pooling"] or not pooling_dirs:
        raise ModelNotReadyError(
            f"{folder} is a {' -> '.join(kinds)} model; the ONNX backend supports Transformer -> "
            "Pooling (-> Normalize) only: set MINGBAI_EMBED_BACKEND=torch"
        )
    pooling = _read_json(folder / pooling_dirs[0] / "config.json")
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens")
    if not mean or pooling.get("include_prompt") is False:
        raise ModelNotReadyError(
            f"{folder} pools with {pooling}; the ONNX backend supports mean pooling over all "
            "tokens only: set MINGBAI_EMBED_BACKEND=torch"
        )
    st_config = folder / "config_sentence_transformers.json"
    prompts = _read_json(st_config).get("prompts", {}) if st_config.is_file() else {}
    limits = [
        _read_json(folder / name).get(key)
        for name, key in (
            ("sentence_bert_config.json", "max_seq_length"),
            ("tokenizer_config.json", "model_max_length"),
            ("config.json", "max_position_embeddings"),
        )
        if (folder / name).is_file()
    ]
    return {
        "prompts": {k: str(prompts.get(k) or "") for k in ("query", "passage")},
        "max_tokens": min(int(v) for v in limits if isinstance(v, int) and v > 0),
        "normalize": "Normalize" in kinds,
    }


class OnnxEmbedder(LazyEmbedder[_Pipeline]):
    """A sentence-transformers folder's model run by ONNX Runtime (loaded on first use).

    ``query_max_tokens`` caps query length (questions are short; a 2,000-character paste would
    otherwise take ~0.2 s to embed). Passages use the model's full length.

    ``batch_size`` is small on purpose: on 2 cores a batch of 8 similar-length chunks embeds
    about 15% faster than a batch of 32 (the activations of a small batch stay in cache), and
    the index is built about that much sooner (docs/benchmarks.md).

    >>> emb = OnnxEmbedder("/path/to/model")  # nothing loaded yet  # doctest: +SKIP
    >>> len(emb.embed_query("借呗是什么"))  # loads on first use  # doctest: +SKIP
    384
    """

    def __init__(
        self,
        model_path: str,
        *,
        batch_size: int = 8,
        threads: int | None = None,
        query_max_tokens: int | None = None,
    ) -> None:
        super().__init__(model_path, batch_size=batch_size, query_max_tokens=query_max_tokens)
        self.threads = threads or _cpu_count()
        self.parallel = min(2, _cpu_count())

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Each query on its own (its vector never depends on its neighbours), two at a time:
        ONNX Runtime sessions run concurrently, and two single queries in parallel cost 7.8 ms a
        query against 10.6 ms one after the other on 2 cores (docs/benchmarks.md)."""
        if len(texts) < 2 or self.parallel < 2:
            return super().embed_queries(texts)
        self.load()
        return list(_pool(self.parallel).map(self.embed_query, texts))

    def _load(self) -> _Pipeline:
        folder = Path(self.model_path)
        if not has_onnx(self.model_path) or not (folder / "tokenizer.json").is_file():
            raise ModelNotReadyError(
                f"no ONNX model at {folder / ONNX_FILE}; run `mingbai models build` "
                "(or `make run`), or set MINGBAI_EMBED_BACKEND=torch"
            )
        return _Pipeline(folder, self.threads)

    def _encode(self, texts: Sequence[str], kind: str) -> list[list[float]]:
        pipe = self.load()
        prompt = pipe.prompts.get(kind, "")
        limit = pipe.max_tokens
        if kind == "query" and self.query_max_tokens:
            limit = min(limit, self.query_max_tokens)
        vectors = pipe.embed([prompt + t for t in texts], limit, self.batch_size)
        return [v.tolist() for v in vectors]
