"""The 额度模拟 What-if tab: an educational limit estimate, before and after changing a factor.

Handlers are module-level functions taking what the page may call (``assistant.surface.Surface``:
only its ``what_if``), so tests drive them without a browser; ``compute_whatif`` is also the page's
``/what_if`` JSON endpoint. Errors name the field (``friendly_error``), never crash. The inputs
come from the field registry (a yes/no factor is a checkbox).

>>> from assistant.whatif import simulate
>>> class Scorer:  # the page passes its Assistant; the tab calls only what_if
...     what_if = staticmethod(simulate)
>>> now = whatif_view(Scorer(), {"sesame_score": 700}, [("overdue_12m", 2)])[1]  # the "now" range
>>> "¥11,000 – ¥32,500" in now
True
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import gradio as gr
from matplotlib.figure import Figure

from assistant.errors import ProfileError
from assistant.surface import Surface
from assistant.whatif import NOTICE
from assistant.whatif.profile import DEFAULTS, FIELD_SPECS, FIELDS, Profile
from assistant.whatif.scorer import LimitEstimate, compared_with_common, estimate_limit
from ui.i18n import Lang, in_page_language, lang_of, say, tr
from ui.render import PRIVATE, OnLoad, callout, safe_markdown, safe_text

NOTHING_MOVES = {"zh": "和常见情况相比，没有拉高或拉低估算的因素。",
                 "en": "Compared with the common case, nothing raises or lowers it."}
CHANGE_ROWS = 3
NOT_CHANGED = ""  # the change panel's "no change" choice
NOTICE_MD = f"**{NOTICE['zh']}**<br>**{NOTICE['en']}**"  # both languages (the JSON's readers)


def _label(name: str) -> Any:
    """The field's label with its unit, in the page's language ("账户使用时长（个月）")."""
    return tr(FIELD_SPECS[name].page_label("zh"))


def to_model(name: str, shown: Any) -> Any:
    """A value as the page shows it to the value the scorer takes (percent fields: 30 -> 0.3;
    an empty box: unknown where that is allowed, else the common case)."""
    spec = FIELD_SPECS[name]
    if isinstance(shown, str):  # a text box: "", "8000", "8,000", "30%"
        text = shown.strip().replace(",", "").replace("，", "").rstrip("%")
        if not text:
            shown = None
        else:
            try:
                number = float(text)
            except ValueError:
                raise ProfileError(f"{name}: not a number ({shown!r})", field=name) from None
            shown = int(number) if number.is_integer() else number
    if shown is None or shown == "":
        return None if spec.nullable else DEFAULTS[name]
    if spec.page.percent and isinstance(shown, int | float) and not isinstance(shown, bool):
        return round(float(shown) / 100, 4)
    return shown


def to_page(name: str, value: Any) -> Any:
    """The inverse of :func:`to_model`: what the input shows for a profile value."""
    spec = FIELD_SPECS[name]
    if value is None:
        return None
    return round(float(value) * 100, 2) if spec.page.percent else value


def _estimate(est: LimitEstimate) -> dict[str, Any]:
    return {"low": est.low, "high": est.high, "band": est.band, "points": est.points,
            "band_zh": est.band_label("zh"), "band_en": est.band_label("en")}


def compute_whatif(
    surface: Surface, profile: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``/what_if`` JSON; raises ``ValueError`` (ProfileError, WhatIfError) naming the field."""
    sim = surface.what_if(profile, changes)
    w = sim.result
    points_after = {f.field: f.points for f in sim.after.factors}
    plan = sim.plan
    return {
        "profile": sim.profile.as_dict(),
        "before": _estimate(sim.before),
        "after": _estimate(sim.after),
        "changed": {f: [a, b] for f, (a, b) in w.changed.items()} if w else {},
        "explanation": {"zh": w.explanation.zh, "en": w.explanation.en} if w else None,
        "reasons": [{"code": r.code, "zh": r.text_zh, "en": r.text_en,
                     "points_lost": r.points_lost} for r in sim.after.reasons],
        "effects": _effects(sim.profile.with_changes(**dict(changes))),
        "suggestion": None if plan.target_band == sim.after.band else {
            "target_band": plan.target_band, "reachable": plan.reachable,
            "zh": plan.explanation.zh, "en": plan.explanation.en},
        "factors": [{"field": f, "label_zh": FIELD_SPECS[f].label_zh,
                     "label_en": FIELD_SPECS[f].label_en, "before": p,
                     "after": points_after[f], "best": best, "common": _common_points()[f]}
                    for f, p, best in ((x.field, x.points, x.best) for x in sim.before.factors)],
        "notice": dict(NOTICE),
        "rules_version": sim.after.rules_version,
    }


