"""The vector store: one Chroma collection per embedding model.

The collection name carries the embedder's fingerprint, so vectors of two models are never mixed;
the collection is always handed an embedding function (Chroma would otherwise try to download one).
Each chunk's metadata records its entry id and the entry's content hash: the collection itself is
the index manifest. Queries do not use Chroma's approximate (HNSW) search: they scan an in-memory
copy of the vectors exactly (retrieval/vector_scan.py, docs/decisions.md).

chromadb is imported only here.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

import numpy as np

from knowledge.errors import ConfigError
from retrieval.chunking import Chunk, entry_id_of
from retrieval.embeddings import Embedder
from retrieval.vector_scan import VectorScan

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

COLLECTION_PREFIX = "mingbai-"


@dataclass(frozen=True)
class ChunkHit:
    entry_id: str
    similarity: float  # cosine similarity, higher is better


class _Unbound:
    """Stands in for the model when Chroma rebuilds our function from a stored config."""

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise ConfigError(
            f"collection for model {self.fingerprint} was opened without its embedding model; "
            "open it through retrieval.store.ChunkStore"
        )

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def _chroma_embedding_function(embedder: Embedder) -> Any:
    """Adapt an :class:`Embedder` to Chroma's EmbeddingFunction protocol."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class _Adapter(EmbeddingFunction[Documents]):
        def __init__(self, inner: Embedder) -> None:
            self._inner = inner

        def __call__(self, input: Documents) -> Embeddings:
            import numpy as np

            return [
                np.asarray(v, dtype=np.float32) for v in self._inner.embed_documents(list(input))
            ]

        def embed_query(self, input: Documents) -> Embeddings:
            import numpy as np

            return [np.asarray(self._inner.embed_query(t), dtype=np.float32) for t in input]

        @staticmethod
        def name() -> str:
            return "mingbai"

        def get_config(self) -> dict[str, Any]:
            return {"fingerprint": self._inner.fingerprint}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> _Adapter:
            # Chroma rebuilds stored functions when listing collections; ours is always handed
            # in by code, so a rebuilt one only explains itself if it is ever called.
            return _Adapter(_Unbound(str(config.get("fingerprint", "?"))))

        def is_legacy(self) -> bool:
            return False

        def default_space(self) -> Any:
            return "cosine"

    return _Adapter(embedder)


def _close(client: ClientAPI) -> None:
    close = getattr(client, "close", None)  # chromadb >= 1.x clients
    if close is not None:
        close()


