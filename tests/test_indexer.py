"""retrieval.indexer + retrieval.store: incremental, crash-safe, one collection per model.

Uses real Chroma in a temp dir and the fast hashing fake embedder from conftest.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.entry import Entry
from knowledge.errors import IndexBusyError
from knowledge.loader import load_knowledge
from retrieval.chunking import Chunk, chunk_entries, entry_id_of, index_hash
from retrieval.indexer import index_lock, update_index
from retrieval.store import ChunkStore, StoreLocation
from tests.conftest import HashEmbedder


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return load_knowledge().entries[:6]


def make_store(path: Path, embedder: HashEmbedder) -> ChunkStore:
    return ChunkStore(StoreLocation(path / "chroma"), embedder)


def test_first_run_indexes_everything(tmp_path: Path, entries: list[Entry]) -> None:
    store = make_store(tmp_path, HashEmbedder())
    reported: list[tuple[int, int]] = []
    report = update_index(store, entries, lock_path=tmp_path / "lock", batch_size=16,
                          on_batch=lambda done, total: reported.append((done, total)))
    assert sorted(report.added) == sorted(e.id for e in entries)
    assert store.count() == report.chunks_written == len(chunk_entries(entries))
    n = report.chunks_written
    assert reported == [(min(k, n), n) for k in range(16, n + 16, 16)]


def test_no_change_run_embeds_nothing(tmp_path: Path, entries: list[Entry]) -> None:
    emb = HashEmbedder()
    store = make_store(tmp_path, emb)
    update_index(store, entries, lock_path=tmp_path / "lock")
    calls = emb.calls
    report = update_index(store, entries, lock_path=tmp_path / "lock")
    assert report.nothing_changed and report.unchanged == len(entries)
    assert emb.calls == calls


def test_a_changed_lexicon_re_embeds_the_entries_it_normalised(
    tmp_path: Path, entries: list[Entry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks are normalised with the lexicon (花贝 -> 花呗): indexed under another lexicon,
    an entry is stale although its file did not change."""
    import retrieval.chunking as chunking

    store = make_store(tmp_path, HashEmbedder())
    update_index(store, entries, lock_path=tmp_path / "lock")
    monkeypatch.setattr(chunking, "normalization_key", lambda: "another-lexicon")
    report = update_index(store, entries, lock_path=tmp_path / "lock")
    assert sorted(report.changed) == sorted(e.id for e in entries)
    assert store.count() == len(chunk_entries(entries))  # the old versions are gone
    again = update_index(store, entries, lock_path=tmp_path / "lock")
    assert again.nothing_changed


