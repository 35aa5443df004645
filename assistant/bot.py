"""The public entry point: ``Assistant().ask(question, history)`` → :class:`Answer`."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.answer import Answer, Citation, Route
from assistant.composer import ComposeInput, abstain_text, sources_block
from assistant.factory import Components, build_components
from assistant.followup import recent_story, resolve_followup
from assistant.injection import strip_injection
from assistant.privacy import mask_personal_data
from assistant.scam import WARNING as SCAM_WARNING
from assistant.settings import Settings, get_settings
from assistant.whatif.followup import resolve_whatif_followup
from knowledge.entry import Entry, Lang
from retrieval.search import EntryHit, SearchResult
from retrieval.text import detect_language, strip_control

log = logging.getLogger("mingbai")
TRIM_NOTE = {
    "zh": "（你的问题超过 {n} 个字符，只读取了前 {n} 个字符。）",
    "en": "(Your question was longer than {n} characters; only the first {n} were read.)",
}
History = Sequence[Mapping[str, str]]


@dataclass
class _Pending:
    """A question between its preparation and its answer (lets ``ask_many`` batch embeddings)."""

    text: str
    notes: list[str]
    lang: Lang
    route: Route
    query: str
    story: str | None = None  # the recent conversation, for scams told over several messages
    result: SearchResult | None = None  # set by ask_many's batched search
    timings: dict[str, float] = field(default_factory=dict)


class Assistant:
    """Answers consumer-credit questions from the bundled, indexed knowledge base.

    >>> bot = Assistant()  # builds the model and index if missing  # doctest: +SKIP
    >>> bot.ask("在闲鱼买东西会开通借呗吗?").route  # doctest: +SKIP
    'knowledge'
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        knowledge_dir: Path | None = None,
        components: Components | None = None,
        build_missing: bool = True,
    ) -> None:
        """``build_missing=False`` (servers) refuses a missing or foreign index instead of
        building one: see :class:`assistant.errors.IndexNotReadyError`."""
        self.components = components or build_components(
            settings or get_settings(), knowledge_dir=knowledge_dir, build_missing=build_missing
        )

    @property
    def ready(self) -> bool:
        """True once the embedding model is loaded (questions before that wait for it)."""
        return bool(getattr(self.components.search.store.embedder, "loaded", True))

    def wait_ready(self) -> None:
        """Block until the embedding model is loaded (raises its error if it cannot load)."""
        self.components.search.embed("warm up")

    # -- the knowledge base, for browsing ------------------------------------------------------
    def knowledge_entries(self) -> list[Entry]:
        """Every loaded entry, sorted by id (for browsing; entries are frozen data)."""
        return sorted(self.components.entries.values(), key=lambda e: e.id)

    def find_entries(self, query: str, k: int = 10) -> list[Citation]:
        """Entries matching ``query`` (normalised, dense + lexical), best first, as citations."""
        text = mask_personal_data(strip_control(query)).strip()
        if not text:
            return []
        lang = detect_language(text)
        hits = self.components.search.search(text, k=k).hits
        return [self._cite(self.components.entries[h.entry_id], h, lang) for h in hits]

    # -- input -----------------------------------------------------------------------------
    def _clean(self, question: str) -> tuple[str, list[str]]:
        if not isinstance(question, str):
            raise TypeError(f"question must be a string, not {type(question).__name__}")
        text = strip_control(question).strip()
        if not text:
            raise ValueError("question is empty: ask something, e.g. '在闲鱼买东西会开通借呗吗?'")
        text = strip_injection(text) or text  # injected instructions change no decision
        notes: list[str] = []
        limit = self.components.rules.max_question_chars
        if len(text) > limit:
            text = text[:limit]
            notes.append(TRIM_NOTE[detect_language(text)].format(n=limit))
        return mask_personal_data(text), notes

    # -- answering -------------------------------------------------------------------------
    def ask(self, question: str, history: History | None = None) -> Answer:
        """Answer one question; ``history`` is the conversation so far ({"role", "content"})."""
        return self.ask_many([question], [history])[0]

    def ask_many(
        self, questions: Sequence[str], histories: Sequence[History | None] | None = None
    ) -> list[Answer]:
        """Answer many questions with one batched embedding call (batch evaluation)."""
        histories = list(histories) if histories is not None else [None] * len(questions)
        if len(histories) != len(questions):
            raise ValueError(f"{len(questions)} questions but {len(histories)} histories")
        pending = [self._prepare(q, h) for q, h in zip(questions, histories, strict=True)]
        searching = [p for p in pending if p.route == "knowledge"]
        if searching:
            search = self.components.search
            t0 = time.perf_counter()
            vectors = search.embed_many([p.query for p in searching])
            share = (time.perf_counter() - t0) * 1000 / len(searching)
            results = search.search_many([p.query for p in searching], vectors, k=10)
            for p, result in zip(searching, results, strict=True):
                p.result = result
                p.timings["embed_ms"] = share
        return [self._finish(p) for p in pending]

    def _prepare(self, question: str, history: History | None) -> _Pending:
        t0 = time.perf_counter()
        text, notes = self._clean(question)
        router = self.components.router
        route: Route = router.route(text)
        query = resolve_followup(text, history) if route == "knowledge" else text
        if route != "whatif" and history:
            merged = resolve_whatif_followup(text, history, lambda t: router.route(t) == "whatif")
            if merged is not None:  # "要是涨到750呢" after a what-if question
                route, query = "whatif", mask_personal_data(strip_control(merged))
        story = recent_story(text, history)
        if story is not None:
            story = mask_personal_data(strip_control(story))
        p = _Pending(text, notes, detect_language(text), route, query, story)
        p.timings["route_ms"] = (time.perf_counter() - t0) * 1000
        return p

    def _finish(self, p: _Pending) -> Answer:
        c = self.components
        t_start = time.perf_counter()
        text, lang, route = p.text, p.lang, p.route
        retrieved: tuple[tuple[str, float], ...] = ()
        citations: list[Citation] = []
        scam: str | None = None
        if route == "whatif":
            scam = self._scam_warning(text, lang, None, p.story)
            answer_text, abstained = self._whatif(p.query, lang), False
        elif route == "out_of_scope":
            scam = self._scam_warning(text, lang, None, p.story)
            answer_text, abstained = abstain_text(lang, True, scam), True
        else:
            result = p.result or c.search.search(p.query, k=10)
            p.timings.update({k: v for k, v in result.timings.items() if k != "embed_ms"})
            retrieved = tuple((h.entry_id, round(h.score, 4)) for h in result.hits)
            scam = self._scam_warning(text, lang, result.top, p.story)
            chosen = self._choose(result, scam is not None, p.query, lang)
            if chosen is None:
                in_domain = c.router.in_domain(p.query)
                route = "knowledge" if in_domain or scam else "out_of_scope"
                answer_text, abstained = abstain_text(lang, not in_domain, scam), True
            else:
                t1 = time.perf_counter()
                entries = [c.entries[h.entry_id] for h in chosen]
                body = c.composer.compose(
                    ComposeInput(text, lang, entries, scam, c.rules.max_points)
                )
                answer_text = f"{body}\n\n{sources_block(entries, lang)}"
                citations = [self._cite(c.entries[h.entry_id], h, lang) for h in chosen]
                abstained = False
                p.timings["compose_ms"] = (time.perf_counter() - t1) * 1000
        log.info("question route=%s lang=%s scam=%s text=%r", route, lang, bool(scam), text[:200])
        if p.notes:
            answer_text = "\n\n".join([*p.notes, answer_text])
        p.timings["total_ms"] = (
            p.timings.get("route_ms", 0.0)
            + p.timings.get("embed_ms", 0.0)
            + (time.perf_counter() - t_start) * 1000
        )
        return Answer(
            text=answer_text,
            route=route,
            citations=citations,
            abstained=abstained,
            scam_warning=scam,
            language=lang,
            timings=p.timings,
            notes=tuple(p.notes),
            retrieved=retrieved,
        )

    def _scam_warning(
        self, text: str, lang: Lang, top: EntryHit | None, story: str | None = None
    ) -> str | None:
        """The warning when ``text`` (or the recent ``story`` it continues) smells of a scam.

        Retrieval evidence counts for the question itself only: it was retrieved for it.
        """
        c = self.components
        evidence = (
            top is not None
            and c.entries[top.entry_id].is_scam
            and top.dense >= c.rules.scam_evidence_above
        )
        flagged = c.scam.check(text, evidence) or (story is not None and c.scam.check(story))
        return SCAM_WARNING[lang] if flagged else None

    def _choose(
        self, result: SearchResult, scam: bool, query: str, lang: Lang
    ) -> list[EntryHit] | None:
        """The entries to answer from, best first, or None to abstain (decided here, in code)."""
        rules = self.components.rules
        entries = self.components.entries
        hits = result.hits
        if not hits:
            return None
        top = hits[0]
        threshold = rules.abstain_below[lang]
        if result.unknown_words:
            threshold = max(threshold, rules.unknown_word_below[lang])
        if not self.components.router.in_domain(query):
            threshold = max(threshold, rules.out_of_domain_below)
        if scam:
            # A scam question is answered from a scam entry even when the wording is unusual.
            scam_hits = [h for h in hits if entries[h.entry_id].is_scam]
            if scam_hits:
                return [scam_hits[0]]
            fallback = rules.scam_fallback_entry
            if fallback in entries:
                return [EntryHit(fallback, top.score, top.dense)]
        if top.dense < threshold and not top.exact:
            return None
        chosen = [top]
        for h in hits[1:2]:
            if top.score - h.score <= rules.second_entry_margin and h.dense >= threshold:
                chosen.append(h)
        return chosen

    @staticmethod
    def _cite(entry: Entry, hit: EntryHit, lang: Lang) -> Citation:
        return Citation(
            doc_id=entry.id,
            title=entry.title(lang),
            snippet=entry.section(lang).verdict,
            score=round(hit.score, 4),
            sources=entry.sources,
            reviewed=entry.reviewed.isoformat(),
        )

    def _whatif(self, text: str, lang: Lang) -> str:
        from assistant.whatif import whatif_reply

        return whatif_reply(text, lang).text