def _effects(profile: Profile) -> dict[str, list[dict[str, str]]]:
    """What lowers and what raises the estimate against the common case (the chat's lists)."""
    lowers, raises = compared_with_common(profile)
    return {"lowers": [{"zh": r.text_zh, "en": r.text_en} for r in lowers],
            "raises": [{"zh": r.text_zh, "en": r.text_en} for r in raises]}


@lru_cache(maxsize=1)
def _common_points() -> dict[str, int]:
    """Each scored factor's points in the common case (the chart's zero line)."""
    return {f.field: f.points for f in estimate_limit(Profile()).factors}


def friendly_error(exc: Exception, lang: str = "zh") -> str:
    """The problem in the page's language, naming the field by its label: "输入有误：芝麻分应为
    350–950 之间的整数。", "Invalid input: Sesame score must be a whole number from 350 to
    950."."""
    field = getattr(exc, "field", None)
    if field not in FIELD_SPECS:
        msg = str(exc)
        field = next((f for f in FIELDS if msg.startswith(f)), None)
    if field is None:
        return callout("error", f"**{say(lang, '输入有误', 'Invalid input')}** — "
                                f"{safe_text(str(exc))}")
    spec = FIELD_SPECS[field]
    empty_zh, empty_en = ("，也可以不填", ", or empty") if spec.nullable else ("", "")
    zh = f"**输入有误：{spec.label_zh}应为{spec.shown_range('zh')}{empty_zh}。**"
    en = f"**Invalid input: {spec.label_en} must be {spec.shown_range('en')}{empty_en}.**"
    return callout("error", say(lang, zh, en))


@lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """A CJK font matplotlib can use, or None (then the chart's labels stay English)."""
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        low = path.lower()
        if any(k in low for k in ("wqy", "notosanscjk", "notosanssc", "sourcehansans")):
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    return None


