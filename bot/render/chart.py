"""One PNG per test: each variant's lift over the control with its 95% range, micro and macro side by side.

Pure and thread-safe: a `Figure` on the Agg canvas (no pyplot, no global state, no display needed).
Sized for Slack's inline preview (about 500 px wide): few, large labels.
"""

from __future__ import annotations

import io
import math
import textwrap

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.models import Comparison, TestResult

CALLED_UP = "#1a7f37"
CALLED_DOWN = "#cf222e"
UNDECIDED = "#57606a"
KINDS = ("micro", "macro")


def _label(comparison: Comparison, several_variants: bool, several_metrics: bool) -> str:
    parts = [comparison.variant] if several_variants or not several_metrics else []
    if several_metrics:
        parts.append(comparison.metric)
    label = textwrap.shorten(" · ".join(parts) or comparison.variant, width=28, placeholder="…")
    return label[:-1].rstrip(" ·") + "…" if label.endswith("…") else label


def _colour(comparison: Comparison) -> str:
    if not comparison.significant or comparison.lift is None:
        return UNDECIDED
    return CALLED_UP if comparison.lift > 0 else CALLED_DOWN


def _limits(comparisons: list[Comparison]) -> tuple[float, float]:
    values = [0.0]
    for c in comparisons:
        values.extend(v * 100 for v in (c.lift, *c.decision_ci) if v is not None and math.isfinite(v))
    low, high = min(values), max(values)
    pad = max((high - low) * 0.08, 5.0)
    return low - pad, high + pad


def _panel(axes: Axes, kind: str, comparisons: list[Comparison], control: str) -> None:
    metrics = list(dict.fromkeys(c.metric for c in comparisons))
    variants = list(dict.fromkeys(c.variant for c in comparisons))
    title = f"{kind.capitalize()}: {metrics[0].lower()}" if len(metrics) == 1 else f"{kind.capitalize()} metrics"
    axes.set_title(textwrap.shorten(title, width=32, placeholder="…"), fontsize=15, loc="left")
    axes.axvline(0, color="#8c959f", linewidth=1.5, zorder=1)
    if not comparisons:
        axes.text(0.5, 0.5, f"no {kind} metric", ha="center", va="center", fontsize=13, transform=axes.transAxes)
        axes.set_yticks([])
        axes.set_xticks([])
        return
    low_limit, high_limit = _limits(comparisons)
    rows = list(reversed(comparisons))
    for y, c in enumerate(rows):
        colour = _colour(c)
        if c.lift is None:
            axes.text(0, y, "  n/a (no control conversions)", va="center", fontsize=12, color=UNDECIDED)
            continue
        low = c.decision_ci[0] * 100 if c.decision_ci[0] is not None else low_limit
        high = c.decision_ci[1] * 100 if c.decision_ci[1] is not None else high_limit
        axes.plot([low, high], [y, y], color=colour, linewidth=4, solid_capstyle="butt", zorder=2)
        axes.plot([c.lift * 100], [y], "o", color=colour, markersize=11, zorder=3)
        axes.annotate(
            f"{c.lift * 100:+.0f}%",
            (c.lift * 100, y),
            textcoords="offset points",
            xytext=(0, 9),
            ha="center",
            fontsize=12,
            color=colour,
            fontweight="bold",
        )
    axes.set_yticks(range(len(rows)))
    axes.set_yticklabels([_label(c, len(variants) > 1, len(metrics) > 1) for c in rows], fontsize=13)
    axes.set_ylim(-0.7, len(rows) - 0.3)
    axes.set_xlim(low_limit, high_limit)
    axes.tick_params(axis="x", labelsize=12)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=4))
    axes.xaxis.set_major_formatter(lambda value, _: f"{value:+.0f}%" if round(value) else "0%")
    axes.set_xlabel(f"lift vs {textwrap.shorten(control, width=20, placeholder='…')}", fontsize=13)
    axes.grid(axis="x", color="#eaeef2")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def render_chart(test: TestResult) -> bytes:
    """The PNG of one test's lifts: a dot per variant and metric, a bar for its 95% range, 0 = control."""
    by_kind = {kind: [c for c in test.comparisons if c.kind == kind] for kind in KINDS}
    rows = max(1, *(len(v) for v in by_kind.values()))
    figure = Figure(figsize=(10, 2.4 + 0.75 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(textwrap.shorten(test.title, width=60, placeholder="…"), fontsize=17, fontweight="bold")
    panels = figure.subplots(1, 2)
    for axes, kind in zip(panels, KINDS, strict=True):
        _panel(axes, kind, by_kind[kind], test.control)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def chart_filename(test: TestResult) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in test.title.lower())
    return "-".join(part for part in safe.split("-") if part)[:80] + ".png"
