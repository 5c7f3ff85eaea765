"""Drawing the charts of charts.py with matplotlib: one function per spec kind.

Kept apart from the specs and the cache so that importing pmkb does not import matplotlib;
only the process that draws does.
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from .charts import GRID, PALETTE, TEXT, unit_for


def draw(spec: dict[str, Any], rc: dict[str, Any]) -> bytes:
    with matplotlib.rc_context({**rc, **spec.get("rc", {})}):
        fig = _DRAW[spec["kind"]](spec)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.1)
    return buf.getvalue()


# --- drawing -----------------------------------------------------------------------------

def _figure(height: float = 4.2, width: float = 8.0) -> Figure:
    return Figure(figsize=(width, height), dpi=72, layout="constrained")


def _x_ticks(ax: Any, labels: list[str]) -> None:
    """Category labels on x, thinned and turned when there are many (years of quarters)."""
    n = len(labels)
    step = max(1, math.ceil(n / 16))
    ticks = list(range(0, n, step))
    turn = len(ticks) > 9
    ax.set_xticks(ticks)
    ax.set_xticklabels([labels[i] for i in ticks], rotation=45 if turn else 0,
                       ha="right" if turn else "center", rotation_mode="anchor")
    ax.set_xlim(-0.6, n - 0.4)


def _style(ax: Any, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, loc="left", pad=10)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _legend(fig: Figure, ax: Any | None, count: int, note: str = "") -> None:
    """Below the plot, in a row: the plot keeps its full width for the x labels. A note
    (how to read the chart) goes in the legend's title, so the layout engine places it."""
    if count > 1 or note:
        handles, labels = ax.get_legend_handles_labels() if ax is not None and count > 1 else ([], [])
        fig.legend(handles, labels, loc="outside lower center", ncols=max(1, min(count, 4)),
                   title=note or None, title_fontsize=10)


def _draw_bars(spec: dict[str, Any]) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    labels, series = spec["labels"], spec["series"]
    x = list(range(len(labels)))
    names = list(series)
    bottom = [0.0] * len(labels)
    width = 0.8 if spec["stacked"] else 0.8 / max(1, len(names))
    for k, name in enumerate(names):
        values = series[name]
        color = spec["colors"][k % len(spec["colors"])]
        if spec["stacked"]:
            ax.bar(x, values, width, bottom=bottom, label=name, color=color, linewidth=0)
            bottom = [b + v for b, v in zip(bottom, values)]
        else:
            offs = [i - 0.4 + width * (k + 0.5) for i in x]
            ax.bar(offs, values, width, label=name, color=color, linewidth=0)
    _style(ax, spec["title"], spec["xlabel"], spec["ylabel"])
    _x_ticks(ax, labels)
    if spec["percent"]:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(0, 1.0 if spec["stacked"] else max([v for vs in series.values() for v in vs] + [0.05]) * 1.1)
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _legend(fig, ax, len(names))
    return fig


def _draw_lines(spec: dict[str, Any]) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    labels = spec["labels"]
    weak = spec["weak"] or [False] * len(labels)
    for k, (name, values) in enumerate(spec["series"].items()):
        color = spec["colors"][k % len(spec["colors"])]
        _plot_series(ax, values, weak, color, "-", name)
    _style(ax, spec["title"], spec["xlabel"], spec["ylabel"])
    _x_ticks(ax, labels)
    if spec["percent"]:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    _legend(fig, ax, len(spec["series"]), spec["weak_note"] if any(weak) else "")
    return fig


def _plot_series(ax: Any, values: list[float | None], weak: list[bool], color: str, style: str, label: str) -> None:
    xs = [i for i, v in enumerate(values) if v is not None]
    if not xs:
        ax.plot([], [], style, color=color, label=label)
        return
    # NaN breaks the line: a period without a value is a gap, not a line drawn across it
    ax.plot(range(len(values)), [float("nan") if v is None else v for v in values], style, color=color,
            linewidth=2, label=label)
    solid = [i for i in xs if not weak[i]]
    hollow = [i for i in xs if weak[i]]
    if solid:
        ax.plot(solid, [values[i] for i in solid], "o", color=color, markersize=6)
    if hollow:
        ax.plot(hollow, [values[i] for i in hollow], "o", markerfacecolor="none", markeredgecolor=color,
                markeredgewidth=1.5, markersize=7)


