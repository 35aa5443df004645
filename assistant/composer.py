"""Answer composition. The default composer is deterministic and grounded: it only copies
sentences from the retrieved entries (verdict first, then the essentials, then numbered sources)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
CHOICE_HEAD = {
    "zh": "你问的可能是下面两件事之一：",
    "en": "You may be asking about one of these two things:",
}
CHOICE_ASK = {
    "zh": "是哪一种？点下面的问题可以看完整回答。",
    "en": "Which one do you mean? Pick a question below for the full answer.",
}
REVIEWED = {"zh": "审核于", "en": "reviewed"}


@dataclass(frozen=True)
class ComposeInput:
    question: str  # masked; never echoed by the deterministic composer
    lang: Lang
    entries: Sequence[Entry]  # best first; the first is the main answer
    scam_warning: str | None
    max_points: int = 4
    choice: bool = False  # the best entries are a near-tie about different things: ask which
    # the main entry's points in the order to show them (retrieval.points: the one that says what
    # was asked first); empty: as written
    order: Sequence[int] = ()


class Composer(Protocol):
    """Writes the answer body from retrieved entries. Sources are appended by the caller."""

    def compose(self, data: ComposeInput) -> str: ...


def sources_block(entries: Sequence[Entry], lang: Lang) -> str:
    colon, sep, left, right = ("：", "；", "（", "）") if lang == "zh" else (":", "; ", " (", ")")
    lines = [f"{SOURCES_HEADING[lang]}{colon}"]
    for i, entry in enumerate(entries, 1):
        refs = sep.join(entry.sources)
        reviewed = f"{REVIEWED[lang]} {entry.reviewed.isoformat()}"
        lines.append(f"[{i}] {entry.title(lang)}{left}{refs}{sep}{reviewed}{right}")
    return "\n".join(lines)


class GroundedComposer:
    """Verdict, up to ``max_points`` bullets, and a one-line pointer to a second entry; for a
    choice, each entry's question, verdict and a share of the bullets, then which one is meant."""

    def compose(self, data: ComposeInput) -> str:
        lang = data.lang
        parts: list[str] = []
        if data.scam_warning:
            parts.append(data.scam_warning)
        if data.choice:
            parts.append(CHOICE_HEAD[lang])
            share = max(1, data.max_points // len(data.entries))  # the bullets, shared out
            for i, e in enumerate(data.entries, 1):
                section = e.section(lang)
                lines = [f"**{i}. {e.title(lang)}**", f"{section.verdict} [{i}]"]
                parts.append("\n".join([*lines, *(f"- {p}" for p in section.points[:share])]))
            parts.append(CHOICE_ASK[lang])
            return "\n\n".join(parts)
        main = data.entries[0].section(lang)
        body = [f"**{main.verdict}** [1]"]
        points = [main.points[i] for i in data.order] if data.order else list(main.points)
        body += [f"- {p}" for p in points[: data.max_points]]
        parts.append("\n".join(body))
        for i, extra in enumerate(data.entries[1:], 2):
            # the entry's own question first: its verdict ("是：…", "不能：…") answers that
            # question, not the asker's (a bare "是：" read as a yes to theirs)
            gap = " " if lang == "en" else ""
            parts.append(
                f"{SEE_ALSO[lang]}: {extra.title(lang)}{gap}{extra.section(lang).verdict} [{i}]"
            )
        return "\n\n".join(parts)


PRODUCT_NAMES = {
    "huabei": ("花呗", "Huabei"), "jiebei": ("借呗", "Jiebei"),
    "wangshangdai": ("网商贷", "MYbank loans"), "sesame": ("芝麻信用", "Sesame Credit"),
    "yuebao": ("余额宝", "Yu'e Bao"), "xianyu": ("闲鱼", "Xianyu"),
    "credit_card": ("信用卡", "credit cards"), "credit_report": ("征信", "credit reports"),
}  # fmt: skip
NO_ENTRY_FOR_PRODUCT = {
    "zh": (
        "抱歉，关于{names}的这个问题，我的知识库里还没有能可靠回答它的内容；"
        "别的产品的说明不一定适用，我不想拿来凑数。\n\n"
        "可以在支付宝 App 内打开{names}的页面查看说明，"
        "或通过 App 内的“我的客服”或 95188 咨询官方客服。"
    ),
    "en": (
        "Sorry, my knowledge base has nothing that reliably answers this question about {names}; "
        "what applies to another product may not apply here, so I won't guess.\n\nThe {names} "
        "page in the Alipay app explains it, or ask the official customer service in the app "
        "or on 95188."
    ),
}


def no_entry_for_product_text(
    lang: Lang, products: Iterable[str], scam_warning: str | None
) -> str:
    """The abstain text for a question about a product no close entry is about."""
    sep = "、" if lang == "zh" else " / "
    names = sep.join(PRODUCT_NAMES[p][0 if lang == "zh" else 1] for p in sorted(products)
                     if p in PRODUCT_NAMES)  # fmt: skip
    text = NO_ENTRY_FOR_PRODUCT[lang].format(names=names or ("这个产品" if lang == "zh" else "it"))
    return f"{scam_warning}\n\n{text}" if scam_warning else text


def abstain_text(lang: Lang, out_of_scope: bool, scam_warning: str | None) -> str:
    head = f"{OUT_OF_SCOPE[lang]}\n\n" if out_of_scope else ""
    text = head + ABSTAIN[lang]
    return f"{scam_warning}\n\n{text}" if scam_warning else text
