"""The trend pages (`trends/`) and `trends.json`.

Every figure comes from metrics.py, so pages and exports agree. Every duration shown
carries its n, its median and p90 beside the mean, and a warning when n is too small
to plan from. The pages are HTML (see `Writer`): every value that comes from front
matter goes through `h`; `md_text` makes it inert in Markdown for the pages that are
Markdown (actions.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from markupsafe import escape

from ..incidents.model import Incident
from ..knowledge.facets import addresses
from ..knowledge.facets import page_src as facet_page_src
from ..knowledge.metrics import group_stats
from ..knowledge.trend_figures import trends
from .blocks import h
from .htmlutil import human_minutes, percent, yaml_string
from .page import ChartFile, Filling, LaterFile, Page, SiteContext, placeholder
from .planning_summary import write_summary
from .trend_breakdowns import detection, dimensions, resolve_by_severity
from .trend_sections import (
    Scope,
    durations_of,
    durations_per_period,
    fixes_by_type,
    incidents_per_period,
    overview,
    recurrence_per_period,
    recurring_categories,
    recurring_ids,
    scope_of,
)
from .trend_writer import FULL_CHARTS, Writer
from .wording import SEARCH_EXCLUDED, SMALL_N, scope_sentence

if TYPE_CHECKING:
    from ..knowledge.kb import KnowledgeBase


def trends_json(kb: "KnowledgeBase", today: date | None = None) -> bytes:
    return (json.dumps(trends(kb, today), indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


class _FullPage:
    """trends/index.md and its charts, written once, when the first of them is asked for
    (by the site build, where it makes pages and draws charts: beside MkDocs)."""

    def __init__(self, kb: "KnowledgeBase", ctx: SiteContext, directory_urls: bool):
        self.kb, self.ctx, self.directory_urls = kb, ctx, directory_urls
        self._made: tuple[Filling, dict[str, dict[str, Any]]] | None = None

    def _make(self) -> tuple[Filling, dict[str, dict[str, Any]]]:
        if self._made is None:
            w = Writer(self.kb, self.ctx, "trends/index.md", "trends/charts/all", self.directory_urls)
            w.title("Trends")
            if self.kb.incidents:
                write_summary(w, durations_of(self.kb))
                w.heading(2, "Details")
            _intro(w)
            _details(w, scope_of(self.kb, self.kb.incidents))
            _index_of_views(w)
            self._made = w.filling(), dict(w.charts)
        return self._made

    def filling(self) -> Filling:
        return self._make()[0]

    def chart(self, dest: str) -> dict[str, Any] | None:
        return self._make()[1].get(dest)


def trends_site(kb: "KnowledgeBase", ctx: SiteContext,
                directory_urls: bool = True) -> tuple[list[Page], list[LaterFile | ChartFile]]:
    """trends.json and trends/index.md, with its charts under trends/charts/. (Each service
    and team has a page of its own, facet_pages.py, that the page links to.)

    Every page comes with a `make`, and the files with what makes them: the site build
    runs them beside MkDocs. The figures (the recurrence relation among them) are worked
    out there, not in the build's main process. The page of the whole knowledge base
    names its charts before it is written; one it turns out not to show (no category
    recurs) is not drawn."""
    src = "trends/index.md"
    full = _FullPage(kb, ctx, directory_urls)
    pages = [Page(src, "Trends", _markdown("Trends"), in_nav=True, make=full.filling)]
    dests = [f"trends/charts/all-{name}.svg" for name in FULL_CHARTS] if kb.incidents else []

    return pages, [LaterFile("trends.json", partial(trends_json, kb, ctx.today)),
                   *(ChartFile(dest, partial(full.chart, dest)) for dest in dests)]


def _markdown(title: str) -> str:
    # The title goes in the page's meta, so MkDocs does not look for it in the HTML. Trend
    # pages are left out of search (SEARCH_EXCLUDED): search is for incidents.
    return (f"---\ntitle: {yaml_string(str(escape(title)))}\n{SEARCH_EXCLUDED}---\n\n"
            f"{placeholder('body')}\n")


def _intro(w: Writer) -> None:
    s = w.kb.settings
    w.para(f"Figures over every incident of the knowledge base, drafts included. Months and quarters are "
           f"those of <code>started</code> in the {h(s.timezone)} time zone. {scope_sentence(w.kb)} "
           "Durations show the median and the 90th percentile beside the mean: a few very long incidents "
           "pull the mean far from the typical one."
           + w.metrics_link(' See <a href="{}">metric definitions</a>.')
           + f' The raw numbers are in <a href="{w.href("trends.json")}">trends.json</a>. Views per service and '
           "per team are listed at the end.")


def _details(w: Writer, sc: Scope) -> None:
    """The sections below the planning summary, in the order the page shows them."""
    if not sc.incidents:
        w.para("No incidents yet. Trends appear here once the first postmortem is written.")
        return
    for section in (overview, incidents_per_period, durations_per_period, recurrence_per_period,
                    recurring_categories, fixes_by_type, detection, dimensions, resolve_by_severity):
        section(w, sc)


def _index_of_views(w: Writer) -> None:
    kb = w.kb
    t = trends(kb)
    dur = durations_of(kb)
    rec = recurring_ids(kb)
    teams: dict[str, list[Incident]] = defaultdict(list)
    for inc in kb.incidents:
        if inc.team:
            teams[inc.team].append(inc)
    views = [("service", "services", t["by_service"]),
             ("team", "teams", {n: group_stats(incs, rec, lambda i: dur[i.id]) for n, incs in teams.items()})]
    shown = False
    for noun, kind, stats in views:
        if not stats:
            continue
        shown = True
        names = addresses(stats)
        w.heading(2, f"By {noun}")
        w.table([noun.capitalize(), "incidents", "recurrences", "recurrence rate", "median time to resolve",
                 "p90 time to resolve", "n"],
                ([w.link(facet_page_src(kind, names[n]), h(n)), str(g["incidents"]), str(g["recurrences"]),
                  percent(g["recurrence_rate"]), human_minutes(g["time_to_resolve"]["median"]),
                  human_minutes(g["time_to_resolve"]["p90"]), str(g["time_to_resolve"]["n"])]
                 for n, g in sorted(stats.items(), key=lambda kv: (-kv[1]["incidents"], kv[0]))))
    if shown:
        w.para(f"<em>n</em>: incidents with a time to resolve. Figures with n below {SMALL_N} are too few to trust.")