_LOG_TICKS = ((1, "≤1 min"), (10, "10 min"), (60, "1 h"), (360, "6 h"), (1440, "1 d"), (10080, "1 w"),
              (43200, "30 d"), (259200, "180 d"))


def _draw_durations(spec: dict[str, Any]) -> Figure:
    panels, labels = spec["panels"], spec["labels"]
    fig = _figure(height=2.4 * len(panels) + 0.8)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    styles = (("median", "-", PALETTE[0]), ("mean", ":", PALETTE[2]), ("p90", "--", PALETTE[1]))
    any_weak = False
    for ax, panel in zip(axes, panels):
        weak = [0 < n < spec["min_n"] for n in panel["n"]]
        any_weak = any_weak or any(weak)
        present = [v for key in ("median", "mean", "p90") for v in panel[key] if v is not None]
        positive = [v for v in present if v > 0]
        if positive and max(positive) / max(min(positive), 1.0) > 30:
            # Durations are skewed: on a linear axis one slow quarter flattens every other
            # one, and the trend a reader looks for (are we getting faster?) disappears.
            for key, style, color in styles:
                values = [None if v is None else max(v, 1.0) for v in panel[key]]
                _plot_series(ax, values, weak, color, style, key)
            ax.set_yscale("log")
            lo, hi = max(min(positive), 1.0), max(positive)
            ticks = [(t, label) for t, label in _LOG_TICKS if lo / 4 <= t <= hi * 4] or [(lo, f"{lo:.0f} min")]
            ax.set_yticks([t for t, _ in ticks], [label for _, label in ticks])
            ax.minorticks_off()
            ax.set_ylabel("log scale")
        else:
            unit, scale = unit_for(present)
            for key, style, color in styles:
                values = [None if v is None else v / scale for v in panel[key]]
                _plot_series(ax, values, weak, color, style, key)
            ax.set_ylabel(unit)
            ax.set_ylim(bottom=0)
        ax.set_title(panel["title"], loc="left", fontsize=12, pad=4)
        ax.grid(axis="y", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
    fig.suptitle(spec["title"], x=0.0, ha="left", fontsize=14, fontweight="bold", color=TEXT)
    _x_ticks(axes[-1], labels)
    if spec["xlabel"]:
        axes[-1].set_xlabel(spec["xlabel"])
    _legend(fig, axes[0], len(styles),
            f"Hollow points: fewer than {spec['min_n']} incidents, too few to trust." if any_weak else "")
    return fig


def _draw_box(spec: dict[str, Any]) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    groups, min_n = spec["groups"], spec["min_n"]
    names = list(groups)
    colors = spec["colors"]
    unit, scale = unit_for([v for vs in groups.values() for v in vs])
    scaled = {n: [v / scale for v in groups[n]] for n in names}
    boxed = [(i, scaled[n]) for i, n in enumerate(names) if len(scaled[n]) >= min_n]
    if boxed:
        bp = ax.boxplot([vals for _, vals in boxed], positions=[i for i, _ in boxed], widths=0.55,
                        whis=(10, 90), showfliers=True, patch_artist=True,
                        medianprops={"color": TEXT, "linewidth": 2.5},
                        whiskerprops={"color": TEXT}, capprops={"color": TEXT},
                        flierprops={"marker": "o", "markersize": 3, "markeredgecolor": TEXT, "alpha": 0.7})
        for (i, _), box in zip(boxed, bp["boxes"]):
            box.set_facecolor(colors[i % len(colors)])
            box.set_edgecolor(TEXT)
    few = False
    for i, n in enumerate(names):
        # A box drawn from a handful of values suggests a distribution that is not known:
        # show the values themselves.
        if 0 < len(scaled[n]) < min_n:
            few = True
            ax.plot([i] * len(scaled[n]), scaled[n], "o", markerfacecolor="none", markersize=8,
                    markeredgewidth=1.8, markeredgecolor=colors[i % len(colors)])
    values = [v for vs in scaled.values() for v in vs]
    if values and min(values) > 0 and max(values) / min(values) > 50:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    elif values:
        ax.set_ylim(bottom=0)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n}\nn={len(groups[n])}" for n in names])
    ax.set_xlim(-0.6, len(names) - 0.4)
    _style(ax, spec["title"], spec["xlabel"], f"{spec['ylabel_prefix']} ({unit})")
    note = "Box: middle half (25th to 75th percentile); line: median; whiskers: 10th and 90th percentile."
    if few:
        note += f"\nHollow circles: each incident, where fewer than {min_n} have a value."
    _legend(fig, None, 0, note)
    return fig


