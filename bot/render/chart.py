"""One PNG per test: each variant's lift over the control with its 95% range, micro and macro side by side, and
under them, when the verdict's path is known, the decision's range over time (`analysis.range_paths`): the band
narrowing look by look toward its call, the call marked, later looks paler, the minimum effect shaded.

Pure and thread-safe: a `Figure` on the Agg canvas (no pyplot, no global state, no display needed).
Sized for Slack's inline preview (about 500 px wide): few, large labels.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.models import Comparison, TestResult
from analysis.range_paths import RangePath

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


def _finite(values: tuple[float, ...]) -> list[float]:
    return [v * 100 for v in values if math.isfinite(v)]


def _path_limits(path: RangePath) -> tuple[float, float]:
    """The band's axis: 0, the minimum effect and the ranges, in percent, without letting one wide early look
    flatten the rest (past three times the widest later bound, a look is cut at the edge)."""
    lows, highs = _finite(path.low), _finite(path.high)
    last = path.call_index if path.call_index is not None else len(path.at) - 1
    settled = [abs(v * 100) for v in (path.low[last], path.high[last]) if math.isfinite(v)]
    reach = max([*settled, path.minimum_effect * 100, 10.0]) * 3
    values = [0.0, path.minimum_effect * 100, *_finite(path.lift), *lows, *highs]
    low, high = max(min(values), -100.0, -reach), min(max(values), reach)
    pad = max((high - low) * 0.08, 5.0)
    return low - pad, high + pad


def _path_panel(axes: Axes, path: RangePath, control: str) -> None:
    """The decision's range at every look: a band up to the call, paler after it, the lift as a line."""
    x = list(path.at)
    end = path.call_index + 1 if path.call_index is not None else len(x)
    colour = {"better": CALLED_UP, "worse": CALLED_DOWN}.get(path.call or "", UNDECIDED)
    low_limit, high_limit = _path_limits(path)

    def clipped(values: tuple[float, ...]) -> list[float]:
        return [min(max(v * 100, low_limit), high_limit) if math.isfinite(v) else math.nan for v in values]

    low, high, lift = clipped(path.low), clipped(path.high), clipped(path.lift)
    effect_low = (1 / (1 + path.minimum_effect) - 1) * 100
    axes.axhspan(effect_low, path.minimum_effect * 100, color="#d0d7de", alpha=0.6, zorder=0, linewidth=0)
    axes.text(
        0.01, 0.03, f"minimum effect ±{path.minimum_effect * 100:.0f}%", transform=axes.transAxes, fontsize=11,
        color="#57606a",
    )  # fmt: skip
    axes.axhline(0, color="#8c959f", linewidth=1.2, zorder=1)
    axes.fill_between(x[:end], low[:end], high[:end], color=colour, alpha=0.35, zorder=2, linewidth=0)
    if end < len(x):
        after = slice(end - 1, len(x))
        axes.fill_between(x[after], low[after], high[after], color=colour, alpha=0.12, zorder=2, linewidth=0)
        axes.text(0.99, 0.03, "paler: later data", transform=axes.transAxes, ha="right", fontsize=11, color="#57606a")
    axes.plot(x, lift, color=colour, linewidth=2, marker="o" if len(x) <= 30 else None, markersize=4, zorder=3)
    if path.call_index is not None:
        at = x[path.call_index]
        axes.axvline(at, color=colour, linewidth=1.5, linestyle="--", zorder=3)
        unit = "day" if path.dated else "read"
        right = at > (min(x) + max(x)) / 2  # the label on the side with room
        axes.annotate(
            f"called {(path.call or '').replace('_', ' ')}, {unit} {at:.0f}",
            (at, high_limit),
            textcoords="offset points",
            xytext=(-6 if right else 6, -16),
            ha="right" if right else "left",
            fontsize=12,
            color=colour,
            fontweight="bold",
        )
    axes.set_xlim(min(x) - 0.5, max(x) + 0.5)
    axes.set_ylim(low_limit, high_limit)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:+.0f}%" if round(value) else "0%")
    axes.tick_params(labelsize=12)
    axes.set_xlabel("day of the test" if path.dated else "read recorded by microopt", fontsize=13)
    name = textwrap.shorten(f"{path.variant} vs {control}, {path.metric.lower()}", width=60, placeholder="…")
    axes.set_title(f"Decision range over time: {name}", fontsize=14, loc="left")
    axes.grid(axis="y", color="#eaeef2")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def render_chart(test: TestResult, path: RangePath | None = None) -> bytes:
    """The PNG of one test's lifts: a dot per variant and metric, a bar for its 95% range, 0 = control; with
    `path`, the decision's range over time under them."""
    by_kind = {kind: [c for c in test.comparisons if c.kind == kind] for kind in KINDS}
    rows = max(1, *(len(v) for v in by_kind.values()))
    height = 2.4 + 0.75 * rows
    figure = Figure(figsize=(10, height + (3.4 if path else 0)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(textwrap.shorten(test.title, width=60, placeholder="…"), fontsize=17, fontweight="bold")
    if path is None:
        panels = figure.subplots(1, 2)
    else:
        grid = figure.add_gridspec(2, 2, height_ratios=[height - 0.6, 3.4])
        panels = [figure.add_subplot(grid[0, 0]), figure.add_subplot(grid[0, 1])]
        _path_panel(figure.add_subplot(grid[1, :]), path, test.control)
    for axes, kind in zip(panels, KINDS, strict=True):
        _panel(axes, kind, by_kind[kind], test.control)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def chart_filename(test: TestResult) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in test.title.lower())
    return "-".join(part for part in safe.split("-") if part)[:80] + ".png"


def resting_path(test: TestResult, paths: Mapping[tuple[str, str, str, str], RangePath]) -> RangePath | None:
    """The path of the comparison the verdict rests on (or is waiting to confirm; else its best variant's first)."""
    ref = test.rests_on or test.to_confirm
    keys = [(ref.variant, ref.metric)] if ref is not None else []
    keys += [(c.variant, c.metric) for c in test.comparisons if c.variant == test.best_variant]
    keys += [(c.variant, c.metric) for c in test.comparisons]
    return next((paths[k] for v, m in keys if (k := (test.campaign, test.test, v, m)) in paths), None)


def path_words(path: RangePath, control: str) -> str:
    """The path chart in words (its alt text, and the Home tab's line): where the range started, where it is."""
    unit = "day" if path.dated else "read"

    def span(i: int) -> str:
        low, high = path.low[i], path.high[i]
        low_text = f"{low * 100:+.0f}%" if math.isfinite(low) else "unbounded"
        high_text = f"{high * 100:+.0f}%" if math.isfinite(high) else "unbounded"
        return f"{low_text} to {high_text} ({unit} {path.at[i]:.0f})"

    bounded = [i for i in range(len(path.at)) if math.isfinite(path.low[i]) and math.isfinite(path.high[i])]
    first = bounded[0] if bounded else 0
    last = path.call_index if path.call_index is not None else len(path.at) - 1
    effect = f"±{path.minimum_effect * 100:.0f}%"
    where = f"{path.variant} vs {control} on {path.metric.lower()}"
    if path.call_index is not None:
        call = path.call.replace("_", " ") if path.call else ""
        moved = f"from {span(first)} to {span(last)}, " if first < last else f"{span(last)}, "
        said = f"Decision range of {where}: {moved}when it was called {call}"
    else:
        moved = f"from {span(first)} to {span(last)}" if first < last else span(last)
        said = f"Decision range of {where}: {moved}, not called yet"
    return f"{said}; minimum effect {effect}."
