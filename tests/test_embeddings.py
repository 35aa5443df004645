"""retrieval.embeddings: the LangChain standard suites on the real model (both backends), plus
our additions. ONNX-specific behaviour is in test_onnx_embedder.py."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from knowledge.errors import ModelNotReadyError
from retrieval.embeddings import SentenceTransformerEmbedder, model_fingerprint
from retrieval.onnx_embedder import OnnxEmbedder

pytestmark = pytest.mark.slow


class _Params:
    built_model_path: str = ""

    @pytest.fixture(autouse=True)
    def _built_model(self, model_path: str) -> None:
        type(self).built_model_path = model_path

    @property
    def embeddings_class(self) -> type[SentenceTransformerEmbedder]:
        return SentenceTransformerEmbedder

    @property
    def embedding_model_params(self) -> dict[str, str]:
        return {"model_path": type(self).built_model_path}


class TestStandardUnit(_Params, EmbeddingsUnitTests):
    pass


class TestStandardIntegration(_Params, EmbeddingsIntegrationTests):
    pass


class _OnnxParams(_Params):
    @property
    def embeddings_class(self) -> type[OnnxEmbedder]:  # type: ignore[override]
        return OnnxEmbedder


class TestOnnxStandardUnit(_OnnxParams, EmbeddingsUnitTests):
    pass


class TestOnnxStandardIntegration(_OnnxParams, EmbeddingsIntegrationTests):
    pass


@pytest.fixture(params=["onnx", "torch"])
def any_embedder(request: pytest.FixtureRequest) -> Embeddings:
    name = "real_embedder" if request.param == "onnx" else "torch_embedder"
    emb: Embeddings = request.getfixturevalue(name)
    return emb


def test_vectors_are_unit_length_and_prefixed(any_embedder: Embeddings) -> None:
    q = any_embedder.embed_query("借呗是什么")
    d = any_embedder.embed_documents(["借呗是什么"])[0]
    assert len(q) == 384
    assert math.isclose(math.fsum(x * x for x in q), 1.0, rel_tol=1e-4)
    # "query: " and "passage: " prefixes make the two vectors differ slightly
    assert 0.9 < sum(a * b for a, b in zip(q, d, strict=True)) < 0.9999


def test_chinese_paraphrases_are_closer_than_unrelated_text(any_embedder: Embeddings) -> None:
    a, b, c = any_embedder.embed_documents(
        ["花呗怎么提前还款", "花唄可以提早還嗎", "今天天气很好"]
    )
    same = sum(x * y for x, y in zip(a, b, strict=True))
    other = sum(x * y for x, y in zip(a, c, strict=True))
    assert same > other + 0.03


def test_fingerprint_is_cheap_and_stable(model_path: str) -> None:
    assert model_fingerprint(model_path) == model_fingerprint(model_path)
    assert model_fingerprint(model_path) != model_fingerprint("some/hub-id")


def test_missing_folder_says_what_to_run(tmp_path: Path) -> None:
    emb = SentenceTransformerEmbedder(str(tmp_path / "nope"))
    with pytest.raises(ModelNotReadyError, match="mingbai models build"):
        emb.embed_query("x")
