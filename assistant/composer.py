"""Answer composition. The default composer is deterministic and grounded: it only copies
sentences from the retrieved entries (verdict first, then the essentials, then numbered sources)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from knowledge.entry import Entry, Lang

ABSTAIN = {
    "zh": (
        "抱歉，这个问题我不知道：我的知识库里没有能可靠回答它的内容，我不想编造答案。\n\n"
        "我可以回答：花呗、借呗、芝麻信用、征信、闲鱼交易和防骗、个人信息权利、投诉渠道等问题；"
        "也可以对额度做“如果……会怎样”的教育性估算（例如“芝麻分从650涨到720，借呗额度会怎样？”）。"
    ),
    "en": (
        "Sorry, I don't know: my knowledge base has nothing that answers this reliably, and I "
        "won't make an answer up.\n\nI can help with Huabei, Jiebei, Sesame Credit, credit "
        "reports, Xianyu trading and scams, your personal-information rights and where to "
        'complain; I can also give an educational what-if estimate of a limit (e.g. "If my '
        'Sesame score goes from 650 to 720, what happens to my Jiebei limit?").'
    ),
}
OUT_OF_SCOPE = {
    "zh": "这个问题不在我能回答的范围内。",
    "en": "That question is outside what I can answer.",
}
SOURCES_HEADING = {"zh": "来源", "en": "Sources"}
SEE_ALSO = {"zh": "另见", "en": "See also"}
REVIEWED = {"zh": "审核于", "en": "reviewed"}


@dataclass(frozen=True)
class ComposeInput:
    question: str  # masked; never echoed by the deterministic composer
    lang: Lang
    entries: Sequence[Entry]  # best first; the first is the main answer
    scam_warning: str | None
    max_points: int = 4


class Composer(Protocol):
    """Writes the answer body from retrieved entries. Sources are appended by the caller."""

    def compose(self, data: ComposeInput) -> str: ...


def sources_block(entries: Sequence[Entry], lang: Lang) -> str:
    colon, sep, left, right = ("：", "；", "（", "）") if lang == "zh" else (":", "; ", "(", ")")
    lines = [f"{SOURCES_HEADING[lang]}{colon}"]
    for i, entry in enumerate(entries, 1):
        refs = sep.join(entry.sources)
        reviewed = f"{REVIEWED[lang]} {entry.reviewed.isoformat()}"
        lines.append(f"[{i}] {entry.title(lang)}{left}{refs}{sep}{reviewed}{right}")
    return "\n".join(lines)


class GroundedComposer:
    """Verdict, up to ``max_points`` bullets, and a one-line pointer to a second entry."""

    def compose(self, data: ComposeInput) -> str:
        lang = data.lang
        parts: list[str] = []
        if data.scam_warning:
            parts.append(data.scam_warning)
        main = data.entries[0].section(lang)
        body = [f"**{main.verdict}** [1]"]
        body += [f"- {p}" for p in main.points[: data.max_points]]
        parts.append("\n".join(body))
        for i, extra in enumerate(data.entries[1:], 2):
            parts.append(f"{SEE_ALSO[lang]}: {extra.section(lang).verdict} [{i}]")
        return "\n\n".join(parts)


def abstain_text(lang: Lang, out_of_scope: bool, scam_warning: str | None) -> str:
    head = f"{OUT_OF_SCOPE[lang]}\n\n" if out_of_scope else ""
    text = head + ABSTAIN[lang]
    return f"{scam_warning}\n\n{text}" if scam_warning else text