def _replace_file(path: Path, data: str | bytes) -> None:
    """Write ``path`` whole or not at all (a reader never sees half a file)."""
    tmp = path.with_suffix(".tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)


GENERATION_FILE = "generation"
MANIFEST_PREFIX = "indexed-"  # + fingerprint + .json: what the last complete index run left
SNAPSHOT_PREFIX = "vectors-"  # + fingerprint + .npz: the vectors it left, on the scan's grid
RECHECK_SECONDS = 1.0


class StoreLocation:
    """Where the chunks live: an embedded Chroma folder, or a Chroma server URL.

    Embedded Chroma keeps the vector index in memory, so a long-running process would not see
    what another process (``mingbai index``) wrote. Each index run that changes something bumps
    a ``generation`` file; a process that sees a new generation (checked at most once a second)
    closes its client and opens a fresh one. A Chroma server has no such problem.
    """

    _shared: ClassVar[dict[str, tuple[ClientAPI, int]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path | None = None, url: str | None = None) -> None:
        if url:
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ConfigError(f"MINGBAI_CHROMA_URL={url!r} must look like http://HOST:PORT")
        elif path is None:
            raise ConfigError("a Chroma store needs either a folder or a server URL")
        self.path = path
        self.url = url or None
        self._checked = 0.0

    @property
    def key(self) -> str:
        return self.url or str(Path(self.path or ".").resolve())

    def generation(self) -> int:
        """A number that changes with every :meth:`bump` (0 before the first)."""
        if self.url or self.path is None:
            return 0
        try:
            st = (self.path / GENERATION_FILE).stat()
        except FileNotFoundError:
            return 0
        # The inode as well as the time: file times tick in steps of a few milliseconds, and each
        # bump replaces the file with a new one created while the old one still exists.
        return hash((st.st_mtime_ns, st.st_ino))

    def bump(self) -> None:
        """Tell other processes that the index changed (embedded store only)."""
        if self.url or self.path is None:
            return
        _replace_file(self.path / GENERATION_FILE, str(time.time_ns()))
        with self._lock:
            if self.key in self._shared:
                self._shared[self.key] = (self._shared[self.key][0], self.generation())

    def client(self) -> ClientAPI:
        """The process-wide client for this location, fresh if the index changed elsewhere."""
        now = time.monotonic()
        with self._lock:
            cached = self._shared.get(self.key)
            if cached is not None and (self.url or now - self._checked < RECHECK_SECONDS):
                return cached[0]
            self._checked = now
            generation = self.generation()
            if cached is not None and cached[1] == generation:
                return cached[0]
            if cached is not None:
                _close(cached[0])  # its in-memory index is stale: drop it
            client = self._open()
            self._shared[self.key] = (client, generation)
            return client

    def known_generation(self) -> int:
        """The generation this process's client was opened at, or last bumped to here."""
        with self._lock:
            cached = self._shared.get(self.key)
        return cached[1] if cached is not None else 0

    def reopen(self) -> None:
        """Drop this process's client, so the next one reads the store's files afresh.

        An index run killed mid-way never bumps the generation, and an embedded client opened
        before it keeps an in-memory vector index that lacks what the run wrote: reading those
        chunks' vectors then fails ("Error finding id"). A fresh client sees a consistent store.
        """
        with self._lock:
            cached = self._shared.pop(self.key, None)
            self._checked = 0.0
        if cached is not None:
            _close(cached[0])

    def _open(self) -> ClientAPI:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.url:
            parsed = urlparse(self.url)
            return chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or (443 if parsed.scheme == "https" else 80),
                ssl=parsed.scheme == "https",
                settings=settings,
            )
        assert self.path is not None
        self.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.path), settings=settings)


