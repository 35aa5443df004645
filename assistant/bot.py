"""The public entry point: ``Assistant().ask(question, history)`` → :class:`Answer`."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answer import Answer, Citation, Route
from assistant.composer import (
    ComposeInput,
    abstain_text,
    no_entry_for_product_text,
    sources_block,
)
from assistant.factory import Components, build_components, load_model_in_background
from assistant.followup import recent_story, resolve_followup
from assistant.injection import strip_injection
from assistant.privacy import mask_personal_data
from assistant.scam import WARNING as SCAM_WARNING
from assistant.settings import Settings, get_settings
from assistant.whatif.followup import resolve_whatif_followup
from knowledge.entry import Entry, Lang
from retrieval.prepared import Prepared, Text, prepare
from retrieval.search import EntryHit, SearchResult
from retrieval.text import detect_language, strip_control

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from assistant.decision import Decision
    from assistant.whatif.simulate import Simulation

log = logging.getLogger("mingbai")
RULES_DIR = Path(__file__).resolve().parent  # rules/ and whatif/rules/
TRIM_NOTE = {
    "zh": "（你的问题超过 {n} 个字符，只读取了前 {n} 个字符。）",
    "en": "(Your question was longer than {n} characters; only the first {n} were read.)",
}
History = Sequence[Mapping[str, str]]


@dataclass
class _Pending:
    """A question between its preparation and its answer (lets ``ask_many`` batch embeddings).

    ``question`` is the message prepared once (cleaned, masked, then normalised, tagged,
    tokenised and slot-parsed on first use); ``query`` is what is searched and scored, the same
    object unless a follow-up or an earlier part of the message added to it."""

    question: Prepared
    notes: list[str]
    route: Route
    query: Prepared
    kind: str | None = None  # greeting, thanks, handoff, lookup (assistant.dialogue), or None
    story: str | None = None  # the recent conversation, for scams told over several messages
    result: SearchResult | None = None  # set by ask_many's batched search
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.question.text

    @property
    def lang(self) -> Lang:
        return self.question.lang


SUGGESTIONS = 3  # related questions offered after an answer


def _answered_from(result: SearchResult, allowed: Sequence[str]) -> list[EntryHit]:
    """A hand-off or a look-up answered from its own entries: the best ranked of ``allowed``,
    else the first of them at the top hit's score."""
    ranked = [h for h in result.hits if h.entry_id in allowed]
    top = result.top
    return ranked[:1] or [EntryHit(allowed[0], top.score if top else 1.0,
                                   top.dense if top else 1.0)]


