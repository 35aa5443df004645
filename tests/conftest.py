"""Shared fixtures and fakes. No test touches the network: non-loopback sockets are refused."""

from __future__ import annotations

import hashlib
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.settings import OFFLINE_ENV, Settings

for _k, _v in OFFLINE_ENV.items():
    os.environ[_k] = _v

_LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")
_real_connect = socket.socket.connect
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
    else:
        return True  # unix sockets
    return host.startswith(_LOOPBACK)


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_loopback(address):
        raise OSError(f"network access blocked in tests: {address!r}")
    _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
    if host is not None and not str(host).startswith(_LOOPBACK):
        raise socket.gaierror(f"DNS blocked in tests: {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]


class HashEmbedder:
    """A fast, deterministic fake: character-bigram hashing into 64 dims, unit length."""

    dims = 64

    def __init__(self, tag: str = "hash-v1") -> None:
        self._tag = tag
        self.calls = 0

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self._tag.encode()).hexdigest()[:12]

    def _vec(self, text: str) -> list[float]:
        v = [0.0] * self.dims
        t = text.lower()
        for a, b in zip(t, t[1:] + " ", strict=True):
            h = int(hashlib.md5((a + b).encode()).hexdigest(), 16)
            v[h % self.dims] += 1.0
        n = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / n for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def model_path() -> str:
    """The real embedding model, built once into the data dir (make test builds it first)."""
    from assistant.factory import ensure_model
    from assistant.settings import Settings

    return ensure_model(Settings.from_env())


@pytest.fixture(scope="session")
def real_embedder(model_path: str):  # type: ignore[no-untyped-def]
    """The embedder production uses for this model (ONNX Runtime; see make_embedder)."""
    from assistant.factory import load_answering_rules
    from retrieval.backends import make_embedder

    emb = make_embedder(model_path, query_max_tokens=load_answering_rules().query_max_tokens)
    emb.load()  # type: ignore[attr-defined]
    return emb


@pytest.fixture(scope="session")
def torch_embedder(model_path: str):  # type: ignore[no-untyped-def]
    """The same model through sentence-transformers on torch (the fallback backend)."""
    from assistant.factory import load_answering_rules
    from retrieval.embeddings import SentenceTransformerEmbedder

    rules = load_answering_rules()
    emb = SentenceTransformerEmbedder(model_path, query_max_tokens=rules.query_max_tokens)
    emb.load()
    return emb


ADMIN_TOKEN = "browser-test-operator"  # the `server` fixture's operator token


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mingbai-home")


@pytest.fixture(scope="session")
def bot(session_home: Path, real_embedder):  # type: ignore[no-untyped-def]
    """The real assistant: real model, real Chroma in a temp dir, bundled knowledge."""
    from assistant.bot import Assistant
    from assistant.factory import build_components
    from assistant.settings import Settings

    settings = Settings(home=session_home)
    seed_index(Settings.from_env(), settings)
    return Assistant(components=build_components(settings, embedder=real_embedder))


class CachedEmbedder:
    """The real embedder, answering passages it has already embedded from a store's copy of
    their vectors (the same model's, bit for bit): a second index of the whole knowledge base
    (a Chroma server's) then costs seconds, not another full embedding run."""

    def __init__(self, embedder, store) -> None:  # type: ignore[no-untyped-def]
        got = store.collection.get(include=["documents", "embeddings"])
        self._known = {d: list(map(float, v)) for d, v in
                       zip(got["documents"], got["embeddings"], strict=True)}  # fmt: skip
        self._inner = embedder
        self.fingerprint = embedder.fingerprint

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in texts if t not in self._known]
        if missing:
            self._known.update(zip(missing, self._inner.embed_documents(missing), strict=True))
        return [self._known[t] for t in texts]

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._inner, name)


@pytest.fixture(scope="session")
def cached_embedder(bot, real_embedder):  # type: ignore[no-untyped-def]
    return CachedEmbedder(real_embedder, bot.components.search.store)


def seed_index(source: Settings, target: Settings) -> None:
    """Start the test index from a copy of the data dir's (`make test` has just built it), so
    the session indexes only what changed instead of ~5,000 chunks again. The copy is the test's
    own: nothing the tests write reaches the user's index."""
    import shutil

    src = source.index_dir / "chroma"
    if src.is_dir() and not target.index_dir.exists() and source.chroma_url is None:
        target.index_dir.mkdir(parents=True)
        shutil.copytree(src, target.index_dir / "chroma")




MINGBAI = str(Path(sys.executable).parent / "mingbai")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server a test started: terminate, then kill if it has not exited in 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(bot, model_path: str, session_home: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """`mingbai serve` on the index the `bot` fixture built, on 127.0.0.1; stopped at the end."""
    port = free_port()
    env = {**os.environ, "MINGBAI_HOME": str(session_home), "MINGBAI_EMBED_MODEL": model_path,
           "MINGBAI_ADMIN_TOKEN": ADMIN_TOKEN}
    log_path = session_home / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [MINGBAI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mingbai serve exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mingbai serve not healthy in 180 s:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        stop(proc)
