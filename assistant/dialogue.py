"""Messages that are not plain knowledge questions, decided in code from ``rules/dialogue.yaml``.

- a greeting or thanks on its own gets one short line and what Mingbai can do;
- asking for a person ("转人工") gets the official channels and that Mingbai is independent;
- a look-up of one's own account ("帮我查下我的借呗是不是逾期了") first says plainly that Mingbai
  sees no account and where to look, then the general answer;
- a fragment ("花呗", "额度") gets a clarifying question with questions it could mean.

>>> rules = DialogueRules.load()
>>> rules.kind("你好"), rules.kind("转人工"), rules.kind("帮我查一下我的花呗额度")
('greeting', 'handoff', 'lookup')
>>> rules.kind("花呗怎么提前还款") is None
True
>>> rules.is_fragment("额度"), rules.is_fragment("花呗能提前还吗"), rules.is_fragment("花呗还款")
(True, False, True)
>>> rules.is_fragment("借呗 网商银行"), rules.is_fragment("花呗怎么还款")
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import ConfigError
from knowledge.entry import Lang
from knowledge.errors import validation_problems
from knowledge.lexicon import load_lexicon
from retrieval.prepared import Text, prepare
from retrieval.text import normalize

DIALOGUE_PATH = Path(__file__).resolve().parent / "rules" / "dialogue.yaml"
Kind = Literal["greeting", "thanks", "handoff", "lookup"]
KINDS: tuple[Kind, ...] = ("greeting", "thanks", "handoff", "lookup")
_REPLY_KEYS = ("greeting", "thanks", "lookup", "lookup_products", "clarify", "clarify_topic")
# Words that carry no question of their own in a fragment (besides the lexicon's product names).
_QUESTION = re.compile(
    r"怎么|怎样|咋|如何|能不能|能否|可以|可不可以|能|会不会|会|吗|么|嘛|为什么|为啥|多少|几|哪|是不是|"
    r"有没有|要不要|什么|啥|[?？]|\b(how|what|why|when|where|which|can|could|do|does|is|are|will)\b"
)
# "还有二手的支持七天无理由退不": opened by a connective, or asked with a closing 不/没/否
_OWN_QUESTION = re.compile(r"^\s*(还有|另外|再有|以及|再就是)|(不|没|没有|否)[\s?？!！。.]*$")
# a space or a comma between Chinese clauses: a place a message may ask its next question
_SOFT_CUT = re.compile(r"(?<=[\u4e00-\u9fff])(\s+|\s*[，,]\s*)(?=[\u4e00-\u9fff])")


def _without_products(text: str) -> tuple[str, bool]:
    """``text`` with every product name of the lexicon blanked out, and whether it named one."""
    named = False
    for words in load_lexicon().products.values():
        for w in words:
            named = named or w in text
            text = text.replace(w, " ")
    return text, named


# what is left of "借呗成网商贷了", "花呗变成信用购了" once the product names are blanked
_SWITCHED = re.compile(r"(变|换|转|升级)?成|变|升级")
_OPENS_NEXT = re.compile(r"\s*(还有|另外|对了|顺便|以及|再问|再就是)")
_CLOSES_QUESTION = re.compile(r"[吗呢嘛啊呀么不]\s*$")
# what a follow-on says that is not a question of its own: "怎么办", "怎么回事", "是什么原因"
_GENERIC = re.compile(
    r"[\s\W_\d*]+|怎么|怎样|咋|如何|为什么|为啥|什么|啥|吗|呢|嘛|啊|呀|了|的|我|你|们|是|"
    r"还有|另外|对了|顺便|以及|回事|原因|造成|知道|办|弄|查"
)


def _first_clause(text: str) -> str:
    return _SOFT_CUT.split(text, maxsplit=1)[0]


# "是这个月还？还是下个月" is one question with two alternatives
_ALTERNATIVE = re.compile(r"还是|或者|或是|\bor\b", re.I)
_FILLER = re.compile(
    r"[\s\W_]+|我的|我|之前|以前|上回|上次|那笔|这笔|那个|这个|一下|请问|的|了|呢|吗|啊|呀|吧|嗯|哦|"
    r"蚂蚁|支付宝|\bmy\b|\bthe\b", re.I
)


def _patterns(path: Path, key: str, values: Any) -> tuple[re.Pattern[str], ...]:
    """The regular expressions listed under ``key``; a bad one is a ConfigError naming the file
    and the key."""
    try:
        return tuple(re.compile(p, re.I) for p in values or [])
    except re.error as exc:
        raise ConfigError(f"{path}: bad pattern under '{key}': {exc}") from exc


class _Texts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str


class _DialogueFile(BaseModel):
    """``rules/dialogue.yaml`` as written (an unknown key is an error)."""

    model_config = ConfigDict(extra="forbid")
    greeting: tuple[str, ...] = ()
    thanks: tuple[str, ...] = ()
    handoff: tuple[str, ...] = ()
    lookup: tuple[str, ...] = ()
    replies: dict[str, _Texts] = {}
    handoff_entries: tuple[str, ...] = ()
    lookup_entries: tuple[str, ...] = ()
    menus: dict[str, tuple[str, ...]] = {}
    fragment_max_words: int = 1
    split_before: tuple[str, ...] = ()
    leans_back: tuple[str, ...] = ()
    asks_whole: str | None = None
    leans_on: str | None = None
    max_parts: int = Field(3, ge=1)
    min_part_chars: int = Field(4, ge=1)
    parts_note: _Texts | None = None


@dataclass(frozen=True)
class DialogueRules:
    patterns: dict[Kind, tuple[re.Pattern[str], ...]]
    replies: dict[str, dict[Lang, str]]
    handoff_entries: tuple[str, ...]
    lookup_entries: tuple[str, ...]
    menus: dict[str, tuple[str, ...]]
    fragment_max_words: int
    split_before: tuple[re.Pattern[str], ...] = ()
    leans_back_patterns: tuple[re.Pattern[str], ...] = ()
    asks_whole: re.Pattern[str] | None = None
    leans_on: re.Pattern[str] | None = None
    max_parts: int = 3
    min_part_chars: int = 4
    parts_note: dict[Lang, str] | None = None

    @classmethod
    @lru_cache(maxsize=2)
    def load(cls, path: Path = DIALOGUE_PATH) -> DialogueRules:
        """The rules file, validated: an unknown key, a wrong type or a bad pattern is a
        ConfigError naming the file and the key."""
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read the dialogue rules ({exc})") from exc
        try:
            f = _DialogueFile.model_validate(data)
        except ValidationError as exc:
            problems, key = validation_problems(exc.errors())
            raise ConfigError(f"{path}: {problems}", field=key) from None
        missing = [k for k in _REPLY_KEYS if k not in f.replies]
        if missing:
            raise ConfigError(f"{path}: replies need zh and en texts for {', '.join(missing)}")
        patterns = {kind: _patterns(path, kind, getattr(f, kind)) for kind in KINDS}
        single = {key: _patterns(path, key, [value])[0] if (value := getattr(f, key)) else None
                  for key in ("asks_whole", "leans_on")}
        note = f.parts_note
        return cls(
            split_before=_patterns(path, "split_before", f.split_before),
            leans_back_patterns=_patterns(path, "leans_back", f.leans_back),
            asks_whole=single["asks_whole"],
            leans_on=single["leans_on"],
            max_parts=f.max_parts,
            min_part_chars=f.min_part_chars,
            parts_note={"zh": note.zh, "en": note.en} if note else {"zh": "", "en": ""},
            patterns=patterns,
            replies={k: {"zh": v.zh, "en": v.en} for k, v in f.replies.items()},
            handoff_entries=f.handoff_entries,
            lookup_entries=f.lookup_entries,
            menus=dict(f.menus),
            fragment_max_words=f.fragment_max_words,
        )

    def kind(self, message: Text) -> Kind | None:
        """What kind of message this is, or None for an ordinary question."""
        text = prepare(message).norm
        for kind in KINDS:
            if any(p.search(text) for p in self.patterns[kind]):
                return kind
        return None

    def is_fragment(self, message: Text) -> bool:
        """True when, product names and filler aside, the message says (almost) nothing: no
        question word, and nothing but topic words ("额度", "自动扣款", "借呗 网商银行")."""
        text = re.sub(r"[?？!！。.\s]+$", "", prepare(message).lower)  # "花呗？" asks nothing
        if _QUESTION.search(text):
            return False
        text, named = _without_products(text)
        text = _FILLER.sub(" ", text)
        if re.search(r"不|没", text):
            return False  # "我用不了花呗", "借呗借不了": a complaint, not a bare topic
        parts = [w for w in re.split(r"\s+", text) if w]
        chars = sum(len(w) for w in parts)
        whole = " ".join(parts)
        if named and _SWITCHED.fullmatch(whole):
            return False  # "借呗成网商贷了": one product shown as another, a question to answer
        if not named and any(whole in words for words in load_lexicon().actions.values()):
            return True  # a topic word alone: "自动扣款", "临时额度", "credit limit"
        # "额度", "花呗还款", "我之前借的借呗", "借呗 网商银行": which of its questions is meant?
        # (the assistant still answers one naming a product and an act when the act's likeliest
        # entry is also the closest one: Assistant._settled_fragment)
        return len(parts) <= self.fragment_max_words and chars <= 2

    def act_menu(self, message: Text) -> tuple[str, ...]:
        """The menu of the acts a message names besides its product names ("借呗提额" → the
        raise-limit entries; "征信" names a product only → none)."""
        return self.menu(_without_products(prepare(message).lower)[0])

    def menu(self, message: Text) -> tuple[str, ...]:
        """The entries a fragment's topic offers first ("额度" → the limit questions)."""
        text = prepare(message).lower
        lexicon = load_lexicon()
        out: list[str] = []
        def specificity(action: str) -> int:  # "临时额度" before "额度"
            return max(len(w) for w in lexicon.actions[action] if w in text)

        for action in sorted(lexicon.actions_in(text), key=lambda a: (-specificity(a), a)):
            out += [e for e in self.menus.get(action, ()) if e not in out]
        return tuple(out)

    def split(self, message: str) -> list[str]:
        """The questions a message asks, in order (one item when it asks one).

        >>> DialogueRules.load().split("花呗怎么提前还款？借呗能提前还吗？要手续费吗？")
        ['花呗怎么提前还款？', '借呗能提前还吗？', '要手续费吗？']
        >>> DialogueRules.load().split("借呗逾期了会怎样？会影响征信吗？")
        ['借呗逾期了会怎样？', '会影响征信吗？']
        >>> DialogueRules.load().split("为什么我的借呗没有额度？之前看到是有的")
        ['为什么我的借呗没有额度？之前看到是有的']
        """
        cuts = {m.end() for m in re.finditer(r"[?？]+", message)}
        for pattern in self.split_before:
            cuts |= {m.start() for m in pattern.finditer(message) if m.start() > 0}
        parts, start = [], 0
        for cut in [*sorted(cuts), len(message)]:
            piece = message[start:cut]
            if piece.strip():
                parts.append(piece.strip())
            start = cut
        merged: list[str] = []
        for piece in parts:
            core = re.sub(r"[\s\W_]+", "", piece)
            if merged and (len(core) < self.min_part_chars or _ALTERNATIVE.match(core)
                           or not self._asks_something(piece)):
                merged[-1] = merged[-1] + piece
            else:
                merged.append(piece)
        if len(merged) > 1 and len(re.sub(r"[\s\W_]+", "", merged[0])) < self.min_part_chars:
            merged[1] = merged[0] + merged[1]
            merged = merged[1:]
        return [piece for part in merged for piece in self._split_soft(part)]

    def _split_soft(self, part: str) -> list[str]:
        """A space or a comma between Chinese clauses separates two questions when each side
        asks a whole question of its own, the first closing as a question ("花呗怎么关闭啊 关了
        还能再开吗") or the second opened as the next ("…多久能到账 还有最多能借多少"), and the
        second says more than "怎么办" or "怎么回事" and is no guess at the first's cause
        ("为什么不能用了，是不是因为逾期")."""
        if self.asks_whole is None:
            return [part]
        pieces, start = [], 0
        for m in _SOFT_CUT.finditer(part):
            left, right = part[start:m.start()], part[m.end():]
            second = _first_clause(right)
            if ((_OPENS_NEXT.match(right) or _CLOSES_QUESTION.search(left))
                    and self.asks_whole.search(left) and self.asks_whole.search(second)
                    and not (self.leans_on and self.leans_on.match(right))
                    and len(_GENERIC.sub("", second)) >= 3):
                pieces.append(left.strip())
                start = m.end()
        pieces.append(part[start:].strip())
        return [p for p in pieces if p]

    def leans_back(self, part: Text) -> bool:
        """A later part that relates what it names to what the part before named ("跟花呗借呗的
        额度有啥关系" after a 芝麻分 question) and so needs that part's products too."""
        text = prepare(part).lower
        return any(p.search(text) for p in self.leans_back_patterns)

    @staticmethod
    def _asks_something(piece: str) -> bool:
        """A later part is a question of its own when it names a product or a topic, or asks
        ("有利息吗", "能改吗"); "之前看到是有的" only adds to the one before."""
        text = normalize(piece).lower()
        lexicon = load_lexicon()
        return bool(lexicon.products_in(text) or lexicon.actions_in(text)
                    or _QUESTION.search(text) or _OWN_QUESTION.search(text))

    def reply(self, key: str, lang: Lang, **fields: str) -> str:
        return self.replies[key][lang].format(**fields)
