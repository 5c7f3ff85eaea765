"""Charts for the trend pages: SVG bytes from plain data, deterministic and cached.

Design choices, all for pages that switch between a light and a dark theme:

* charts are drawn for the light scheme: a transparent background, text, axes and grid in
  a dark grey (7.3:1 on white), series in mid-tones of at least 3:1 on white. An `<img>`
  cannot inherit the page's colours, and no one grey reads at 4.5:1 on both white and
  Material's slate (#1e2129), so on the slate scheme the stylesheet turns the picture
  around (`filter: invert(1) hue-rotate(180deg)`, pmkb.css): the text becomes a light
  grey (6.8:1 on slate), the series keep their hue and at least 3:1;
* the same data gives the same bytes (fixed `svg.hashsalt`, no date in the metadata,
  text drawn as paths so no font on the reader's machine changes it);
* charts are cached by a hash of everything that goes into them, so a `mkdocs serve`
  rebuild redraws only the charts whose numbers changed.

No pyplot: figures are built directly, so nothing here touches matplotlib's global
backend or figure registry.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ..workers import run_all, usable_cpus
from .chart_style import PALETTE, RC

# Bump when the drawing code changes, so cached charts of an older look are not reused.
STYLE_VERSION = 2

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
    # matplotlib is imported here, where a chart is drawn, not with this module: its import
    # takes most of a second, and a build draws its charts in a background process.
    from .chart_drawing import draw
    return draw(spec, RC)


def _remember(key: str, data: bytes) -> None:
    _cache[key] = data
    if len(_cache) > _CACHE_LIMIT:
        _cache.popitem(last=False)


def render(spec: dict[str, Any]) -> bytes:
    """The SVG of a chart spec (a JSON-able dict with a 'kind'), from the cache when the
    same spec was drawn before."""
    return render_many([spec], workers=1)[0]


def render_many(specs: list[dict[str, Any]], workers: int | None = None) -> list[bytes]:
    """SVGs of many specs, in order. Charts not in the cache are drawn by `workers`
    processes (all usable CPUs by default) when there are enough of them to pay for the
    workers (a chart takes a few tenths of a second; a large knowledge base has dozens on
    a first build)."""
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
        workers = workers if workers is not None else usable_cpus()
        tasks = [partial(_draw, spec) for spec in todo.values()]
        drawn = run_all(tasks, workers if len(tasks) >= PARALLEL_MIN else 1)
        for key, data in zip(todo, drawn):
            _remember(key, data)
    return [data if data is not None else _cache.get(key) or _draw(todo[key]) for key, data in zip(keys, out)]


PARALLEL_MIN = 6  # fewer charts than this are drawn in-process


# --- public chart builders ---------------------------------------------------------------
#
# Each `*_spec` returns the JSON-able description of a chart (its cache key); `render` or
# `render_many` turns specs into SVG. The `*_chart` shorthands do both.

def bar_spec(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], *, ylabel: str,
             xlabel: str = "", colors: Sequence[str] | None = None, stacked: bool = True,
             percent: bool = False) -> dict[str, Any]:
    """Bars per label, one colour per series, stacked by default. `percent`: values are
    fractions shown as percentages."""
    return {"kind": "bars", "title": title, "labels": list(labels),
            "series": {k: [float(v) for v in vs] for k, vs in series.items()},
            "ylabel": ylabel, "xlabel": xlabel, "colors": list(colors or PALETTE),
            "stacked": stacked, "percent": percent}


def line_spec(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, ylabel: str,
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


def box_spec(title: str, groups: Mapping[str, Sequence[float]], *, ylabel_prefix: str, xlabel: str = "",
             colors: Sequence[str] | None = None, min_n: int = 5) -> dict[str, Any]:
    """Distribution per group (values in minutes) in a human unit, on a log scale when the
    values span more than 50x, with n under each group's name. Groups with fewer than
    `min_n` values show their values as points instead of a box."""
    return {"kind": "box", "title": title,
            "groups": {k: sorted(float(v) for v in vs) for k, vs in groups.items()},
            "ylabel_prefix": ylabel_prefix, "xlabel": xlabel, "colors": list(colors or PALETTE),
            "min_n": min_n}


def hbar_spec(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], *, xlabel: str,
              colors: Sequence[str] | None = None) -> dict[str, Any]:
    """Horizontal bars, first label on top; several series are drawn side by side."""
    return {"kind": "hbars", "title": title, "labels": list(labels),
            "series": {k: [float(v) for v in vs] for k, vs in series.items()},
            "xlabel": xlabel, "colors": list(colors or PALETTE)}
