"""Everything the site holds, as pages and static files: the one entry point the MkDocs
adapter calls. Data flows one way: knowledge base -> graph, metrics -> pages, charts, exports."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from . import charts
from .background import FLUSH
from .actions import actions_site
from .exports import incidents_json, schema_file
from .facet_pages import facet_pages
from .facets import FacetIndex, facet_index
from .feed import feed_xml
from .graph import related_for
from .graph_page import GRAPH_SVG, graph_chart, graph_page
from .incident_page import incident_fragments, incident_page
from .kb import KnowledgeBase
from .links import asset_src, link_index
from .listing_pages import category_pages, index_page
from .metrics import failed_fixes, recurrence
from .model import Incident
from .pages import (ChartFile, Filling, Heading, LaterFile, Page, SiteContext, StaticFile, StreamedFile,
                    filled)
from .trends import trends_site


_ASSETS = Path(__file__).resolve().parent / "assets"
STYLE_URI = "assets/pmkb/pmkb.css"
SCRIPT_URI = "assets/pmkb/pmkb.js"
FEED_URI = "feed.xml"


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

    def fill(self) -> Iterator[tuple[str, dict[str, str], dict[str, str], dict[str, list[Heading]]]]:
        """(src_uri, fragments, search text, headings) of each page, in page order."""
        for page in self.pages:
            assert page.make is not None
            yield (page.src_uri, *page.make())

    def make_files(self, workers: int | None = None) -> Iterator[tuple[str, bytes | None]]:
        """(dest_uri, bytes) of each chart and later file; None for a chart its page did not use."""
        specs = [(c.dest_uri, c.spec()) for c in self.charts]
        drawn = iter(charts.render_many([spec for _, spec in specs if spec is not None], workers))
        for dest, spec in specs:
            yield dest, None if spec is None else next(drawn)
        for later in self.files:
            yield later.dest_uri, later.make()

    def run(self, site_dir: Path) -> Iterator[tuple]:
        """Do it all, in the order the site needs it: (src_uri, fragments, search text,
        headings) for each page; `background.FLUSH`; (dest_uri, bytes or None) for each chart
        and later file (`make_files`); then each export written into `site_dir` and announced
        as (dest_uri, None)."""
        yield from self.fill()
        yield FLUSH    # the pages' fragments go over now; the charts are drawn all at once
        yield from self.make_files(workers=1)    # one process: this already is the second lane
        for streamed in self.streamed:
            target = site_dir / streamed.dest_uri
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                streamed.write(out)
            yield streamed.dest_uri, None


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