def test_nothing_changed_is_known_without_reading_the_store(
    tmp_path: Path, entries: list[Entry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A complete run remembers what it left; the next run with the same entries answers from
    that, without opening Chroma; anything else (another entry set) reads the store."""
    store = make_store(tmp_path, HashEmbedder())
    update_index(store, entries, lock_path=tmp_path / "lock")
    assert store.remembered_entries() == {e.id: index_hash(e) for e in entries}
    fresh = make_store(tmp_path, HashEmbedder())  # another process, say

    def no_store(*_: object) -> None:
        raise AssertionError("the store was read")

    monkeypatch.setattr(ChunkStore, "manifest", no_store)
    monkeypatch.setattr(ChunkStore, "collection", property(no_store))
    report = update_index(fresh, entries, lock_path=tmp_path / "lock")
    assert report.nothing_changed and report.unchanged == len(entries)
    monkeypatch.undo()
    report = update_index(fresh, entries[:-1], lock_path=tmp_path / "lock")
    assert report.deleted == [entries[-1].id]  # a different set: read and brought in line
    assert fresh.remembered_entries() == {e.id: index_hash(e) for e in entries[:-1]}


def test_any_write_forgets_what_was_remembered(tmp_path: Path, entries: list[Entry]) -> None:
    """A write outside a complete run (or a run killed mid-way, which writes first) leaves
    nothing remembered, so the next run reads the store and finishes the job."""
    store = make_store(tmp_path, HashEmbedder())
    update_index(store, entries[:2], lock_path=tmp_path / "lock")
    changed = replace(entries[0], title_en="changed")
    partial = chunk_entries([changed])[:2]
    store.add(partial, store.embedder.embed_documents([c.text for c in partial]))
    assert store.remembered_entries() is None
    report = update_index(store, entries[:2], lock_path=tmp_path / "lock")
    assert report.changed == [entries[0].id]  # the stray half-version is cleaned up
    assert list(store.manifest()[entries[0].id]) == [index_hash(entries[0])]
    assert store.remembered_entries() is not None
    store.delete(entries[1].id)
    assert store.remembered_entries() is None
    # another process's run (a new generation) makes the remembered state unsure too
    update_index(store, entries[:2], lock_path=tmp_path / "lock")
    store.location.bump()
    assert store.remembered_entries() is None


def test_a_chroma_server_store_remembers_nothing(tmp_path: Path) -> None:
    remote = ChunkStore(StoreLocation(url="http://127.0.0.1:1"), HashEmbedder())
    remote.remember_entries({"a": "b"})
    assert remote.remembered_entries() is None


def test_only_changed_added_and_deleted_entries_are_touched(
    tmp_path: Path, entries: list[Entry]
) -> None:
    store = make_store(tmp_path, HashEmbedder())
    update_index(store, entries[:5], lock_path=tmp_path / "lock")
    changed = replace(entries[0], title_en=entries[0].title_en + " (updated)")
    new_set = [changed, *entries[2:6]]  # entries[1] deleted, entries[5] added
    report = update_index(store, new_set, lock_path=tmp_path / "lock")
    assert report.changed == [changed.id]
    assert report.added == [entries[5].id]
    assert report.deleted == [entries[1].id]
    assert report.unchanged == 3
    manifest = store.manifest()
    assert set(manifest) == {e.id for e in new_set}
    assert list(manifest[changed.id]) == [index_hash(changed)]  # the old version is gone
    assert store.count() == len(chunk_entries(new_set))


def test_a_cut_short_write_is_finished_by_the_next_run(
    tmp_path: Path, entries: list[Entry]
) -> None:
    store = make_store(tmp_path, HashEmbedder())
    update_index(store, entries[:2], lock_path=tmp_path / "lock")
    changed = replace(entries[0], title_en="changed")
    # Simulate a run killed mid-way: only part of the new version was written.
    partial = chunk_entries([changed])[:3]
    store.add(partial, store.embedder.embed_documents([c.text for c in partial]))
    # The old version is still complete, so the entry stays findable meanwhile.
    assert index_hash(entries[0]) in store.manifest()[entries[0].id]
    report = update_index(store, [changed, entries[1]], lock_path=tmp_path / "lock")
    assert report.changed == [changed.id]
    present, written = store.manifest()[changed.id][index_hash(changed)]
    assert present == written and list(store.manifest()[changed.id]) == [index_hash(changed)]


def test_a_failed_store_write_stops_the_run_and_is_raised(
    tmp_path: Path, entries: list[Entry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches are stored by a writer thread while the next is embedded: a write that fails
    surfaces as the run's error, nothing after the next batch is embedded, and no entry is
    remembered as indexed (the next run writes them)."""
    emb = HashEmbedder()
    store = make_store(tmp_path, emb)
    real_add = store.add
    stored: list[int] = []

    def add(chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        if len(stored) == 1:
            raise OSError("disk full")
        stored.append(len(chunks))
        real_add(chunks, vectors)

    monkeypatch.setattr(store, "add", add)
    reported: list[int] = []
    with pytest.raises(OSError, match="disk full"):
        update_index(store, entries, lock_path=tmp_path / "lock", batch_size=4,
                     on_batch=lambda done, total: reported.append(done))
    assert stored == [4] and reported == [4]  # progress counts what is stored, not embedded
    assert emb.calls <= 3  # the failing batch and at most one more were embedded
    monkeypatch.setattr(store, "add", real_add)
    report = update_index(store, entries, lock_path=tmp_path / "lock")
    assert store.count() == len(chunk_entries(entries)) and not report.nothing_changed


def test_changing_the_model_uses_a_new_collection_and_drops_the_old(
    tmp_path: Path, entries: list[Entry]
) -> None:
    first = make_store(tmp_path, HashEmbedder("model-a"))
    update_index(first, entries[:2], lock_path=tmp_path / "lock")
    second = make_store(tmp_path, HashEmbedder("model-b"))
    assert second.name != first.name
    report = update_index(second, entries[:2], lock_path=tmp_path / "lock")
    assert report.dropped_collections == [first.name]
    assert sorted(report.added) == sorted(e.id for e in entries[:2])
    assert not first.exists()


def test_query_returns_entry_ids_with_similarity(tmp_path: Path, entries: list[Entry]) -> None:
    store = make_store(tmp_path, HashEmbedder())
    update_index(store, entries, lock_path=tmp_path / "lock")
    target = entries[2]
    hits = store.query(store.embedder.embed_query(target.questions_zh[0]), 5)
    assert hits[0].entry_id == target.id
    assert hits[0].similarity > 0.9
    assert hits == sorted(hits, key=lambda h: -h.similarity)


def test_query_is_an_exact_scan_of_the_stored_vectors(tmp_path: Path, entries: list[Entry]) -> None:
    import numpy as np

    store = make_store(tmp_path, HashEmbedder())
    update_index(store, entries, lock_path=tmp_path / "lock")
    got = store.collection.get(include=["embeddings"])
    matrix = np.asarray(got["embeddings"], dtype=np.float64)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    for entry in entries:
        query = np.asarray(store.embedder.embed_query(entry.questions_en[0]), dtype=np.float64)
        sims = matrix @ (query / np.linalg.norm(query))
        best = sorted(range(len(sims)), key=lambda i: (-sims[i], got["ids"][i]))[:10]
        hits = store.query(query.tolist(), 10)
        assert [h.similarity for h in hits] == pytest.approx([sims[i] for i in best], abs=1e-6)
        assert hits[0].entry_id in {
            entry_id_of(got["ids"][i]) for i in best if sims[i] >= sims[best[0]] - 1e-6
        }


def test_a_reader_sees_what_another_store_object_indexed(
    tmp_path: Path, entries: list[Entry]
) -> None:
    emb = HashEmbedder()
    writer, reader = make_store(tmp_path, emb), make_store(tmp_path, emb)
    update_index(writer, entries[:3], lock_path=tmp_path / "lock")
    new = entries[3]
    before = reader.query(emb.embed_query(new.questions_zh[0]), 3)
    assert new.id not in {h.entry_id for h in before}
    update_index(writer, entries[:4], lock_path=tmp_path / "lock")
    after = reader.query(emb.embed_query(new.questions_zh[0]), 3)
    assert after[0].entry_id == new.id


def test_lock_makes_a_second_run_wait_or_fail_clearly(tmp_path: Path) -> None:
    lock = tmp_path / "index.lock"
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with index_lock(lock):
            entered.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    entered.wait(5)
    try:
        with (
            pytest.raises(IndexBusyError, match="another `mingbai index` run"),
            index_lock(lock, wait_seconds=0.3),
        ):
            pass
    finally:
        release.set()
        t.join()
    with index_lock(lock, wait_seconds=0.3):  # free again
        pass


def test_every_bump_changes_the_generation(tmp_path: Path) -> None:
    """Running servers compare generations: two bumps in the same millisecond must differ too."""
    location = StoreLocation(tmp_path / "chroma")
    (tmp_path / "chroma").mkdir()
    seen = [location.generation()]
    for _ in range(50):
        location.bump()
        seen.append(location.generation())
    assert all(a != b for a, b in itertools.pairwise(seen))


def test_a_new_process_reads_the_saved_vectors_without_opening_chroma(
    tmp_path: Path, entries: list[Entry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A complete run saves the vectors on the scan's grid; a fresh store (a server starting)
    scans exactly them, and neither the index check nor the first query opens Chroma."""
    import numpy as np

    from assistant.factory import check_index

    writer = make_store(tmp_path, HashEmbedder())
    update_index(writer, entries, lock_path=tmp_path / "lock")
    expected = writer.vectors()
    StoreLocation._shared.clear()  # nothing opened in this "process"
    fresh = make_store(tmp_path, HashEmbedder())

    def no_store(*_: object) -> None:
        raise AssertionError("Chroma was opened")

    monkeypatch.setattr(ChunkStore, "collection", property(no_store))
    check_index(fresh, entries)
    got = fresh.vectors()
    assert got.ids == expected.ids
    assert np.array_equal(got.matrix, expected.matrix)
    query = fresh.embedder.embed_query(entries[0].questions_zh[0])
    monkeypatch.undo()
    assert fresh.query(query, 5) == writer.query(query, 5)


def test_saved_vectors_are_not_used_once_the_store_changed(
    tmp_path: Path, entries: list[Entry]
) -> None:
    """A write forgets them, a new generation (another run) outdates them, a damaged file is
    ignored: each time the vectors come from Chroma, and the next complete run saves them."""
    writer = make_store(tmp_path, HashEmbedder())
    update_index(writer, entries[:3], lock_path=tmp_path / "lock")
    saved = next((tmp_path / "chroma").glob("vectors-*.npz"))
    reader = make_store(tmp_path, HashEmbedder())
    assert len(reader.vectors()) == len(chunk_entries(entries[:3]))
    writer.location.bump()  # another run changed the store but did not finish
    assert reader._saved_vectors() is None
    saved.write_bytes(b"not a snapshot")
    assert make_store(tmp_path, HashEmbedder())._saved_vectors() is None
    update_index(writer, entries[:4], lock_path=tmp_path / "lock")
    assert len(make_store(tmp_path, HashEmbedder()).vectors()) == len(chunk_entries(entries[:4]))
    writer.delete(entries[3].id)
    assert not saved.exists()
    saved_again = update_index(writer, entries[:3], lock_path=tmp_path / "lock")
    assert saved_again.deleted == [] and saved.exists()


def test_an_index_built_before_vectors_were_saved_gets_them_on_the_next_run(
    tmp_path: Path, entries: list[Entry]
) -> None:
    store = make_store(tmp_path, HashEmbedder())
    update_index(store, entries[:2], lock_path=tmp_path / "lock")
    saved = next((tmp_path / "chroma").glob("vectors-*.npz"))
    saved.unlink()
    report = update_index(store, entries[:2], lock_path=tmp_path / "lock")
    assert report.nothing_changed and saved.exists()