def factor_chart(data: Mapping[str, Any], lang: str = "zh") -> Figure:
    """Horizontal bars, signed: the points each factor adds (+) or takes away (-) against the
    common case, now and after the change (what lowers the estimate points left). In the page's
    language (English where no CJK font is installed); sized to stay readable on a phone."""
    factors = list(data["factors"])[::-1]
    font = _cjk_font() if lang_of(lang) == "zh" else None
    drawn = "zh" if font else "en"  # the chart's language: Chinese needs a CJK font

    def t(chinese: str, english: str) -> str:
        return say(drawn, chinese, english)

    labels = [f["label_zh"] if font else textwrap.fill(f["label_en"], 18) for f in factors]
    # a narrow figure with large type: a phone shows it ~330 px wide, its text still ~9 px
    fig = Figure(figsize=(4.6, 5.0), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    family = [font, "sans-serif"] if font else ["sans-serif"]
    ys = range(len(factors))
    changed = bool(data["changed"])
    h = 0.38 if changed else 0.6
    now_values = [f["before"] - f["common"] for f in factors]
    now = ax.barh([y + (h / 2 if changed else 0) for y in ys], now_values, height=h,
                  color=["#1a73e8" if v >= 0 else "#d93025" for v in now_values],
                  label=t("现在", "now"))
    ax.bar_label(now, labels=[f"{v:+d}" if v else "0" for v in now_values], fontsize=10,
                 padding=2)
    if changed:
        after_values = [f["after"] - f["common"] for f in factors]
        after = ax.barh([y - h / 2 for y in ys], after_values, height=h, color="#e8710a",
                        label=t("改变后", "after the change"))
        ax.bar_label(after, labels=[f"{v:+d}" if v else "0" for v in after_values], fontsize=10,
                     padding=2)
    ax.set_yticks(list(ys), labels, fontfamily=family, fontsize=11)
    ax.tick_params(axis="x", labelsize=10)
    ax.axvline(0, color="#5f6368", linewidth=0.8)
    ax.set_xlabel(t("与常见情况相比：+ 拉高，− 拉低", "vs the common case: + raises, − lowers"),
                  fontfamily=family, fontsize=11)
    total = f"{data['before']['points']}" + (f" → {data['after']['points']}" if changed else "")
    ax.set_title(t(f"各因素加减分（总分 {total}）", f"Points per factor (total {total})"),
                 fontsize=12, fontfamily=family)
    span = max([abs(v) for v in now_values] + [1]) * 1.3
    if changed:
        span = max(span, max(abs(v) for v in after_values) * 1.3)
    ax.set_xlim(-span, span)
    legend_font: dict[str, Any] = {"size": 10, **({"family": family} if font else {})}
    ax.legend(loc="lower right", prop=legend_font)
    return fig


def _range_md(title: str, est: Mapping[str, Any], lang: str) -> str:
    band = est["band_en"] if lang == "en" else est["band_zh"]
    return (f"**{title}**\n\n<span class='mb-range'>¥{est['low']:,} – ¥{est['high']:,}</span>\n\n"
            f"{band} · {est['points']} {say(lang, '分', 'points')}")


def whatif_view(
    surface: Surface, profile: Mapping[str, Any], changes: Sequence[tuple[str | None, Any]] = (),
    lang: str = "zh",
) -> tuple[str, str, str, str, str, Figure | None]:
    """The What-if tab in the page's language: profile values and (field, new value) changes ->
    (error, before, after, reasons, suggestion, chart). Never raises."""
    key = lang_of(lang)
    try:
        data = compute_whatif(surface, profile, {f: v for f, v in changes if f})
    except Exception as exc:  # ProfileError / WhatIfError name the field; nothing crashes
        return friendly_error(exc, lang), "—", "—", "", "", None

    def listed(items: Sequence[Mapping[str, str]]) -> str:
        return "\n".join(f"- {safe_markdown(r[key])}" for r in items)

    effects = data["effects"]
    reasons = "\n\n".join(
        [f"**{say(lang, '拉低估算', 'What lowers it')}**\n\n{listed(effects['lowers'])}"]
        * bool(effects["lowers"])
        + [f"**{say(lang, '拉高估算', 'What raises it')}**\n\n{listed(effects['raises'])}"]
        * bool(effects["raises"])
    ) or NOTHING_MOVES[key]
    s = data["suggestion"]
    suggestion = (say(lang, "你已在本模型的最高档。", "You are in this model's top band.")
                  if s is None else safe_markdown(s[key]))
    after_title = (say(lang, "改变后", "After the change") if data["changed"]
                   else say(lang, "改变后（没有改变）", "After (no change)"))
    return (
        "",
        _range_md(say(lang, "现在", "Now"), data["before"], lang),
        _range_md(after_title, data["after"], lang),
        f"**{say(lang, '和常见情况相比', 'Compared with the common case')}**\n\n{reasons}",
        f"**{say(lang, '怎样到下一档', 'What it takes (next band)')}**\n\n{suggestion}",
        factor_chart(data, lang),
    )


def whatif_form(surface: Surface, *values: Any, lang: str = "zh"
                ) -> tuple[str, str, str, str, str, Figure | None]:
    """The tab's inputs, flat and as shown (percentages, empty boxes): one value per profile
    field, then (field, new value) pairs from the change panel; a pair without a value is no
    change. Texts in ``lang``, the page's language."""
    n = len(FIELDS)
    pairs = values[n:]
    try:
        profile = {f: to_model(f, v) for f, v in zip(FIELDS, values[:n], strict=True)}
        changes = [(f, to_model(f, v)) for f, v in zip(pairs[::2], pairs[1::2], strict=True)
                   if f and f in FIELD_SPECS and v is not None and str(v).strip() != ""]
    except ProfileError as exc:  # "两次" typed as a number: named by the field's label
        return friendly_error(exc, lang), "—", "—", "", "", None
    return whatif_view(surface, profile, changes, lang)


def build_whatif_tab(surface: Surface) -> OnLoad:
    """The tab, built inside the page's ``gr.Tabs``; estimates come from ``surface.what_if``.
    Returns what the page runs on load: the first estimate, in the page's language."""

    def form(lang: Lang, *values: Any) -> tuple[str, str, str, str, str, Figure | None]:
        return whatif_form(surface, *values, lang=lang)

    with gr.Tab(tr("额度模拟"), id="whatif"):
        gr.Markdown(tr(NOTICE["zh"]), elem_classes=["mb-notice"], elem_id="mb-notice")
        with gr.Row():
            with gr.Column(scale=1):
                gr.Markdown(tr("### 你的情况"))
                inputs: list[gr.components.Component] = []
                for name in FIELDS:
                    spec = FIELD_SPECS[name]
                    shown = to_page(name, DEFAULTS[name])
                    if spec.kind is bool:
                        inputs.append(gr.Checkbox(bool(shown), label=_label(name),
                                                  elem_id=f"mb-wi-{name}"))
                    elif spec.page.range is not None or spec.maximum is not None:
                        lo, hi = spec.page.range or (spec.minimum, spec.maximum or 0)
                        scale = 100 if spec.page.percent else 1
                        inputs.append(gr.Slider(
                            lo * scale, hi * scale, value=shown,
                            step=1 if spec.kind is int or spec.page.percent else 0.01,
                            label=_label(name), elem_id=f"mb-wi-{name}"))
                    else:  # no top: a box (empty = unknown, for a field that may be unknown)
                        inputs.append(gr.Textbox(
                            "" if shown is None else str(shown), label=_label(name),
                            placeholder=tr("可不填") if spec.nullable else "",
                            elem_id=f"mb-wi-{name}", max_lines=1))
            with gr.Column(scale=1):
                gr.Markdown(tr("### 改变"))
                choices = [(tr("（不改）"), NOT_CHANGED)] + [(_label(f), f) for f in FIELDS]
                for i in range(CHANGE_ROWS):
                    with gr.Row():
                        inputs.append(gr.Dropdown(
                            choices, value=NOT_CHANGED, label=tr("项目"),
                            elem_id=f"mb-change-field-{i}"))
                        inputs.append(gr.Textbox("", label=tr("新值"), placeholder=tr("例如 2"),
                                                 max_lines=1, elem_id=f"mb-change-value-{i}"))
                run = gr.Button(tr("估算"), variant="primary", elem_id="mb-whatif-run")
                # filled on load, in the page's language
                error = gr.Markdown("", elem_id="mb-whatif-error")
                with gr.Row():
                    before = gr.Markdown("—", elem_id="mb-whatif-before")
                    after = gr.Markdown("—", elem_id="mb-whatif-after")
                reasons = gr.Markdown("", elem_id="mb-whatif-reasons")
                suggestion = gr.Markdown("", elem_id="mb-whatif-suggestion")
        chart = gr.Plot(None, label=tr("各因素加减分"), show_label=False,  # its title says it
                        elem_id="mb-whatif-chart")
        triggers: list[Any] = [run.click]
        for c in inputs:
            if isinstance(c, gr.Slider):
                triggers += [c.release, c.input]
            elif isinstance(c, gr.Number | gr.Textbox):
                triggers += [c.submit, c.blur]
            elif isinstance(c, gr.Dropdown | gr.Checkbox):
                triggers.append(c.change)
        outputs = [error, before, after, reasons, suggestion, chart]
        gr.on(triggers, in_page_language(form), inputs, outputs, trigger_mode="always_last",
              **PRIVATE)
    return OnLoad(form, inputs, outputs)
