"""Compose the chat answer to a personal what-if question, in the question's language.

>>> r = whatif_reply("如果逾期两次额度会降吗?", "zh")
>>> r.needs_input, "教育性质的估算" in r.text
(False, True)

The answer gives the range before (and after, for a change) in yuan, the top reasons, one
suggestion from ``what_it_takes``, what was assumed, and always the educational-estimate notice.
A question without a usable number gets a request for that number instead. Never raises.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from assistant.whatif.profile import DEFAULTS, FIELD_SPECS, Profile, format_value
from assistant.whatif.scorer import (
    LimitEstimate,
    Plan,
    band_names,
    compared_with_common,
    estimate_limit,
    what_if,
    what_it_takes,
)
from assistant.whatif.slots import Relative, Slots, parse_slots
from knowledge.lang import detect_language
from retrieval.prepared import Text

log = logging.getLogger(__name__)

NOTICE = {
    "zh": "这是教育性质的估算，不是蚂蚁集团的真实模型，也不代表你的真实额度。",
    "en": "This is an educational estimate, not Ant Group's model, and not your real limit.",
}
_EXAMPLE = {
    "zh": "例如：“芝麻分680，按时还款12个月，近12个月没有逾期，花呗用了三成，借呗额度大概多少？”",
    "en": 'For example: "Sesame score 680, 12 months on time, no late payments, 30% utilization: '
          'what would my Jiebei limit be?"',
}


@dataclass(frozen=True)
class WhatIfReply:
    text: str
    needs_input: bool
    estimate_before: LimitEstimate | None
    estimate_after: LimitEstimate | None
    assumed: tuple[str, ...]


def whatif_reply(text: Text, lang: str) -> WhatIfReply:
    """The what-if chat answer for ``text`` in ``lang`` ("zh" or "en"); never raises."""
    if lang not in NOTICE:
        lang = detect_language(str(text)[:2000])
    try:
        reply = _compose(parse_slots(text), lang)
        if not reply.needs_input and not PRODUCT.search(str(text)):
            # "What if my Sesame score goes from 650 to 720?": which limit? Jiebei's, and say so
            first, _, rest = reply.text.partition("\n")
            reply = replace(reply, text="\n".join([first, NO_PRODUCT[lang], rest]))
        return reply
    except Exception:  # the chat edge: log, then ask rather than crash
        log.exception("what-if reply failed for %r", str(text)[:200])
        return _ask(lang, ("sesame_score",), {})


PRODUCT = re.compile(r"借呗|借唄|花呗|花唄|网商贷|\bjiebei\b|\bhuabei\b|\bmybank\b", re.I)
NO_PRODUCT = {
    "zh": "（你没说是哪个产品，这里按借呗额度估算。）",
    "en": "(You did not name a product, so this estimates a Jiebei limit.)",
}


def _compose(slots: Slots, lang: str) -> WhatIfReply:
    if slots.missing_required:
        return _ask(lang, slots.missing_required, slots.out_of_range)
    if not slots.values and not slots.changes:
        return _ask(lang, ("sesame_score",), {})
    profile = Profile(**{**DEFAULTS, **slots.values})
    changes = _resolve(profile, slots.changes)
    zh = lang == "zh"
    lines: list[str] = []
    before = estimate_limit(profile)
    after: LimitEstimate | None = None
    if changes:
        w = what_if(profile, **changes)
        after = w.after
        lines.append(
            f"按你给的信息，借呗额度现在估算大约{_range(before)}（{before.band_label('zh')}档）。"
            if zh else
            f"With what you told me, the estimated Jiebei limit now is about {_range(before)} "
            f"({before.band_label('en')} band)."
        )
        lines.append(("如果" if zh else "") + w.explanation.text(lang))
    else:
        lines.append(
            f"按你给的信息，借呗额度估算大约{_range(before)}（{before.band_label('zh')}档）。"
            if zh else
            f"With what you told me, the estimated Jiebei limit is about {_range(before)} "
            f"({before.band_label('en')} band)."
        )
    current = after or before
    plan_profile = profile.with_changes(**changes) if changes else profile
    lines.extend(_effects(plan_profile, lang))
    lines.append(_suggestion(plan_profile, current, lang))
    assumed = tuple(f for f in slots.assumed if f not in changes)
    if assumed:
        lines.append(_assumed(assumed, lang))
    lines.append(NOTICE[lang])
    return WhatIfReply("\n".join(lines), False, before, after, assumed)


def _resolve(profile: Profile, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Relative changes (halve, add 2) become absolute values, kept inside each field's range."""
    out: dict[str, Any] = {}
    for name, change in changes.items():
        if not isinstance(change, Relative):
            out[name] = change
            continue
        spec = FIELD_SPECS[name]
        current = getattr(profile, name)
        value = change.apply(0 if current is None else current)
        value = max(spec.minimum, value if spec.maximum is None else min(spec.maximum, value))
        out[name] = round(value, 4) if spec.kind is float else round(value)
    return out


