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

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import gradio as gr
from matplotlib.figure import Figure

from assistant.surface import Surface
from assistant.whatif import NOTICE
from assistant.whatif.profile import DEFAULTS, FIELD_SPECS, FIELDS
from assistant.whatif.scorer import LimitEstimate
from ui.render import PRIVATE, callout, safe_markdown, safe_text

CHANGE_ROWS = 3
NOT_CHANGED = ""  # the change panel's "no change" choice
NOTICE_MD = f"**{NOTICE['zh']}**<br>**{NOTICE['en']}**"


def _label(name: str) -> str:
    spec = FIELD_SPECS[name]
    return f"{spec.label_zh} {spec.label_en[:1].upper()}{spec.label_en[1:]}"


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
        "suggestion": None if plan.target_band == sim.after.band else {
            "target_band": plan.target_band, "reachable": plan.reachable,
            "zh": plan.explanation.zh, "en": plan.explanation.en},
        "factors": [{"field": f, "label_zh": FIELD_SPECS[f].label_zh,
                     "label_en": FIELD_SPECS[f].label_en, "before": p,
                     "after": points_after[f], "best": best}
                    for f, p, best in ((x.field, x.points, x.best) for x in sim.before.factors)],
        "notice": dict(NOTICE),
        "rules_version": sim.after.rules_version,
    }


def friendly_error(exc: Exception) -> str:
    """``输入有误 Invalid input — 芝麻分 Sesame score: sesame_score must be …``."""
    msg = str(exc)
    field = next((f for f in FIELDS if msg.startswith(f)), None) or next(
        (f for f in FIELDS if f in msg), None)
    where = f"{_label(field)}: " if field else ""
    return callout("error", f"**输入有误 Invalid input** — {where}{safe_text(msg)}")


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


