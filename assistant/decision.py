"""What to answer from: the decision policy in one place, beside its rules file
(``rules/answering.yaml``, validated: an unknown key or a wrong type names the file and the key).

Closeness alone is not enough. Real questions are short and many entries are near each other
in meaning ("花呗分期能提前还吗" / "花呗分期怎么收费"), so the policy also reads what the question
asks:

1. **Product.** A question that names products (花呗, 借呗, 网商贷, 芝麻信用, 余额宝, 闲鱼, 信用卡,
   征信; ``knowledge/lexicon.yaml``) is answered only from entries about one of them, or about no
   product at all (scam patterns, rights under the law). A Huabei question is never answered from a
   Jiebei entry; when no entry of its product is close enough, Mingbai says so. Products in
   ``exclusive_products`` (花呗, 借呗) exclude each other: a question naming 借呗 and 芝麻信用 is
   not answered from an entry about 花呗 and 芝麻信用.
2. **Strength.** The best remaining entry must be similar enough (per language; stricter when the
   question uses words the knowledge base never uses, and, for an entry about a product, when the
   question names no product or credit topic), or Mingbai says it does not know.
3. **Action.** Among entries within ``action_margin`` of the best, one whose ``actions`` match what
   the question asks to do (还款, 分期, 提额, 退款, 开通...) is preferred to one that merely sits
   closer; and an entry about the opposite act (降额 when 提额 is asked, reopening when closing is)
   yields to the closest entry within ``opposed_margin`` that is not. An entry about an act in
   ``asked_only_actions`` (a merchant's 收款) yields, within ``asked_only_margin``, to one that is
   not when the question does not ask that act: buyers' questions get buyers' answers.
   A question asking why something does not work ("为什么花呗充不了话费", ``failure_asked``)
   is not answered from an entry whose verdict says it does ("通常可以：…",
   ``affirming_verdict``) when one within ``failure_margin``, about the same act, is about why
   it fails (``failure_title``).
4. **Ambiguity.** When the two best entries are within ``ambiguous_margin``, are about different
   actions ("绑卡还款" / "关闭自动扣款"), and the question asks for neither, a guess would be wrong
   about as often as right: the decision is ``ambiguous`` and the answer asks which one is meant,
   with both verdicts.

>>> rules = load_answering_rules()
>>> rules.abstain_below["zh"] < rules.unknown_word_below["zh"]
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from assistant.calibration import BUNDLED_DIR, BUNDLED_MODEL, Thresholds, load_calibration
from assistant.errors import ConfigError
from knowledge.entry import Entry, Lang
from knowledge.errors import validation_problems
from knowledge.lexicon import Lexicon
from retrieval.prepared import Prepared, Text, prepare
from retrieval.search import EntryHit, SearchConfig, SearchResult

ANSWERING_PATH = Path(__file__).resolve().parent / "rules" / "answering.yaml"
Reason = Literal[
    "answered", "ambiguous", "scam", "weak", "no_entry_for_product", "nothing_found"
]


class _Retrieval(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    n_chunks: int = 40
    lexical_weight: float = 0.0
    exact_match: bool = True
    exact_bonus: float = 0.05


class AnsweringRules(Thresholds):
    """The numbers behind every answer decision (see rules/answering.yaml for each one's why):
    the model's calibrated :class:`Thresholds`, and the rest, which are the same for any model."""

    second_entry_margin: float
    action_margin: float = 0.0
    opposed_margin: float = 0.0
    ambiguous_margin: float = 0.0
    asked_only_actions: tuple[str, ...] = ()
    asked_only_margin: float = 0.0
    failure_asked: tuple[str, ...] = ()
    affirming_verdict: tuple[str, ...] = ()
    failure_title: tuple[str, ...] = ()
    failure_ignored_actions: tuple[str, ...] = ()
    failure_margin: float = 0.0
    exclusive_products: tuple[str, ...] = ()
    max_points: int
    max_question_chars: int
    query_max_tokens: int
    scam_fallback_entry: str
    top_only_entries: tuple[str, ...] = ()
    retrieval: _Retrieval = _Retrieval()

    @field_validator("failure_asked", "affirming_verdict", "failure_title")
    @classmethod
    def _regexes(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for p in (*patterns, _alternation(patterns)):
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"{p!r} is not a regular expression ({exc})") from None
        return patterns

    @property
    def search(self) -> SearchConfig:
        return SearchConfig(**self.retrieval.model_dump())


@lru_cache(maxsize=8)
def load_answering_rules(
    path: Path = ANSWERING_PATH, model: str = BUNDLED_MODEL, home: Path | None = None,
    model_path: str = "",
) -> AnsweringRules:
    """The rules file, validated, with the thresholds calibrated for ``model`` (an identity,
    :func:`retrieval.embeddings.model_identity`; ``home``: the data dir holding calibrations
    written by ``mingbai calibrate``). A mistake is a ConfigError naming the file and the key;
    an uncalibrated model is a ConfigError saying to run ``mingbai calibrate``."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the answering rules ({exc})") from exc
    if isinstance(data, dict):
        moved = sorted(set(data) & set(Thresholds.model_fields))
        if moved:
            raise ConfigError(f"{path}: {moved[0]} depends on the embedding model and belongs in "
                              f"its calibration file ({BUNDLED_DIR})", field=moved[0])  # fmt: skip
        calibrated = load_calibration(model, home or Path("/nonexistent"), model_path)
        data = {**calibrated.thresholds.model_dump(), **data}
    try:
        return AnsweringRules.model_validate(data or {})
    except ValidationError as exc:
        problems, key = validation_problems(exc.errors())
        raise ConfigError(f"{path}: {problems}", field=key) from None


@dataclass(frozen=True)
class Decision:
    """The entries to answer from, best first (empty: say "I don't know"), and why."""

    chosen: tuple[EntryHit, ...]
    reason: Reason
    products: frozenset[str]  # the products the question names

    @property
    def abstained(self) -> bool:
        return not self.chosen


class DecisionPolicy:
    """Turns a search result into a :class:`Decision` (no I/O; the same input, the same output)."""

    def __init__(
        self,
        rules: AnsweringRules,
        entries: Mapping[str, Entry],
        lexicon: Lexicon,
        credit_question: Callable[[Text], bool],
    ) -> None:
        self.rules = rules
        self.entries = entries
        self.lexicon = lexicon
        self.credit_question = credit_question

    def products_of(self, query: Text) -> frozenset[str]:
        return self.lexicon.products_in(prepare(query).norm)

    def fits_products(self, entry: Entry, products: frozenset[str]) -> bool:
        """An entry may answer a question about ``products`` (empty: any entry may), unless it
        is about another of the ``exclusive_products`` than the question names."""
        if not products or not entry.products:
            return True
        exclusive = frozenset(self.rules.exclusive_products)
        named, about = products & exclusive, entry.products & exclusive
        if named and about and not named & about:
            return False
        return bool(entry.products & products)

    def threshold(self, result: SearchResult, lang: Lang) -> float:
        """The similarity an entry about no particular product needs to answer."""
        rules = self.rules
        threshold = rules.abstain_below[lang]
        if result.unknown_words:
            threshold = max(threshold, rules.unknown_word_below[lang])
        return threshold

    def product_threshold(self, base: float, query: Text) -> float:
        """The similarity an entry about a product needs: stricter when the question names no
        product and no credit topic ("支付宝怎么交电费" is not a Huabei question)."""
        if not self.credit_question(query):
            return max(base, self.rules.out_of_domain_below)
        return base

    def decide(
        self, result: SearchResult, *, scam: bool, query: Text, lang: Lang,
        about_scams: bool = True,
    ) -> Decision:
        """``scam``: the question was flagged; ``about_scams``: it mentions scams at all (if
        neither, scam entries do not answer it: a warning is not an answer to an ordinary
        question)."""
        query = prepare(query)
        products = self.products_of(query)
        hits = result.hits if scam else self._answerable(result.hits, about_scams)
        if not hits:
            return Decision((), "nothing_found", products)
        if scam:
            # A scam story is answered from a scam entry even when the wording is unusual.
            scam_hits = [h for h in hits if self.entries[h.entry_id].is_scam]
            if scam_hits:
                return Decision((scam_hits[0],), "scam", products)
            fallback = self.rules.scam_fallback_entry
            if fallback in self.entries:
                top = hits[0]
                return Decision((EntryHit(fallback, top.score, top.dense),), "scam", products)
        needed = self._needed(result, query, lang)
        strong = self._strong(hits, products, needed)
        if not strong:
            closest_other = any(h.dense >= needed(h) for h in hits)
            reason: Reason = "no_entry_for_product" if closest_other and products else "weak"
            return Decision((), reason, products)
        normalized = query.norm
        top = self._prefer_action(strong, normalized)
        runner = next((h for h in strong if h is not top), None)
        if runner is not None and self._ambiguous(top, runner, normalized):
            return Decision((top, runner), "ambiguous", products)
        chosen = [top]
        for h in strong:
            if h is not top and top.score - h.score <= self.rules.second_entry_margin:
                chosen.append(h)
                break
        return Decision(tuple(chosen), "answered", products)

    def _needed(self, result: SearchResult, query: Prepared, lang: Lang
                ) -> Callable[[EntryHit], float]:
        """The similarity each hit needs to answer (stricter for product entries when the
        question names no product or credit topic)."""
        base = self.threshold(result, lang)
        strict = self.product_threshold(base, query)
        return lambda h: strict if self.entries[h.entry_id].products else base

    def _strong(self, hits: Sequence[EntryHit], products: frozenset[str],
                needed: Callable[[EntryHit], float]) -> list[EntryHit]:
        fitting = [h for h in hits if self.fits_products(self.entries[h.entry_id], products)]
        strong = [h for h in fitting if h.dense >= needed(h) or h.exact]
        top_only = self.rules.top_only_entries
        if strong and strong[0] is not hits[0] and strong[0].entry_id in top_only:
            # closer entries were too weak: what is left does not answer with a top-only entry
            strong = [h for h in strong if h.entry_id not in top_only]
        return strong

    def _answerable(self, hits: Sequence[EntryHit], about_scams: bool) -> list[EntryHit]:
        """``hits`` without the scam entries, unless the question is about scams (a warning is
        not an answer to an ordinary question)."""
        return list(hits) if about_scams else [h for h in hits
                                               if not self.entries[h.entry_id].is_scam]

    def could_answer(self, result: SearchResult, *, query: Text, lang: Lang,
                     about_scams: bool = True) -> list[EntryHit]:
        """The hits strong enough to answer ``query``, best first, by the rule answers use (a
        knowledge search shows these: nothing for "今天天气怎么样"). Scam entries are left out
        unless ``about_scams``, as in :meth:`decide`."""
        query = prepare(query)
        products = self.products_of(query)
        hits = self._answerable(result.hits, about_scams)
        return self._strong(hits, products, self._needed(result, query, lang))

    def _prefer_action(self, hits: Sequence[EntryHit], normalized: str) -> EntryHit:
        """The best hit, unless it is about the opposite of the asked act and one within
        ``opposed_margin`` is not, or one within ``action_margin`` matches more of the asked
        actions."""
        asked = self.lexicon.actions_in(normalized)
        hits = self._not_opposed(self._asked_audience(hits, asked), asked)
        failing = self._why_it_fails(hits, normalized, asked)
        if failing is not None:
            return failing  # closer entries say it works: not the answer to "why can't I"
        top = hits[0]
        margin = self.rules.action_margin
        if not asked or margin <= 0:
            return top

        def matched(h: EntryHit) -> int:
            return len(self.entries[h.entry_id].actions & asked)

        close = [h for h in hits if top.score - h.score <= margin]
        best = max(close, key=lambda h: (matched(h), h.score, _neg_id(h.entry_id)))
        return best if matched(best) > matched(top) else top

    def _asked_audience(self, hits: Sequence[EntryHit], asked: frozenset[str]
                        ) -> Sequence[EntryHit]:
        """``hits``, without those near the top about an ``asked_only_actions`` act the question
        does not ask (a merchant's 收款 entry does not answer "开通花呗怎么不符合条件", a buyer's
        question), when a hit as near is about none."""
        only = frozenset(self.rules.asked_only_actions) - asked
        margin = self.rules.asked_only_margin
        if not only or margin <= 0:
            return hits

        return _yield_near(hits, lambda h: bool(self.entries[h.entry_id].actions & only), margin)

    def _not_opposed(self, hits: Sequence[EntryHit], asked: frozenset[str]
                     ) -> Sequence[EntryHit]:
        """``hits``, without those near the top about an act undoing the asked one ("额度可以上调
        吗" is not answered from 额度为什么降了), when a hit as near is not about one. An entry
        about both the asked act and its undoing ("A 账号关了花呗, B 账号为什么开不了") is not
        opposed, nor one about a broader act (lexicon ``kind_of``: opening covers reopening)."""
        undoing = {a: self.lexicon.opposed_to(frozenset({a})) - asked for a in asked}
        covers = {a: {a, *self.lexicon.broader(a)} for a in asked}
        margin = self.rules.opposed_margin
        if not any(undoing.values()) or margin <= 0:
            return hits

        def opposed(h: EntryHit) -> bool:
            acts = self.entries[h.entry_id].actions
            return any(acts & undone and not acts & covers[a] for a, undone in undoing.items())

        return _yield_near(hits, opposed, margin)

    def _why_it_fails(self, hits: Sequence[EntryHit], normalized: str,
                      asked: frozenset[str]) -> EntryHit | None:
        """The closest entry about why it fails (``failure_title``: "为什么我的花呗充不了话费？"),
        when the question asks why something does not work and the top entry's verdict says it
        does ("通常可以：…"), if that entry is within ``failure_margin`` and about an act the
        question asks or the top entry is about (``failure_ignored_actions`` do not count);
        else None."""
        margin = self.rules.failure_margin
        top = hits[0]
        if (margin <= 0 or top.exact or not _matches(self.rules.failure_asked, normalized)
                or not _matches(self.rules.affirming_verdict,
                                self.entries[top.entry_id].zh.verdict)):
            return None
        acts = (asked | self.entries[top.entry_id].actions) - set(
            self.rules.failure_ignored_actions)
        for h in hits[1:]:
            if top.score - h.score > margin:
                break
            entry = self.entries[h.entry_id]
            if entry.actions & acts and _matches(self.rules.failure_title, entry.title_zh):
                return h
        return None

    def _ambiguous(self, top: EntryHit, runner: EntryHit, normalized: str) -> bool:
        """Close, about different actions, and the question settles neither (rule 4)."""
        if top.exact or abs(top.score - runner.score) > self.rules.ambiguous_margin:
            return False
        first, second = self.entries[top.entry_id].actions, self.entries[runner.entry_id].actions
        asked = self.lexicon.actions_in(normalized)
        return bool(first and second and not first & second and not asked & (first | second))


def _yield_near(hits: Sequence[EntryHit], flagged: Callable[[EntryHit], bool], margin: float
                ) -> Sequence[EntryHit]:
    """``hits`` without the ``flagged`` ones within ``margin`` of the top, when the top is flagged
    and a hit as near is not; otherwise ``hits`` unchanged."""
    top = hits[0]

    def near(h: EntryHit) -> bool:
        return top.score - h.score <= margin

    if not flagged(top) or all(flagged(h) for h in hits if near(h)):
        return hits
    return [h for h in hits if not (flagged(h) and near(h))]


def _alternation(patterns: tuple[str, ...]) -> str:
    """One regular expression matching where any of ``patterns`` does."""
    return "|".join(f"(?:{p})" for p in patterns)


@lru_cache(maxsize=32)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile(_alternation(patterns)) if patterns else None


def _matches(patterns: tuple[str, ...], text: str) -> bool:
    pattern = _compiled(patterns)
    return bool(pattern and pattern.search(text))


def _neg_id(entry_id: str) -> tuple[int, ...]:
    """Sort key so that, all else equal, the smaller id wins inside ``max``."""
    return tuple(-ord(c) for c in entry_id)
