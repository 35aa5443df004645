"""retrieval.onnx_embedder and make_embedder: the ONNX path gives sentence-transformers' vectors.

The real model is used (built by `make test` before pytest); the torch side is the fallback
backend, so agreement is checked on the evaluation questions, long passages and capped queries.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import EMBED_BACKENDS
from knowledge.errors import ConfigError, ModelNotReadyError
from retrieval.backends import BACKENDS, make_embedder
from retrieval.embeddings import SentenceTransformerEmbedder, model_fingerprint
from retrieval.onnx_embedder import ONNX_FILE, OnnxEmbedder, has_onnx

pytestmark = pytest.mark.slow
FAQ = Path(__file__).resolve().parents[1] / "knowledge" / "eval" / "faq.jsonl"
MIN_COSINE = 0.99999


def _questions(n: int = 120) -> list[str]:
    rows = [json.loads(line) for line in FAQ.read_text(encoding="utf-8").splitlines()]
    return [r["question"] for r in rows[:: max(1, len(rows) // n)]][:n]


def _min_cosine(a: list[list[float]], b: list[list[float]]) -> float:
    x, y = np.asarray(a), np.asarray(b)
    return float((x * y).sum(axis=1).min())


def test_queries_match_sentence_transformers(
    real_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    assert isinstance(real_embedder, OnnxEmbedder)
    qs = _questions()
    assert _min_cosine(real_embedder.embed_queries(qs), torch_embedder.embed_queries(qs)) >= (
        MIN_COSINE
    )
    one = real_embedder.embed_query(qs[0])
    assert _min_cosine([one], [torch_embedder.embed_query(qs[0])]) >= MIN_COSINE


def test_passages_match_including_ones_longer_than_the_model(
    real_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    texts = ["借呗额度" * 400, "Huabei repayment " * 300, "花呗", "", " ".join(_questions(30))]
    assert _min_cosine(
        real_embedder.embed_documents(texts), torch_embedder.embed_documents(texts)
    ) >= MIN_COSINE


def test_long_queries_are_capped_the_same_way_by_both_backends(
    real_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    cap = real_embedder.query_max_tokens
    assert cap and cap < 512
    head = "我在闲鱼卖东西，买家说要先开通借呗才能收款，这是真的吗？" * 6
    long_q = head + "The weather in Hangzhou was lovely and we played football all day. " * 40
    capped = real_embedder.embed_query(long_q)
    assert _min_cosine([capped], [torch_embedder.embed_query(long_q)]) >= MIN_COSINE
    # the cap really applies: the vector is the one of the first `cap` tokens
    pipe = real_embedder.load()
    n = len(pipe.encode_tokens(pipe.prompts["query"] + long_q, cap).ids)
    assert n == cap
    uncapped = OnnxEmbedder(real_embedder.model_path).embed_query(long_q)
    assert _min_cosine([capped], [uncapped]) < 0.9999  # more text, another vector


def test_both_backends_share_one_fingerprint(model_path: str) -> None:
    onnx = make_embedder(model_path, "onnx")
    torch = make_embedder(model_path, "torch")
    assert onnx.fingerprint == torch.fingerprint == model_fingerprint(model_path)


def test_make_embedder_picks_onnx_when_exported_and_torch_otherwise(
    model_path: str, tmp_path: Path
) -> None:
    assert has_onnx(model_path)
    assert isinstance(make_embedder(model_path), OnnxEmbedder)
    assert isinstance(make_embedder(model_path, "torch"), SentenceTransformerEmbedder)
    bare = tmp_path / "bare"
    bare.mkdir()
    assert isinstance(make_embedder(str(bare)), SentenceTransformerEmbedder)
    with pytest.raises(ConfigError, match="valid backends: auto, onnx, torch"):
        make_embedder(model_path, "gpu")
    assert tuple(BACKENDS) == EMBED_BACKENDS  # the setting accepts exactly the registry's names


def test_missing_onnx_file_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ModelNotReadyError, match=r"mingbai models build.*MINGBAI_EMBED_BACKEND"):
        OnnxEmbedder(str(tmp_path)).embed_query("借呗")
    with pytest.raises(ModelNotReadyError, match=r"no onnx/model.onnx.*mingbai models build"):
        make_embedder(str(tmp_path), "onnx")  # refused at start, not on the first question


def test_unsupported_pooling_is_refused_with_the_fallback_named(
    model_path: str, tmp_path: Path
) -> None:
    folder = tmp_path / "cls-model"
    folder.mkdir()
    for name in ("modules.json", "tokenizer.json", "config_sentence_transformers.json"):
        shutil.copy(Path(model_path) / name, folder / name)
    (folder / "onnx").mkdir()
    (folder / ONNX_FILE).symlink_to(Path(model_path) / ONNX_FILE)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode": "cls"}')
    with pytest.raises(ModelNotReadyError, match=r"mean pooling.*MINGBAI_EMBED_BACKEND=torch"):
        OnnxEmbedder(str(folder)).embed_query("借呗")


def test_concurrent_callers_get_the_serial_answers(real_embedder: OnnxEmbedder) -> None:
    qs = _questions(24)
    want = real_embedder.embed_queries(qs)
    got: dict[int, list[list[float]]] = {}

    def work(i: int) -> None:
        got[i] = real_embedder.embed_queries(qs[i::4])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        assert _min_cosine(got[i], want[i::4]) >= 0.999999


def test_answering_a_question_never_imports_torch(model_path: str) -> None:
    code = (
        "import sys\n"
        "from retrieval.backends import make_embedder\n"
        f"e = make_embedder({model_path!r})\n"
        "assert len(e.embed_query('借呗是什么')) == 384\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[1], check=True,
    )
    assert out.stdout.strip() == "[]", out.stderr[-2000:]


def test_an_incomplete_folder_names_the_rebuild(model_path: str, tmp_path: Path) -> None:
    folder = tmp_path / "no-modules"
    (folder / "onnx").mkdir(parents=True)
    (folder / ONNX_FILE).symlink_to(Path(model_path) / ONNX_FILE)
    shutil.copy(Path(model_path) / "tokenizer.json", folder / "tokenizer.json")
    with pytest.raises(ModelNotReadyError, match=r"modules.json.*mingbai models build --force"):
        OnnxEmbedder(str(folder)).embed_query("借呗")
