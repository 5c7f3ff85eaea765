"""Everything the site holds, as pages and static files: the one entry point the MkDocs
adapter calls. Data flows one way: knowledge base -> graph, metrics -> pages, charts, exports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from ..incidents.model import Incident
from ..knowledge.facets import FacetIndex, facet_index
from ..knowledge.graph import related_for
from ..knowledge.kb import KnowledgeBase
from ..knowledge.recurrence import failed_fixes, recurrence
from . import charts
from .actions import actions_site
from .exports import incidents_json, schema_file
from .facet_pages import facet_pages
from .feed import feed_xml
from .graph_page import GRAPH_SVG, graph_chart, graph_page
from .incident_page import incident_fragments, incident_page
from .links import asset_src, link_index
from .listing_pages import category_pages, index_page
from .page import ChartFile, Filling, LaterFile, Page, SiteContext, StaticFile, StreamedFile, filled
from .trends import trends_site

_ASSETS = Path(__file__).resolve().parent / "assets"
STYLE_URI = "assets/pmkb/pmkb.css"
SCRIPT_URI = "assets/pmkb/pmkb.js"
FEED_URI = "feed.xml"


class Task(NamedTuple):
    """A piece of deferred work: `run()` makes what belongs to `keys`, as {key: made}."""
    keys: tuple[str, ...]
    run: Callable[[], dict[str, Any]]


# Pages per task: the first task small, so that the first page MkDocs reads is soon ready;
# the others large enough that handing them over costs little beside making them.
FIRST_PAGES, PAGES_PER_TASK = 4, 25


@dataclass(frozen=True)
class Deferred:
    """The part of a site build that MkDocs' page rendering does not wait for, and that can
    run beside it: the pages' fragments (`Page.make`), charts and the feed, and the large
    exports."""
    pages: list[Page]               # the pages with a `make`, in the order MkDocs reads them
    charts: list[ChartFile]
    files: list[LaterFile]
    streamed: list[StreamedFile]

    @property
    def made(self) -> list[str]:
        """dest_uris of the files it makes (charts and later files)."""
        return [c.dest_uri for c in self.charts] + [f.dest_uri for f in self.files]

    def tasks(self, site_dir: Path) -> list[Task]:
        """All of it as tasks, in the order the site needs them: the pages' (fragments,
        search text, headings) by src_uri, a few pages a task; each chart's and later
        file's bytes by dest_uri (None for a chart its page did not use); each export
        written into `site_dir`, announced as None by its dest_uri."""
        pages = self.pages
        cuts = [0, *range(FIRST_PAGES, len(pages), PAGES_PER_TASK), len(pages)] if pages else []
        out = [Task(tuple(p.src_uri for p in pages[a:b]), partial(_fill, pages[a:b])) for a, b in zip(cuts, cuts[1:])]
        out += [Task((c.dest_uri,), partial(_chart, c)) for c in self.charts]
        out += [Task((f.dest_uri,), partial(_later, f)) for f in self.files]
        out += [Task((s.dest_uri,), partial(_write, s, site_dir)) for s in self.streamed]
        return out

    def make_files(self) -> Iterator[tuple[str, bytes | None]]:
        """(dest_uri, bytes) of each chart and later file, here; None for a chart its page
        did not use. The charts are drawn on every usable CPU."""
        specs = [(c.dest_uri, c.spec()) for c in self.charts]
        drawn = iter(charts.render_many([spec for _, spec in specs if spec is not None]))
        for dest, spec in specs:
            yield dest, None if spec is None else next(drawn)
        for later in self.files:
            yield later.dest_uri, later.make()


def _fill(pages: list[Page]) -> dict[str, Filling]:
    # every page handed to the deferred work has a make
    return {p.src_uri: p.make() for p in pages}   # type: ignore[misc]


def _chart(chart: ChartFile) -> dict[str, bytes | None]:
    spec = chart.spec()
    return {chart.dest_uri: None if spec is None else charts.render(spec)}


def _later(later: LaterFile) -> dict[str, bytes]:
    return {later.dest_uri: later.make()}


def _write(streamed: StreamedFile, site_dir: Path) -> dict[str, None]:
    target = site_dir / streamed.dest_uri
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        streamed.write(out)
    return {streamed.dest_uri: None}


@dataclass
class Site:
    pages: list[Page]
    files: list[StaticFile]
    assets: dict[str, str]          # src_uri -> absolute path of an incident's asset file
    streamed: list[StreamedFile]    # written into the site folder after the build (empty when deferred)
    later: list[str] = field(default_factory=list)    # dest_uris of files deferred work makes
    exports: list[str] = field(default_factory=list)  # dest_uris of exports deferred work writes


def build_site(kb: KnowledgeBase, ctx: SiteContext, directory_urls: bool = True,
               defer: Callable[[Deferred], None] | None = None) -> Site:
    """Every page and file of the site.

    Pages hold the Markdown MkDocs parses; their tables, lists and figures (kilobytes of
    HTML per page, and what costs to make) come from each page's `make`. With `defer`,
    the pages come unfilled (`Page.deferred`) and the charts, the feed and
    `incidents.json` unmade: `defer` is handed that work (`Deferred`) as soon as every
    page is known, to run it beside the rest (the MkDocs adapter runs it in a forked
    process while MkDocs renders the pages). Without `defer`, everything is done here.
    """
    links = link_index(kb)
    facets = facet_index(kb.incidents)
    # Incident pages first, as MkDocs reads pages in this order: what the deferred work
    # makes for one incident page takes a fraction of what MkDocs then spends on it, so
    # it stays ahead from the first page on; the other pages' tables come after.
    pages: list[Page] = [replace(incident_page(kb, inc, links),
                                 make=partial(_incident_filling, kb, inc, ctx, directory_urls, facets))
                         for inc in kb.incidents]
    pages.append(index_page(kb, directory_urls))
    pages += category_pages(kb, ctx, directory_urls)
    trend_pages, trend_files = trends_site(kb, ctx, directory_urls)
    action_pages, action_files = actions_site(kb, ctx, directory_urls)
    pages += [graph_page(kb, directory_urls), *trend_pages, *action_pages, *facet_pages(kb, ctx, directory_urls, facets)]
    files = [schema_file(), *action_files,
             StaticFile(STYLE_URI, (_ASSETS / "pmkb.css").read_bytes()),
             StaticFile(SCRIPT_URI, (_ASSETS / "pmkb.js").read_bytes())]
    assets = {asset_src(a.path): str(a.abs_path) for a in kb.assets}
    chart_files = [f for f in trend_files if isinstance(f, ChartFile)]
    later = [*(f for f in trend_files if isinstance(f, LaterFile)),
             LaterFile(GRAPH_SVG, partial(graph_chart, kb)),
             LaterFile(FEED_URI, partial(feed_xml, kb, ctx.site_name, ctx.site_url or None))]
    streamed = [incidents_json(kb, partial(related_for, kb), partial(recurrence, kb), partial(failed_fixes, kb))]
    work = Deferred([p for p in pages if p.make is not None], chart_files, later, streamed)

    if defer is not None:
        # Nothing above needed the recurrence relation or the figures: the work computes
        # them where it runs (the main process of a build goes on with MkDocs meanwhile).
        defer(work)
        return Site(pages, files, assets, [], later=work.made, exports=[s.dest_uri for s in streamed])
    # Everything here: fill the pages in, make the files.
    pages = [filled(p) for p in pages]
    files += [StaticFile(dest, data) for dest, data in work.make_files() if data is not None]
    return Site(pages, files, assets, streamed)


def _incident_filling(kb: KnowledgeBase, inc: Incident, ctx: SiteContext, directory_urls: bool,
                      facets: FacetIndex) -> Filling:
    return incident_fragments(kb, inc, related_for(kb)[inc.id], ctx, directory_urls, facets)