def _plain(question: str) -> str:
    """A question echoed as a part's heading, with no markup (answers never carry a user's HTML)."""
    return re.sub(r"[<>*`\[\]]", " ", question).strip()


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
        load_model: bool = True,
    ) -> None:
        """``build_missing=False`` (servers) refuses a missing or foreign index instead of
        building one: see :class:`assistant.errors.IndexNotReadyError`. ``load_model=False``
        leaves the embedding model's background load to :meth:`load_model_in_background` (a
        server calls it once its page is built: the two compete for the interpreter)."""
        self.components = components or build_components(
            settings or get_settings(), knowledge_dir=knowledge_dir, build_missing=build_missing,
            load_model=load_model,
        )

    def load_model_in_background(self) -> None:
        """Start loading the embedding model in a thread, if it is not loaded (questions asked
        meanwhile wait for it; :attr:`ready` says when it is done)."""
        load_model_in_background(self.components.search.store.embedder)

    @property
    def ready(self) -> bool:
        """True once the embedding model is loaded (questions before that wait for it)."""
        return bool(getattr(self.components.search.store.embedder, "loaded", True))

    @functools.cached_property
    def versions(self) -> dict[str, str]:
        """What an answer was made with, for the question log: ``rules`` (a hash of the rule
        files) and ``index`` (the collection, which names the model, and a hash of the entries)."""
        import hashlib

        rules = hashlib.sha256()
        for path in sorted(RULES_DIR.rglob("*")):
            if path.is_file() and path.suffix in (".yaml", ".json"):
                rules.update(path.read_bytes())
        kb = hashlib.sha256()
        for entry in self.knowledge_entries():
            kb.update(f"{entry.id}:{entry.content_hash}".encode())
        store = getattr(self.components.search.store, "name", "index")
        return {"rules": rules.hexdigest()[:12], "index": f"{store}:{kb.hexdigest()[:12]}"}

    def wait_ready(self) -> None:
        """Block until the embedding model is loaded (raises its error if it cannot load)."""
        self.components.search.embed("warm up")

    # -- the knowledge base, for browsing ------------------------------------------------------
    def knowledge_entries(self) -> list[Entry]:
        """Every loaded entry, sorted by id (for browsing; entries are frozen data)."""
        return sorted(self.components.entries.values(), key=lambda e: e.id)

    def find_entries(self, query: str, k: int = 10) -> list[Citation]:
        """Entries that could answer ``query``, best first, as citations: the same rule as an
        answer, so a query the knowledge base does not cover ("今天天气怎么样") finds none."""
        text = mask_personal_data(strip_control(query)).strip()
        if not text:
            return []
        c = self.components
        q = Prepared(text)
        result = c.search.search(q, k=max(k, 10))
        hits = c.policy.could_answer(result, query=q, lang=q.lang,
                                     about_scams=c.scam.mentions_scams(q))
        return [self._cite(c.entries[h.entry_id], h, q.lang) for h in hits[:k]]

    def langchain_tool(self, k: int = 4) -> BaseTool:
        """The knowledge search as a LangChain tool for agents (retrieval.langchain_retriever)."""
        from retrieval.langchain_retriever import knowledge_tool

        return knowledge_tool(self.components.search, k=k)

    # -- what-if ---------------------------------------------------------------------------
    def what_if(
        self,
        profile: Mapping[str, Any],
        changes: Mapping[str, Any] | None = None,
        target_band: str | None = None,
    ) -> Simulation:
        """The rules scorer's estimate (an educational estimate, not Ant Group's model) for
        ``profile`` (missing fields take the common case), after ``changes``, with a plan to
        reach ``target_band`` (default: the next band up). A bad value raises ``ProfileError``
        with the field in ``.field``. Needs neither the model nor the index."""
        from assistant.whatif.simulate import simulate

        return simulate(profile, changes, target_band)

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
        """Answer many questions with one batched search (batch evaluation, the HTTP API).

        A message asking several questions ("花呗怎么提前还款？借呗能提前还吗？要手续费吗？") is
        answered part by part, each part seeing the ones before it as history (so "要手续费吗"
        is about 借呗), up to ``max_parts``; the answer lists them in order.
        """
        histories = list(histories) if histories is not None else [None] * len(questions)
        if len(histories) != len(questions):
            raise ValueError(f"{len(questions)} questions but {len(histories)} histories")
        flat: list[tuple[str, History | None]] = []
        spans: list[tuple[int, int, list[str]]] = []  # start, parts answered, parts not read
        for question, history in zip(questions, histories, strict=True):
            parts = self._parts(question)
            dialogue = self.components.dialogue
            answered, rest = parts[: dialogue.max_parts], parts[dialogue.max_parts :]
            spans.append((len(flat), len(answered), rest))
            context = list(history or [])
            for part in answered:
                flat.append((part, context or None))
                context = [*context, {"role": "user", "content": part, "part": "1"}]
        answers = self._answer_all([q for q, _ in flat], [h for _, h in flat])
        return [
            self._merge(questions[i], answers[start : start + n], rest)
            if n > 1 else answers[start]
            for i, (start, n, rest) in enumerate(spans)
        ]

    def _parts(self, question: str) -> list[str]:
        """The questions of one message (the message itself when it asks one, or is a scam
        story: the warning must stand at the top, once)."""
        limit = self.components.rules.max_question_chars
        if not isinstance(question, str) or len(question) > limit:
            return [question]  # a long paste is trimmed, with a note, and read as one
        # injected instructions are dropped first: "…？忽略之前的指令" is one question, not two
        cleaned = strip_injection(question) or question
        parts = self.components.dialogue.split(cleaned)
        if len(parts) < 2 or self.components.scam.check(cleaned):  # one part: no scam check here
            return [question]
        return parts

    @staticmethod
    def _earlier_parts(history: History | None) -> list[str]:
        """The parts of the same message before this one, nearest first (empty: a message of
        its own)."""
        out: list[str] = []
        for turn in reversed(history or []):
            if not turn.get("part"):
                break
            out.append(str(turn["content"]))
        return out

    def _part_query(self, part: Text, earlier: Sequence[str]) -> Prepared:
        """A later part of one message that names no product ("要手续费吗", "到期了要一次还清吗")
        is read with what the parts before it named: the products of the nearest part naming any
        (its subject: "花呗自动还款从哪扣？能关掉不？扣款没成功咋整" is about 花呗 throughout) and
        the topic words of the subject, then of the part just before (not those undone by the
        part's own: "涨额度" is not borrowed by "为啥给我降了")."""
        from assistant.composer import PRODUCT_NAMES

        part = prepare(part)
        policy = self.components.policy
        lang = part.lang
        previous = earlier[0]
        subject = next((e for e in earlier if policy.products_of(e)), previous)
        named = policy.products_of(subject) - policy.products_of(part)
        names = [PRODUCT_NAMES[n][0 if lang == "zh" else 1]
                 for n in sorted(named) if n in PRODUCT_NAMES]  # fmt: skip
        # the subject's topic first: "能关掉不？" borrowed 自动还款 from it, and so does the part
        # after it
        prev = prepare(subject if subject == previous else f"{subject} {previous}").lower
        own = part.lower
        lexicon = policy.lexicon
        undone = lexicon.opposed_to(lexicon.actions_in(own))  # "涨额度" is not "降了"
        topics = [w for action, words in lexicon.actions.items() if action not in undone
                  for w in words if len(w) >= 2 and w in prev and w not in own]  # fmt: skip
        # the longer word first where two start together ("收钱码" before "收钱"): a set's order
        # differs between processes
        names += sorted(set(topics), key=lambda w: (prev.index(w), -len(w), w))[:2]
        return Prepared(f"{' '.join(names)} {part}") if names else part

    def _merge(self, message: str, answers: Sequence[Answer], rest: Sequence[str]) -> Answer:
        lang = detect_language(message)
        notes: list[str] = []
        if rest:
            template = (self.components.dialogue.parts_note or {}).get(lang, "")
            sep = "；" if lang == "zh" else "; "
            shown = sep.join(_plain(mask_personal_data(r)) for r in rest)
            notes.append(template.format(n=len(answers) + len(rest), k=len(answers), rest=shown))
        blocks = [f"**{i}. {_plain(a.question)}**\n\n{a.text}" for i, a in enumerate(answers, 1)]
        citations: list[Citation] = []
        for a in answers:
            citations += [c for c in a.citations if c.doc_id not in {x.doc_id for x in citations}]
        timings: dict[str, float] = {}
        for a in answers:
            for k, v in a.timings.items():
                timings[k] = timings.get(k, 0.0) + v
        routes = [a.route for a in answers]
        seen = {c.doc_id for c in citations}  # never an entry the answer cites
        related: list[tuple[str, str]] = []  # each part's first suggestions first
        for rank in range(SUGGESTIONS):
            for a in answers:
                if rank < len(a.suggestion_ids) and a.suggestion_ids[rank] not in seen:
                    seen.add(a.suggestion_ids[rank])
                    related.append((a.suggestion_ids[rank], a.suggestions[rank]))
        related = related[:SUGGESTIONS]
        return Answer(
            text="\n\n".join([*notes, *blocks]),
            route="knowledge" if "knowledge" in routes else routes[0],
            citations=citations,
            abstained=all(a.abstained for a in answers),
            scam_warning=next((a.scam_warning for a in answers if a.scam_warning), None),
            language=lang,
            timings=timings,
            notes=tuple(notes),
            retrieved=tuple(r for a in answers for r in a.retrieved),
            clarifying=all(a.clarifying for a in answers),
            parts=tuple(answers),
            suggestions=tuple(t for _, t in related),
            suggestion_ids=tuple(i for i, _ in related),
            question=mask_personal_data(strip_control(message)).strip(),
        )

    def _answer_all(
        self, questions: Sequence[str], histories: Sequence[History | None]
    ) -> list[Answer]:
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
        cleaned, notes = self._clean(question)
        text = Prepared(cleaned)  # every step below reads this one object
        router = self.components.router
        route: Route = router.route(text)
        if route == "out_of_scope" and self.components.scam.check(text):
            route = "knowledge"  # a scam story is answered, whatever else it names
        kind = self.components.dialogue.kind(text)
        if kind in ("greeting", "thanks"):
            route = "conversation"
        elif kind in ("handoff", "lookup"):
            route = "knowledge"  # "帮我查我的额度多少" is a look-up, never an estimate
        earlier = self._earlier_parts(history)  # a later part of the same message
        query = prepare(
            resolve_followup(text, history) if route == "knowledge" and not earlier else text
        )
        if (route in ("knowledge", "out_of_scope") and earlier
                and (not self.components.policy.products_of(text)
                     or self.components.dialogue.leans_back(text))):
            borrowed = self._part_query(text, earlier)
            # "还有扣款没成功咋整", "Also will it hurt my mortgage?": out of scope alone, a
            # credit question with the products the message named before
            if route == "knowledge" or router.route(borrowed) == "knowledge":
                route, query = "knowledge", borrowed
        if route != "whatif" and history:
            merged = resolve_whatif_followup(text, history, lambda t: router.route(t) == "whatif")
            if merged is not None:  # "要是涨到750呢" after a what-if question
                route, query = "whatif", Prepared(mask_personal_data(strip_control(merged)))
        story = recent_story(text, history)
        if story is not None:
            story = mask_personal_data(strip_control(story))
        p = _Pending(text, notes, route, query, kind, story)
        p.timings["route_ms"] = (time.perf_counter() - t0) * 1000
        return p

    def _finish(self, p: _Pending) -> Answer:
        c = self.components
        t_start = time.perf_counter()
        text, lang, route = p.text, p.lang, p.route
        retrieved: tuple[tuple[str, float], ...] = ()
        citations: list[Citation] = []
        scam: str | None = None
        clarifying = False
        suggestions: tuple[str, ...] = ()
        suggested: tuple[str, ...] = ()
        dialogue = c.dialogue
        if route == "conversation":
            answer_text, abstained = dialogue.reply(p.kind or "greeting", lang), False
        elif route == "whatif":
            scam = self._scam_warning(p.question, lang, None, p.story)
            answer_text, abstained = self._whatif(p.query, lang), False
        elif route == "out_of_scope":
            scam = self._scam_warning(p.question, lang, None, p.story)
            answer_text, abstained = abstain_text(lang, True, scam), True
        else:
            result = p.result or c.search.search(p.query, k=10)
            p.timings.update({k: v for k, v in result.timings.items() if k != "embed_ms"})
            retrieved = tuple((h.entry_id, round(h.score, 4)) for h in result.hits)
            scam = self._scam_warning(p.question, lang, result.top, p.story)
            decision = c.policy.decide(
                result, scam=scam is not None, query=p.query, lang=lang,
                about_scams=c.scam.mentions_scams(p.query),
            )
            chosen = list(decision.chosen)
            handoff = [e for e in dialogue.handoff_entries if e in c.entries]
            if p.kind == "handoff" and handoff and not scam:
                chosen = _answered_from(result, handoff)
            if p.kind == "lookup" and not scam:
                allowed = self._fitting(dialogue.lookup_entries, decision.products)
                if allowed:
                    chosen = _answered_from(result, allowed)
            if p.kind == "lookup":
                named = self._topic(decision.products & {"huabei", "jiebei", "wangshangdai",
                                                          "sesame", "yuebao"}, lang, "")
                products = named or dialogue.reply("lookup_products", lang)
                p.notes.append(dialogue.reply("lookup", lang, products=products))
            fragment = (
                not scam and p.kind is None and p.query is p.question
                and dialogue.is_fragment(p.question)
                and not self._settled_fragment(p.query, decision)
            )
            if fragment:
                suggested = self._suggestions(result, decision.products, result_query=p.query)
                suggestions = tuple(c.entries[i].title(lang) for i in suggested)
                clarifying = bool(suggested)
            if clarifying:
                head = dialogue.reply("clarify", lang, topic=self._topic(decision.products, lang))
                answer_text = "\n".join([head, *(f"- {s}" for s in suggestions)])
                abstained = False
            elif not chosen:
                in_domain = c.router.in_domain(p.query)
                route = "knowledge" if in_domain or scam else "out_of_scope"
                answer_text, abstained = abstain_text(lang, not in_domain, scam), True
                if decision.reason == "no_entry_for_product":
                    answer_text = no_entry_for_product_text(lang, decision.products, scam)
            else:
                t1 = time.perf_counter()
                if chosen[0].entry_id != (result.top.entry_id if result.top else None):
                    # a look-up or a hand-off answered from its own entry: the ranking behind
                    # the answer starts with it
                    first = (chosen[0].entry_id, round(chosen[0].score, 4))
                    retrieved = (first, *(r for r in retrieved if r[0] != first[0]))
                entries = [c.entries[h.entry_id] for h in chosen]
                # a near-tie about different things: ask which one, with both verdicts
                choice = decision.reason == "ambiguous" and chosen == list(decision.chosen)
                main = entries[0].section(lang)  # a choice shows both entries' points as written
                order = () if choice else c.search.points.order(p.query, main.verdict, main.points)
                body = c.composer.compose(
                    ComposeInput(text, lang, entries, scam, c.rules.max_points, choice, order)
                )
                answer_text = f"{body}\n\n{sources_block(entries, lang)}"
                citations = [self._cite(c.entries[h.entry_id], h, lang) for h in chosen]
                abstained = False
                # 猜你想问: the closest other entries of the question's product, never one cited
                # (none under a scam warning: what to do next is the warning itself)
                suggested = () if scam else self._suggestions(
                    result, decision.products, exclude={h.entry_id for h in chosen})
                if choice:  # the chips are the two questions it may be
                    suggested, clarifying = tuple(h.entry_id for h in chosen), True
                suggestions = tuple(c.entries[i].title(lang) for i in suggested)
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
            clarifying=clarifying,
            suggestions=suggestions,
            suggestion_ids=suggested,
            question=text,
        )

    def _fitting(self, entry_ids: Sequence[str], products: frozenset[str]) -> list[str]:
        """``entry_ids`` that exist and fit the question's ``products``, in order."""
        c = self.components
        return [e for e in entry_ids
                if e in c.entries and c.policy.fits_products(c.entries[e], products)]

    def _settled_fragment(self, query: Prepared, decision: Decision) -> bool:
        """A fragment naming a product and an act ("借呗提额", "花呗关闭") whose most likely
        meaning (the first entry of that act's menu in rules/dialogue.yaml fitting the product)
        is also the entry answered: it is answered from that entry, not asked about. Naming two
        products ("花呗借呗提额") it is settled only if one entry is first for both."""
        if decision.reason != "answered" or not decision.chosen or not decision.products:
            return False
        menu = self.components.dialogue.act_menu(query)
        firsts = {fit[0] for p in decision.products
                  if (fit := self._fitting(menu, frozenset({p})))}  # fmt: skip
        return firsts == {decision.chosen[0].entry_id}

    def _suggestions(
        self, result: SearchResult, products: frozenset[str], n: int = SUGGESTIONS,
        result_query: Prepared | None = None, exclude: Collection[str] = (),
    ) -> tuple[str, ...]:
        """Up to ``n`` entries (ids) closest to the message that fit its products, none of
        ``exclude``: their titles are questions the knowledge base answers."""
        c = self.components
        asked = c.policy.lexicon.actions_in(result_query.norm) if result_query else set()
        fitting = [h for h in result.hits
                   if not c.entries[h.entry_id].is_scam
                   and c.policy.fits_products(c.entries[h.entry_id], products)]  # fmt: skip
        # entries about what the fragment names ("额度" → the limit entries) come first
        fitting.sort(key=lambda h: -len(c.entries[h.entry_id].actions & asked))
        menu = self._fitting(c.dialogue.menu(result_query) if result_query else (), products)
        out: list[str] = []
        for entry_id in [*menu, *(h.entry_id for h in fitting)]:
            if entry_id in out or entry_id in exclude:
                continue
            out.append(entry_id)
            if len(out) == n:
                break
        return tuple(out)

    @staticmethod
    def _topic(products: frozenset[str], lang: Lang, default: str | None = None) -> str:
        from assistant.composer import PRODUCT_NAMES
        from assistant.dialogue import DialogueRules

        names = [PRODUCT_NAMES[p][0 if lang == "zh" else 1] for p in sorted(products)
                 if p in PRODUCT_NAMES]  # fmt: skip
        joined = ("、" if lang == "zh" else " / ").join(names)
        if joined or default is not None:
            return joined or str(default)
        return DialogueRules.load().reply("clarify_topic", lang)

    def _scam_warning(
        self, text: Prepared, lang: Lang, top: EntryHit | None, story: str | None = None
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

    def _whatif(self, text: Prepared, lang: Lang) -> str:
        from assistant.whatif import whatif_reply

        return whatif_reply(text, lang).text


def default_assistant(build_missing: bool = True, load_model: bool = True) -> Assistant:
    """The assistant the command line uses: settings from the environment, bundled knowledge."""
    return Assistant(get_settings(), build_missing=build_missing, load_model=load_model)