def _range(est: LimitEstimate) -> str:
    return f"¥{est.low:,}–¥{est.high:,}"


def _effects(profile: Profile, lang: str) -> list[str]:
    """What lowers and what raises the estimate, against the common case: each list holds only
    factors that move it that way (a default value is in neither)."""
    lowers, raises = compared_with_common(profile)
    zh = lang == "zh"
    if not lowers and not raises:
        return ["和常见情况相比，没有拉高或拉低估算的因素。" if zh
                else "Compared with the common case, nothing raises or lowers the estimate."]
    lines: list[str] = []
    if lowers:
        lines.append("和常见情况相比，拉低估算的因素：" if zh
                     else "Compared with the common case, what lowers the estimate:")
        lines += [f"- {r.text(lang)}" for r in lowers]
    if raises:
        lines.append("和常见情况相比，拉高估算的因素：" if zh
                     else "Compared with the common case, what raises the estimate:")
        lines += [f"- {r.text(lang)}" for r in raises]
    return lines


def _suggestion(profile: Profile, est: LimitEstimate, lang: str) -> str:
    names = band_names()
    rank = names.index(est.band) if est.band in names else len(names) - 1
    if rank >= len(names) - 1:
        return ("建议：你已在本模型的最高档，保持按时还款、少用额度、少申请即可。" if lang == "zh"
                else "Suggestion: you are in this model's top band; keep repaying on time, "
                     "using little of your limits and applying rarely.")
    plan: Plan = what_it_takes(profile, names[rank + 1])
    if lang == "zh":
        return f"建议：{plan.explanation.zh}"
    text = plan.explanation.en
    return f"Suggestion: {text[:1].lower()}{text[1:]}"


def _assumed(fields: tuple[str, ...], lang: str) -> str:
    if lang == "zh":
        parts = [f"{FIELD_SPECS[f].label_zh} {format_value(f, DEFAULTS[f], 'zh')}" for f in fields]
        return "你没提到的，我按常见情况假设：" + "、".join(parts) + "。"
    parts = [f"{FIELD_SPECS[f].label_en} {format_value(f, DEFAULTS[f], 'en')}" for f in fields]
    return "Assumed, since you did not say: " + ", ".join(parts) + "."


def _ask(lang: str, missing: tuple[str, ...] | list[str], bad: Mapping[str, float]) -> WhatIfReply:
    zh = lang == "zh"
    labels = [FIELD_SPECS[f].label_zh if zh else FIELD_SPECS[f].label_en for f in missing]
    lines = [
        f"要估算额度，我需要这个数字：{'、'.join(labels)}。" if zh
        else f"To estimate the limit I need this number: {', '.join(labels)}."
    ]
    for name, value in bad.items():
        spec = FIELD_SPECS[name]
        huge = "一个极大的数" if zh else "a huge number"
        shown = spec.format(value, lang) if math.isfinite(value) else huge
        lines.append(
            f"{spec.label_zh}应为{spec.shown_range('zh')}，你给的 {shown} 不在范围内。" if zh
            else f"{spec.label_en} must be {spec.shown_range('en')}; {shown} is outside that."
        )
    masked = [f for f in missing if f not in bad]
    if masked:
        lines.append(
            "打了码或不确定的数字（如“6**”“几次”）我没法计算，请告诉我大概的数字就好，不需要账号等个人信息。"
            if zh else
            "I cannot compute with masked or vague numbers (like 6** or 'a few'); an approximate "
            "number is enough, and no account details are needed."
        )
    lines.append(_EXAMPLE[lang])
    lines.append(NOTICE[lang])
    return WhatIfReply("\n".join(lines), True, None, None, ())