class ChunkStore:
    """Chunks of the knowledge base in one Chroma collection for one embedding model."""

    def __init__(self, location: StoreLocation, embedder: Embedder) -> None:
        self.location = location
        self.embedder = embedder
        self.name = f"{COLLECTION_PREFIX}{embedder.fingerprint}"
        self._collection: Collection | None = None
        self._collection_client: ClientAPI | None = None
        # Queries scan an in-memory copy of the vectors (retrieval/vector_scan.py). It is dropped
        # by every write through this store, and reloaded when an index run elsewhere changed
        # the index (see _changed_elsewhere).
        self._scan: VectorScan | None = None
        self._scan_generation: str | None = None
        self._scan_checked = 0.0
        self._scan_lock = threading.Lock()
        # The vectors the last complete index run saved (embedded store): a server starts from
        # them without importing or opening Chroma (about 2 s of start-up).
        self._saved: VectorScan | None = None
        self._saved_generation: str | None = None

    @property
    def client(self) -> ClientAPI:
        return self.location.client()

    @property
    def collection(self) -> Collection:
        client = self.client
        if self._collection is None or client is not self._collection_client:
            self._scan = None
            self._collection_client = client
            self._collection = client.get_or_create_collection(
                self.name,
                embedding_function=_chroma_embedding_function(self.embedder),
                metadata={"hnsw:space": "cosine", "fingerprint": self.embedder.fingerprint},
            )
        return self._collection

    def exists(self) -> bool:
        return self.name in {c.name for c in self.client.list_collections()}

    def other_model_collections(self) -> list[str]:
        """Collections built with other embedding models (stale after a model change)."""
        return [
            c.name
            for c in self.client.list_collections()
            if c.name.startswith(COLLECTION_PREFIX) and c.name != self.name
        ]

    def drop_collections(self, names: Sequence[str]) -> None:
        if names:
            self._forget_entries()
        for name in names:
            self.client.delete_collection(name)

    def count(self) -> int:
        return self.collection.count()

    def manifest(self) -> dict[str, dict[str, tuple[int, int]]]:
        """entry id -> {entry hash: (chunks present, chunks written)} for everything stored.

        A hash whose two counts differ was cut short (a killed run) and must be redone.
        """
        got = self.collection.get(include=["metadatas"])
        out: dict[str, dict[str, tuple[int, int]]] = {}
        for meta in got["metadatas"] or []:
            hashes = out.setdefault(str(meta["entry_id"]), {})
            key = str(meta["entry_hash"])
            present, _ = hashes.get(key, (0, 0))
            hashes[key] = (present + 1, int(meta["n_chunks"]))  # type: ignore[arg-type]
        return out

    # -- what the last complete index run left, known without opening Chroma -------------------
    @property
    def _remembered_path(self) -> Path | None:
        if self.location.url or self.location.path is None:
            return None  # a Chroma server can be written by others: always ask it
        return self.location.path / f"{MANIFEST_PREFIX}{self.embedder.fingerprint}.json"

    def remembered_entries(self) -> dict[str, str] | None:
        """entry id -> hash as the last complete index run left this store, or None when that
        is not known for sure (no such run, a write since, another run's generation, a server).

        It lets ``mingbai index`` with nothing changed skip opening Chroma (about 1 s)."""
        path = self._remembered_path
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("generation") != self.location.generation():
            return None
        entries = data.get("entries")
        return dict(entries) if isinstance(entries, dict) else None

    def remember_entries(self, entries: Mapping[str, str]) -> None:
        """Record that the store now holds exactly ``entries`` (id -> hash), complete, and save
        its vectors for the next process to start from: call it at the end of an index run,
        after :meth:`mark_changed`."""
        path = self._remembered_path
        if path is None:
            return
        generation = self.location.generation()
        data = {"generation": generation, "entries": dict(entries)}
        _replace_file(path, json.dumps(data, sort_keys=True))
        self._save_vectors(str(generation))

    def _forget_entries(self) -> None:
        # every write goes through here first: a run killed after it leaves nothing remembered
        path = self._remembered_path
        if path is not None:
            path.unlink(missing_ok=True)
            self._snapshot_path.unlink(missing_ok=True)
        self._saved = None

    # -- the saved vectors: what the last complete index run left, read without Chroma -------
    @property
    def _snapshot_path(self) -> Path:
        assert self.location.path is not None
        return self.location.path / f"{SNAPSHOT_PREFIX}{self.embedder.fingerprint}.npz"

    def _save_vectors(self, generation: str) -> None:
        scan = self.vectors()  # read from Chroma: the store as the run left it
        out = io.BytesIO()
        np.savez(out, ids=np.array(scan.ids, dtype=str), grid=scan.grid(),
                 generation=np.array(generation))
        _replace_file(self._snapshot_path, out.getvalue())

    def save_vectors_if_missing(self) -> None:
        """Save the vectors if the saved copy is missing or older than the store (an index built
        before copies were saved); the caller knows the store is complete."""
        if self._remembered_path is not None and self._saved_vectors() is None:
            self._save_vectors(str(self.location.generation()))

    def _load_saved(self, generation: str) -> VectorScan | None:
        try:
            with np.load(self._snapshot_path, allow_pickle=False) as data:
                if str(data["generation"]) != generation:
                    return None  # written before the last change: read Chroma instead
                return VectorScan.from_grid(data["ids"].tolist(), data["grid"])
        except (OSError, ValueError, KeyError):
            return None  # missing, cut short or of another shape: Chroma has the truth

    def _saved_vectors(self) -> VectorScan | None:
        """The saved vectors while they are the store's current state (the generation file is
        checked on every call: one stat, a few microseconds); None when unsure: ask Chroma."""
        if self._remembered_path is None:
            return None  # a Chroma server store: others may write to it
        generation = str(self.location.generation())
        with self._scan_lock:
            if self._saved is None or self._saved_generation != generation:
                self._saved = self._load_saved(generation)
                self._saved_generation = generation
            return self._saved

    def add(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        if not chunks:
            return
        self._forget_entries()
        self._scan = None
        self.collection.upsert(
            ids=[c.id for c in chunks],
            embeddings=[list(v) for v in vectors],  # type: ignore[arg-type]
            documents=[c.text for c in chunks],
            metadatas=[c.metadata() for c in chunks],
        )

    def delete(self, entry_id: str, keep_hash: str | None = None) -> None:
        """Delete an entry's chunks (all of them, or all but those of ``keep_hash``)."""
        self._forget_entries()
        self._scan = None
        where: dict[str, Any] = {"entry_id": entry_id}
        if keep_hash is not None:
            where = {"$and": [{"entry_id": entry_id}, {"entry_hash": {"$ne": keep_hash}}]}
        self.collection.delete(where=where)

    def mark_changed(self) -> None:
        """Tell running servers that the index changed, after a write that changed something.

        Embedded store: the location's generation file (they reopen their client). Chroma server:
        a new ``generation`` in the collection's metadata (their next check reloads the vectors).
        """
        self._scan = None
        self.location.bump()
        self.collection.modify(
            metadata={"fingerprint": self.embedder.fingerprint, "generation": str(time.time_ns())}
        )

    def query(self, vector: Sequence[float], n: int) -> list[ChunkHit]:
        return self.query_many([vector], n)[0]

    def query_many(self, vectors: Sequence[Sequence[float]], n: int) -> list[list[ChunkHit]]:
        """The ``n`` nearest chunks of each vector: an exact scan, ties broken by chunk id."""
        if not vectors:
            return []
        return [
            [ChunkHit(entry_id_of(i), sim) for i, sim in row]
            for row in self.vectors().nearest(vectors, n)
        ]

    def vectors(self) -> VectorScan:
        """The current snapshot of the stored vectors, loaded (once) if needed: from the saved
        copy while this store has not opened Chroma and the copy is current, else from Chroma."""
        if self._collection is None:
            saved = self._saved_vectors()
            if saved is not None:
                return saved
        collection = self.collection  # drops a stale snapshot if the client was reopened
        changed = self._changed_elsewhere()
        scan = self._scan
        if scan is not None and not changed:
            return scan
        with self._scan_lock:
            if self._scan is None or changed:
                from chromadb.errors import ChromaError

                try:
                    got = collection.get(include=["embeddings"])
                except ChromaError:
                    if self.location.url is not None:
                        raise
                    self.location.reopen()  # a killed index run left this client behind
                    got = self.collection.get(include=["embeddings"])
                # Chroma keeps float32; a server sends them as decimal text, which parses to a
                # slightly different float64. Rounding to float32 gives both stores the same bits.
                embeddings = np.asarray(
                    [] if got["embeddings"] is None else got["embeddings"], dtype=np.float32
                )
                self._scan = VectorScan(got["ids"], embeddings)
            return self._scan

    def _changed_elsewhere(self) -> bool:
        """Whether an index run through another store object or process changed the index.

        Embedded store: the generation the location's client knows (another process's run
        reopens the client, a run in this process bumps it). Chroma server: the collection's
        ``generation`` metadata, read at most once a second.
        """
        if self.location.url is None:
            fresh: str | None = str(self.location.known_generation())
        else:
            now = time.monotonic()
            if now - self._scan_checked < RECHECK_SECONDS:
                return False
            self._scan_checked = now
            fresh = self._generation(
                self.client.get_collection(
                    self.name, embedding_function=_chroma_embedding_function(self.embedder)
                )
            )
        if fresh == self._scan_generation:
            return False
        self._scan_generation = fresh
        return True

    @staticmethod
    def _generation(collection: Collection) -> str | None:
        value = (collection.metadata or {}).get("generation")
        return None if value is None else str(value)