def factor_chart(data: Mapping[str, Any]) -> Figure:
    """Horizontal bars: the points each factor adds (+) or takes away (-), now and after."""
    factors = list(data["factors"])[::-1]
    font = _cjk_font()
    labels = [(f"{f['label_zh']}\n" if font else "") + f["label_en"] for f in factors]
    fig = Figure(figsize=(7.5, 4.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    if font:
        for t in (ax.title, ax.xaxis.label):
            t.set_fontfamily([font, "sans-serif"])
    ys = range(len(factors))
    changed = bool(data["changed"])
    h = 0.38 if changed else 0.6
    ax.barh(list(ys), [f["best"] for f in factors], height=0.85, color="#e8eaed",
            label="最多 most possible" if font else "most possible")
    now = ax.barh([y + (h / 2 if changed else 0) for y in ys], [f["before"] for f in factors],
                  height=h, color="#1a73e8", label="现在 now" if font else "now")
    ax.bar_label(now, fontsize=7, padding=2)
    if changed:
        after = ax.barh([y - h / 2 for y in ys], [f["after"] for f in factors], height=h,
                        color="#e8710a", label="改变后 after" if font else "after the change")
        ax.bar_label(after, fontsize=7, padding=2)
    ax.set_yticks(list(ys), labels, fontfamily=[font, "sans-serif"] if font else "sans-serif",
                  fontsize=8)
    ax.axvline(0, color="#5f6368", linewidth=0.8)
    ax.set_xlabel("points: adds (+) or takes away (-)")
    ax.set_title(f"Points per factor (total {data['before']['points']}"
                 + (f" -> {data['after']['points']})" if changed else ")"), fontsize=10)
    legend_font: dict[str, Any] = {"size": 8, **({"family": [font, "sans-serif"]} if font else {})}
    ax.legend(loc="lower right", prop=legend_font)
    return fig


def _range_md(title: str, est: Mapping[str, Any]) -> str:
    return (f"**{title}**\n\n<span class='mb-range'>¥{est['low']:,} – ¥{est['high']:,}</span>\n\n"
            f"{est['band_zh']} {est['band_en']} · {est['points']} 分 points")


def whatif_view(
    surface: Surface, profile: Mapping[str, Any], changes: Sequence[tuple[str | None, Any]] = ()
) -> tuple[str, str, str, str, str, Figure | None]:
    """The What-if tab: profile values and (field, new value) changes ->
    (error, before, after, reasons, suggestion, chart). Never raises."""
    try:
        data = compute_whatif(surface, profile, {f: v for f, v in changes if f})
    except Exception as exc:  # ProfileError / WhatIfError name the field; nothing crashes
        return friendly_error(exc), "—", "—", "", "", None
    reasons = "\n".join(f"- {safe_markdown(r['zh'])}<br>{safe_markdown(r['en'])}"
                        for r in data["reasons"]) or "- 没有明显拉低的因素 Nothing holds it back"
    s = data["suggestion"]
    suggestion = ("你已在本模型的最高档 You are in this model's top band." if s is None
                  else f"{safe_markdown(s['zh'])}\n\n{safe_markdown(s['en'])}")
    after_title = "改变后 After the change" if data["changed"] else "改变后 After (no change)"
    return (
        "",
        _range_md("现在 Now", data["before"]),
        _range_md(after_title, data["after"]),
        f"**主要原因 Top reasons**\n\n{reasons}",
        f"**怎样到下一档 What it takes (next band)**\n\n{suggestion}",
        factor_chart(data),
    )


def whatif_form(surface: Surface, *values: Any) -> tuple[str, str, str, str, str, Figure | None]:
    """The tab's inputs, flat: one value per profile field, the "income unknown" checkbox, then
    (field, value) pairs from the change panel."""
    n = len(FIELDS)
    profile = dict(zip(FIELDS, values[:n], strict=True))
    if values[n]:
        profile["monthly_income"] = None
    pairs = values[n + 1:]
    return whatif_view(surface, profile, list(zip(pairs[::2], pairs[1::2], strict=True)))


def build_whatif_tab(surface: Surface) -> None:
    """The tab, built inside the page's ``gr.Tabs``; estimates come from ``surface.what_if``."""

    def form(*values: Any) -> tuple[str, str, str, str, str, Figure | None]:
        return whatif_form(surface, *values)

    with gr.Tab("额度模拟 What-if", id="whatif"):
        gr.Markdown(NOTICE_MD, elem_classes=["mb-notice"], elem_id="mb-notice")
        with gr.Row():
            with gr.Column(scale=1):
                gr.Markdown("### 你的情况 Your profile")
                inputs: list[gr.components.Component] = []
                for name in FIELDS:
                    spec = FIELD_SPECS[name]
                    if spec.kind is bool:
                        inputs.append(gr.Checkbox(bool(DEFAULTS[name]), label=_label(name),
                                                  elem_id=f"mb-wi-{name}"))
                    elif spec.maximum is not None:
                        inputs.append(gr.Slider(
                            spec.minimum, spec.maximum, value=DEFAULTS[name],
                            step=1 if spec.kind is int else 0.01, label=_label(name),
                            elem_id=f"mb-wi-{name}"))
                    else:
                        inputs.append(gr.Number(value=DEFAULTS[name] or 0, label=_label(name),
                                                elem_id=f"mb-wi-{name}"))
                income = inputs[FIELDS.index("monthly_income")]
                assert isinstance(income, gr.Number)
                unknown = gr.Checkbox(DEFAULTS["monthly_income"] is None,
                                      label="月收入未知 Income unknown",
                                      elem_id="mb-wi-income-unknown")
                income.input(lambda: False, None, unknown, **PRIVATE)  # typing an income = known
                inputs.append(unknown)
            with gr.Column(scale=1):
                gr.Markdown("### 改变 Change")
                choices = [("（不改）No change", NOT_CHANGED)] + [(_label(f), f) for f in FIELDS]
                for i in range(CHANGE_ROWS):
                    with gr.Row():
                        inputs.append(gr.Dropdown(
                            choices, value="overdue_12m" if i == 0 else NOT_CHANGED,
                            label=f"项目 Field {i + 1}", elem_id=f"mb-change-field-{i}"))
                        inputs.append(gr.Number(value=2 if i == 0 else None,
                                                label=f"新值 New value {i + 1}",
                                                elem_id=f"mb-change-value-{i}"))
                run = gr.Button("估算 Estimate", variant="primary", elem_id="mb-whatif-run")
                first = form(*[c.value for c in inputs])
                error = gr.Markdown(first[0], elem_id="mb-whatif-error")
                with gr.Row():
                    before = gr.Markdown(first[1], elem_id="mb-whatif-before")
                    after = gr.Markdown(first[2], elem_id="mb-whatif-after")
                reasons = gr.Markdown(first[3], elem_id="mb-whatif-reasons")
                suggestion = gr.Markdown(first[4], elem_id="mb-whatif-suggestion")
        chart = gr.Plot(first[5], label="各因素加减分 Points each factor adds or takes away",
                        elem_id="mb-whatif-chart")
        triggers: list[Any] = [run.click]
        for c in inputs:
            if isinstance(c, gr.Slider):
                triggers += [c.release, c.input]
            elif isinstance(c, gr.Number):
                triggers += [c.submit, c.blur]
            elif isinstance(c, gr.Dropdown | gr.Checkbox):
                triggers.append(c.change)
        gr.on(triggers, form, inputs, [error, before, after, reasons, suggestion, chart],
              trigger_mode="always_last", **PRIVATE)
