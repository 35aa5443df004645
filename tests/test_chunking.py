"""retrieval.chunking: what gets indexed for an entry."""

from __future__ import annotations

from knowledge.loader import load_knowledge
from retrieval.chunking import chunk_entry, chunk_id, entry_id_of, index_hash, split_sentences
from retrieval.text import normalize


def test_chunks_cover_titles_questions_and_bodies() -> None:
    entry = load_knowledge().by_id()["xianyu-buying-does-not-open-jiebei"]
    chunks = chunk_entry(entry)
    kinds = {c.kind for c in chunks}
    assert kinds == {"title", "question", "body"}
    assert all(c.entry_id == entry.id and c.entry_hash == index_hash(entry) for c in chunks)
    assert all(c.n_chunks == len(chunks) for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)
    questions = [c for c in chunks if c.kind == "question"]
    # listed questions are normalised (traditional → simplified) and deduplicated
    assert any("在闲鱼买东西会开通借呗吗" in c.text for c in questions)
    assert not any("閒" in c.text for c in chunks)


def test_split_on_chinese_and_english_sentence_ends() -> None:
    text = "第一句很长。" * 30 + "\nFirst sentence is here. " * 10
    pieces = split_sentences(text)
    assert len(pieces) > 2
    assert all(len(p) <= 160 for p in pieces)
    assert pieces[0].endswith("。")


def test_content_hash_changes_with_content() -> None:
    from dataclasses import replace

    entry = load_knowledge().by_id()["huabei-what-is-huabei"]
    changed = replace(entry, title_en=entry.title_en + "!")
    assert changed.content_hash != entry.content_hash
    assert replace(entry).content_hash == entry.content_hash


def test_the_entry_id_reads_back_from_a_chunk_id() -> None:
    assert entry_id_of(chunk_id("huabei-limit-factors", "abc123", 7)) == "huabei-limit-factors"
    assert entry_id_of(chunk_id("odd:id", "abc123", 0)) == "odd:id"


def test_english_points_are_not_embedded_but_the_verdict_and_chinese_points_are() -> None:
    entry = load_knowledge().by_id()["xianyu-buying-does-not-open-jiebei"]
    bodies = {
        lang: " ".join(c.text for c in chunk_entry(entry) if c.kind == "body" and c.lang == lang)
        for lang in ("zh", "en")
    }
    assert normalize(entry.section("en").verdict, "en") in bodies["en"]
    assert not any(normalize(p, "en") in bodies["en"] for p in entry.section("en").points)
    assert all(normalize(p, "zh")[:20] in bodies["zh"] for p in entry.section("zh").points)
