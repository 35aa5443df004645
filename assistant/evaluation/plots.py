"""The evaluation report's plots, as ``data:image/png;base64,...`` strings for ``<img src>``.

matplotlib's Agg canvas through ``Figure``, never pyplot: no global backend state. matplotlib is
imported late, so ``import assistant.evaluation.report`` stays fast.

>>> tag_bars({"english": {"pass_rate": 0.9, "count": 12}})[:22]
'data:image/png;base64,'
"""

from __future__ import annotations

import base64
import functools
import io
from typing import Any

MAX_TAG_BARS = 40
_CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
              "Droid Sans Fallback", "Noto Sans SC")  # fmt: skip


@functools.cache
def cjk_font() -> str | None:
    """An installed font that draws Chinese, if any (labels fall back to ASCII without one)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FONTS if name in names), None)


def _figure(height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(4.8, height))


def _png(fig: Any) -> str:
    import matplotlib

    font = cjk_font()
    rc: Any = {"font.sans-serif": [font, "DejaVu Sans"]} if font else {}
    buf = io.BytesIO()
    with matplotlib.rc_context(rc):
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _label(text: str, number: int) -> str:
    if not text.isascii() and cjk_font() is None:
        return f"tag #{number}"  # the tag table lists the same numbers
    return text.replace("$", r"\$")  # "$" would start matplotlib mathtext


def tag_bars(by_tag: dict[str, dict[str, Any]]) -> str:
    """Pass rate per tag, worst at the top (the worst MAX_TAG_BARS when there are more)."""
    number = {tag: i for i, tag in enumerate(sorted(by_tag), 1)}
    items = sorted(by_tag.items(), key=lambda kv: (kv[1].get("pass_rate") or 0.0, kv[0]))
    items = items[:MAX_TAG_BARS][::-1]
    fig = _figure(0.9 + 0.26 * len(items))
    ax = fig.subplots()
    values = [m.get("pass_rate") or 0.0 for _, m in items]
    colors = ["#1a7f37" if v >= 0.95 else "#bf8700" if v >= 0.8 else "#cf222e" for v in values]
    ax.barh(range(len(items)), values, color=colors)
    ax.set_yticks(range(len(items)), [_label(t, number[t]) for t, _ in items], fontsize=10)
    ax.set_ylim(-0.6, len(items) - 0.4)
    for y, (v, (_, m)) in enumerate(zip(values, items, strict=True)):
        ax.text(v + 0.01, y, f"{v:.2f} n={m['count']}", va="center", fontsize=8)
    ax.set_xlim(0, 1.32)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("pass rate (all checks)")
    return _png(fig)


def latency_histogram(latencies: list[float], summary: dict[str, Any]) -> str:
    fig = _figure(2.6)
    ax = fig.subplots()
    if latencies:
        ax.hist(latencies, bins=min(30, max(5, len(set(latencies)))), color="#6e7781")
        for key, style in (("p50_ms", "-"), ("p95_ms", "--")):
            value = summary.get(key) or 0.0
            ax.axvline(value, color="#cf222e", linestyle=style, label=f"{key[:3]} {value:.1f} ms")
        ax.legend(fontsize=8)
    ax.set_xlabel("ms per question (batch wall time / batch size)")
    ax.set_ylabel("questions")
    return _png(fig)


def recall_curve(recall: dict[str, float | None], previous: dict[str, float | None] | None) -> str:
    fig = _figure(2.6)
    ax = fig.subplots()
    for data, style, label in ((previous or {}, "--", "previous run"), (recall, "-o", "this run")):
        points = [(int(k), v) for k, v in data.items() if v is not None]
        if points:
            ax.plot(*zip(*sorted(points), strict=True), style, label=label, markersize=4)
    ax.set_xticks(range(1, 11))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.grid(alpha=0.3)
    if previous:
        ax.legend(fontsize=8)
    return _png(fig)
