"""Everything the site holds, as pages and static files: the one entry point the MkDocs
adapter calls. Data flows one way: knowledge base -> graph, metrics -> pages, charts, exports."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from . import charts
from .actions import actions_site
from .exports import incidents_json, schema_file
from .feed import feed_xml
from .graph import category_graph, related_for
from .graph_page import graph_site
from .incident_page import incident_fragments, incident_page
from .kb import KnowledgeBase
from .links import asset_src, link_index
from .listing_pages import category_pages, index_page
from .metrics import recurrence
from .pages import ChartFile, Page, SiteContext, StaticFile, StreamedFile, incident_src
from .recurrence_notes import category_notes, prime
from .trends import trends_site


_ASSETS = Path(__file__).resolve().parent / "assets"
STYLE_URI = "assets/pmkb/pmkb.css"
SCRIPT_URI = "assets/pmkb/pmkb.js"
FEED_URI = "feed.xml"


@dataclass(frozen=True)
class LaterFile:
    """A static file whose bytes are made by deferred work (a chart, the feed)."""
    dest_uri: str
    make: Callable[[], bytes]


@dataclass(frozen=True)
class Deferred:
    """The part of a site build that MkDocs' page rendering does not wait for, and that can
    run beside it: incident pages' fragments, charts and the feed, and the large exports."""
    # per deferred page, in page order: (src_uri, fragments, search text, headings)
    fragments: Callable[[], Iterator[tuple[str, dict[str, str], dict[str, str], dict[str, list[tuple[str, str]]]]]]
    charts: list[ChartFile]
    files: list[LaterFile]
    streamed: list[StreamedFile]

    @property
    def made(self) -> list[str]:
        """dest_uris of the files it makes (charts and later files)."""
        return [c.dest_uri for c in self.charts] + [f.dest_uri for f in self.files]

    def make_files(self, workers: int | None = None) -> Iterator[tuple[str, bytes]]:
        yield from zip((c.dest_uri for c in self.charts), charts.render_many([c.spec for c in self.charts], workers))
        for later in self.files:
            yield later.dest_uri, later.make()

    def run(self, site_dir: Path) -> Iterator[tuple]:
        """Do it all, in the order the site needs it: (src_uri, fragments, search text,
        headings) for each page; (dest_uri, bytes) for each chart and later file; then each
        export written into `site_dir` and announced as (dest_uri, None)."""
        yield from self.fragments()
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

    With `defer`, the incident pages come without their fragments (`Page.deferred`), and
    the charts, the feed and `incidents.json` unmade: `defer` is handed that work
    (`Deferred`) as soon as what it needs is known, to run it beside the rest (the MkDocs
    adapter runs it in a forked process while MkDocs renders the other pages). Without
    `defer`, everything is done here.
    """
    rec = recurrence(kb)
    links = link_index(kb)
    graph_page, graph_chart = graph_site(kb, category_graph(kb), directory_urls)
    trend_pages, trend_files = trends_site(kb, ctx, directory_urls)
    # Related incidents (the graph's part that costs) are computed where they are needed:
    # by the fragments and incidents.json, in the deferred work when there is some.
    chart_files = [graph_chart, *(f for f in trend_files if isinstance(f, ChartFile))]
    later = [LaterFile(FEED_URI, partial(feed_xml, kb, ctx.site_name, ctx.site_url or None))]
    streamed = [incidents_json(kb, partial(related_for, kb), rec)]

    def fragments() -> Iterator[tuple]:
        related = related_for(kb)
        for inc in kb.incidents:
            yield (incident_src(inc.id), *incident_fragments(kb, inc, related[inc.id], ctx, directory_urls))
    work = Deferred(fragments, chart_files, later, streamed)

    if defer is not None:
        prime(kb)   # what the notes share, computed once, before the work runs elsewhere
        defer(work)
    pages: list[Page] = [index_page(kb, directory_urls)]
    pages += category_pages(kb, {c: category_notes(kb, c, ctx, directory_urls) for c in kb.taxonomy.categories},
                            directory_urls)
    action_pages, action_files = actions_site(kb, ctx, directory_urls)
    pages += [graph_page, *trend_pages, *action_pages]
    # Incident pages last: MkDocs reads pages in this order, which gives deferred work a head start.
    pages += [incident_page(kb, inc, links) for inc in kb.incidents]
    files = [schema_file(), *(f for f in trend_files if isinstance(f, StaticFile)), *action_files,
             StaticFile(STYLE_URI, (_ASSETS / "pmkb.css").read_bytes()),
             StaticFile(SCRIPT_URI, (_ASSETS / "pmkb.js").read_bytes())]
    assets = {asset_src(a.path): str(a.abs_path) for a in kb.assets}
    if defer is not None:
        return Site(pages, files, assets, [], later=work.made, exports=[s.dest_uri for s in streamed])
    # Everything here: fill the pages in, make the files.
    filled = {src: dict(zip(("fragments", "search_text", "headings"), rest)) for src, *rest in fragments()}
    pages = [replace(p, deferred=False, **filled[p.src_uri]) if p.deferred else p for p in pages]
    files += [StaticFile(dest, data) for dest, data in work.make_files()]
    return Site(pages, files, assets, streamed)

