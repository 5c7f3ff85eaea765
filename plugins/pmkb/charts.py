"""Charts for the trend pages: SVG bytes from plain data, deterministic and cached.

Design choices, all for pages that switch between a light and a dark theme:

* the background is transparent and text, axes and grid are a mid grey that reads on both
  white and Material's slate (#1e2129) - an `<img>` cannot inherit the page's text colour;
* series colours are mid-tones that keep their contrast on both backgrounds;
* the same data gives the same bytes (fixed `svg.hashsalt`, no date in the metadata,
  text drawn as paths so no font on the reader's machine changes it);
* charts are cached by a hash of everything that goes into them, so a `mkdocs serve`
  rebuild redraws only the charts whose numbers changed.

No pyplot: figures are built directly, so nothing here touches matplotlib's global
backend or figure registry.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import multiprocessing
import os
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

# Bump when the drawing code changes, so cached charts of an older look are not reused.
STYLE_VERSION = 1

# Text, axes and grid: a grey with about 4:1 contrast on white (3.8) and on Material's
# slate background #1e2129 (4.2) alike.
TEXT = "#7f838b"
GRID = "#7f838b55"
# Mid-tones with about 3:1 contrast (or more) against both backgrounds.
PALETTE = ("#4c9be8", "#e07b28", "#59a14f", "#e15759", "#b07aa1",
           "#3f9f98", "#b8952a", "#8d8d8d", "#9c755f", "#d36f8a")
# Most severe first, as the taxonomy lists severities: red to blue.
SEVERITY_COLORS = ("#e15759", "#e07b28", "#b8952a", "#4c9be8", "#3f9f98", "#b07aa1")

_RC = {
    "svg.hashsalt": "pmkb",
    "svg.fonttype": "path",
    "text.parse_math": False,      # names from front matter may hold '$'
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.titleweight": "bold",
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "axes.edgecolor": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "axes.facecolor": "none",
    "figure.facecolor": "none",
    "savefig.transparent": True,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

_CACHE_LIMIT = 1024
_cache: "OrderedDict[str, bytes]" = OrderedDict()
_stats = {"hits": 0, "misses": 0}


def cache_info() -> dict[str, int]:
    return {**_stats, "size": len(_cache)}


def clear_cache() -> None:
    _cache.clear()
    _stats.update(hits=0, misses=0)


def _key(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([STYLE_VERSION, spec], sort_keys=True, default=str).encode()).hexdigest()


def _draw(spec: dict[str, Any]) -> bytes:
    with matplotlib.rc_context(_RC):
        fig = _DRAW[spec["kind"]](spec)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.1)
    return buf.getvalue()


def _remember(key: str, data: bytes) -> None:
    _cache[key] = data
    if len(_cache) > _CACHE_LIMIT:
        _cache.popitem(last=False)


def render(spec: dict[str, Any]) -> bytes:
    """The SVG of a chart spec (a JSON-able dict with a 'kind'), from the cache when the
    same spec was drawn before."""
    return render_many([spec], workers=1)[0]


def render_many(specs: list[dict[str, Any]], workers: int | None = None) -> list[bytes]:
    """SVGs of many specs, in order. Charts not in the cache are drawn in parallel worker
    processes when there are enough of them to pay for the workers (a chart takes a few
    tenths of a second; a large knowledge base has dozens on a first build)."""
    keys = [_key(s) for s in specs]
    out: list[bytes | None] = []
    todo: dict[str, dict[str, Any]] = {}
    for key, spec in zip(keys, specs):
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            _stats["hits"] += 1
        elif key not in todo:
            todo[key] = spec
            _stats["misses"] += 1
        out.append(hit)
    if todo:
        workers = workers if workers is not None else (os.cpu_count() or 1)
        drawn = _draw_all(list(todo.values()), workers)
        for key, data in zip(todo, drawn):
            _remember(key, data)
    return [data if data is not None else _cache.get(key) or _draw(todo[key]) for key, data in zip(keys, out)]


PARALLEL_MIN = 6  # fewer charts than this are drawn in-process


def _draw_all(specs: list[dict[str, Any]], workers: int) -> list[bytes]:
    if len(specs) >= PARALLEL_MIN and workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        try:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(min(workers, len(specs)), mp_context=ctx) as pool:
                return list(pool.map(_draw, specs))
        except (OSError, RuntimeError, BrokenProcessPool):
            pass  # no processes to be had here (a sandbox, a limit): draw them one by one
    return [_draw(s) for s in specs]


# --- public chart builders ---------------------------------------------------------------
#
# Each `*_spec` returns the JSON-able description of a chart (its cache key); `render` or
# `render_many` turns specs into SVG. The `*_chart` shorthands do both.

def bar_spec(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], *, ylabel: str,
             xlabel: str = "", colors: Sequence[str] | None = None, stacked: bool = True,
             percent: bool = False) -> dict[str, Any]:
    """Bars per label, one colour per series, stacked by default. `percent`: values are
    fractions shown as percentages."""
    return {"kind": "bars", "title": title, "labels": list(labels),
            "series": {k: [float(v) for v in vs] for k, vs in series.items()},
            "ylabel": ylabel, "xlabel": xlabel, "colors": list(colors or PALETTE),
            "stacked": stacked, "percent": percent}


def line_spec(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *, ylabel: str,
              xlabel: str = "", colors: Sequence[str] | None = None, percent: bool = False,
              weak: Sequence[bool] | None = None, weak_note: str = "") -> dict[str, Any]:
    """Lines over labels; None leaves a gap. `weak` marks points drawn hollow (too few
    incidents to trust), explained by `weak_note` under the chart."""
    return {"kind": "lines", "title": title, "labels": list(labels),
            "series": {k: [None if v is None else float(v) for v in vs] for k, vs in series.items()},
            "ylabel": ylabel, "xlabel": xlabel, "colors": list(colors or PALETTE), "percent": percent,
            "weak": list(weak) if weak is not None else None, "weak_note": weak_note}


def durations_spec(title: str, labels: Sequence[str], panels: Sequence[dict[str, Any]], *,
                   xlabel: str = "", min_n: int = 5) -> dict[str, Any]:
    """Stacked panels sharing the x axis, one per duration: each panel is
    {"title", "mean": [...], "median": [...], "p90": [...], "n": [...]} in minutes. Each
    panel picks its own unit (minutes, hours or days); points with n < min_n are hollow."""
    clean = [{"title": p["title"], "n": [int(x) for x in p["n"]],
              **{k: [None if v is None else float(v) for v in p[k]] for k in ("mean", "median", "p90")}}
             for p in panels]
    return {"kind": "durations", "title": title, "labels": list(labels), "panels": clean,
            "xlabel": xlabel, "min_n": min_n}


def box_spec(title: str, groups: dict[str, Sequence[float]], *, ylabel_prefix: str, xlabel: str = "",
             colors: Sequence[str] | None = None, min_n: int = 5) -> dict[str, Any]:
    """Distribution per group (values in minutes) in a human unit, on a log scale when the
    values span more than 50x, with n under each group's name. Groups with fewer than
    `min_n` values show their values as points instead of a box."""
    return {"kind": "box", "title": title,
            "groups": {k: sorted(float(v) for v in vs) for k, vs in groups.items()},
            "ylabel_prefix": ylabel_prefix, "xlabel": xlabel, "colors": list(colors or PALETTE),
            "min_n": min_n}


def hbar_spec(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], *, xlabel: str,
              colors: Sequence[str] | None = None) -> dict[str, Any]:
    """Horizontal bars, first label on top; several series are drawn side by side."""
    return {"kind": "hbars", "title": title, "labels": list(labels),
            "series": {k: [float(v) for v in vs] for k, vs in series.items()},
            "xlabel": xlabel, "colors": list(colors or PALETTE)}


def bar_chart(*args: Any, **kwargs: Any) -> bytes:
    return render(bar_spec(*args, **kwargs))


def line_chart(*args: Any, **kwargs: Any) -> bytes:
    return render(line_spec(*args, **kwargs))


def duration_panels(*args: Any, **kwargs: Any) -> bytes:
    return render(durations_spec(*args, **kwargs))


def box_chart(*args: Any, **kwargs: Any) -> bytes:
    return render(box_spec(*args, **kwargs))


def hbar_chart(*args: Any, **kwargs: Any) -> bytes:
    return render(hbar_spec(*args, **kwargs))


# --- units -------------------------------------------------------------------------------

UNITS = (("minutes", 1.0), ("hours", 60.0), ("days", 1440.0))


def unit_for(minutes: Sequence[float | None]) -> tuple[str, float]:
    """The unit in which the largest value reads best: minutes below 2 h, hours below 3 days."""
    top = max((v for v in minutes if v is not None), default=0.0)
    if top < 120:
        return UNITS[0]
    if top < 72 * 60:
        return UNITS[1]
    return UNITS[2]


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
    ys = [values[i] for i in xs]
    if not xs:
        ax.plot([], [], style, color=color, label=label)
        return
    ax.plot(xs, ys, style, color=color, linewidth=2, label=label)
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


_DRAW = {"bars": _draw_bars, "lines": _draw_lines, "durations": _draw_durations, "box": _draw_box,
         "hbars": _draw_hbars}