def _draw_hbars(spec: dict[str, Any]) -> Figure:
    labels, series = spec["labels"], spec["series"]
    fig = _figure(height=max(2.5, 0.42 * len(labels) + 1.4))
    ax = fig.add_subplot()
    names = list(series)
    height = 0.8 / max(1, len(names))
    for k, name in enumerate(names):
        ys = [len(labels) - 1 - i + 0.4 - height * (k + 0.5) for i in range(len(labels))]
        ax.barh(ys, series[name], height, label=name, color=spec["colors"][k % len(spec["colors"])], linewidth=0)
    ax.set_yticks([len(labels) - 1 - i for i in range(len(labels))])
    ax.set_yticklabels(labels)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(spec["title"], loc="left", pad=10)
    ax.set_xlabel(spec["xlabel"])
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    _legend(fig, ax, len(names))
    return fig


def _draw_category_graph(spec: dict[str, Any]) -> Figure:
    """Categories on a circle (in the spec's order: grouped by layer), radial labels."""
    from matplotlib.collections import LineCollection
    ink = spec["ink"]
    names = [c for c, _, _ in spec["nodes"]]
    count = {c: n for c, n, _ in spec["nodes"]}
    fig = Figure(figsize=(11, 10))
    ax = fig.add_axes((0.0, 0.0, 0.8, 1.0))
    ax.set_axis_off()
    ax.set_aspect("equal")
    # Room outside the circle for the radial labels (the longest ids run ~35 characters).
    ax.set_xlim(-1.95, 1.95)
    ax.set_ylim(-1.95, 1.95)
    n = max(len(names), 1)
    pos = {c: (math.cos(2 * math.pi * k / n), math.sin(2 * math.pi * k / n)) for k, c in enumerate(names)}
    edges = spec["edges"]
    max_w = max((w for _, _, w in edges), default=1)
    # One collection for all edges: a plot call per edge costs seconds at a few hundred edges.
    ax.add_collection(LineCollection(
        [(pos[a], pos[b]) for a, b, _ in edges],
        linewidths=[0.6 + 5 * w / max_w for _, _, w in edges],
        colors=[(0.54, 0.56, 0.6, 0.25 + 0.6 * w / max_w) for _, _, w in edges], zorder=1))
    max_n = max(count.values(), default=1)
    ax.scatter([pos[c][0] for c in names], [pos[c][1] for c in names],
               s=[60 + 900 * count[c] / max_n for c in names],
               color=[colour for _, _, colour in spec["nodes"]], zorder=2, edgecolors="white", linewidths=0.8)
    for c in names:
        x, y = pos[c]
        angle = math.degrees(math.atan2(y, x))
        flip = 90 < angle or angle < -90
        ax.text(x * 1.09, y * 1.09, f"{c} ({count[c]})", color=ink, fontsize=8.5,
                rotation=angle + 180 if flip else angle, rotation_mode="anchor",
                ha="right" if flip else "left", va="center", zorder=3)
    handles = [ax.scatter([], [], color=colour, s=60, label=title) for title, colour in spec["legend"]]
    if handles:
        leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
                        fontsize=10, title="Layer", title_fontsize=10)
        for t in [*leg.get_texts(), leg.get_title()]:
            t.set_color(ink)
    return fig


_DRAW = {"category-graph": _draw_category_graph, "bars": _draw_bars, "lines": _draw_lines, "durations": _draw_durations, "box": _draw_box,
         "hbars": _draw_hbars}
