"""Everything the site holds, as pages and static files: the one entry point the MkDocs
adapter calls. Data flows one way: knowledge base -> graph, metrics -> pages, charts, exports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .actions import actions_site
from .exports import incidents_json, schema_file
from .feed import feed_xml
from .graph import category_graph, incident_graph, related_incidents
from .graph_page import graph_site
from .incident_page import incident_fragments, incident_page
from .kb import KnowledgeBase
from .links import asset_src, link_index
from .listing_pages import category_pages, index_page
from .metrics import recurrence
from . import charts
from .pages import ChartFile, Page, SiteContext, StaticFile, StreamedFile, incident_src
from .recurrence_notes import category_notes, prime
from .trends import trends_site


_ASSETS = Path(__file__).resolve().parent / "assets"
STYLE_URI = "assets/pmkb/pmkb.css"
SCRIPT_URI = "assets/pmkb/pmkb.js"
FEED_URI = "feed.xml"


@dataclass
class Site:
    pages: list[Page]
    files: list[StaticFile]
    assets: dict[str, str]       # src_uri -> absolute path of an incident's asset file
    streamed: list[StreamedFile]  # written into the site folder after the build (empty when deferred)
    charts: list[str]             # dest_uris of the charts deferred work draws (empty when drawn here)
    exports: list[str]            # dest_uris of the exports deferred work writes (empty when streamed)


@dataclass(frozen=True)
class Deferred:
    """The part of a site build that does not feed MkDocs' page rendering, and may run
    beside it: incident pages' fragments, charts, and the large exports."""
    fragments: Callable[[], Iterator[tuple[str, dict[str, str], dict[str, str]]]]  # per deferred page, in page order
    charts: list[ChartFile]
    streamed: list[StreamedFile]

    def run(self, site_dir: Path) -> Iterator[tuple]:
        """Do it all, in the order the site needs it: (src_uri, fragments, search text) for
        each page, then (dest_uri, SVG bytes) for each chart, then each export written into
        `site_dir` and announced as (dest_uri, None)."""
        yield from self.fragments()
        # one process: this is already the second lane beside MkDocs
        yield from zip((c.dest_uri for c in self.charts), charts.render_many([c.spec for c in self.charts], workers=1))
        for streamed in self.streamed:
            target = site_dir / streamed.dest_uri
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                streamed.write(out)
            yield streamed.dest_uri, None


def build_site(kb: KnowledgeBase, ctx: SiteContext, directory_urls: bool = True,
               defer: Callable[[Deferred], None] | None = None) -> Site:
    """Every page and file of the site.

    With `defer`, the incident pages come without their fragments (`Page.deferred`), the
    charts undrawn (`Site.charts`) and the exports unwritten: `defer` is handed that work
    (`Deferred`) as soon as what it needs is known, to run it beside the rest (the MkDocs
    adapter runs it in a forked process while MkDocs renders the other pages). Without
    `defer`, everything is done here.
    """
    g = incident_graph(kb)
    related = related_incidents(kb, g)
    rec = recurrence(kb)
    links = link_index(kb)
    pages: list[Page] = [index_page(kb, directory_urls)]
    graph_page, graph_chart = graph_site(kb, category_graph(kb, g), directory_urls)
    trend_pages, trend_files = trends_site(kb, ctx, directory_urls)
    chart_files = [graph_chart, *(f for f in trend_files if isinstance(f, ChartFile))]
    streamed = [incidents_json(kb, related, rec)]
    if defer is not None:
        prime(kb)   # what the notes share, computed once, before the work runs elsewhere

        def fragments() -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
            for inc in kb.incidents:
                yield (incident_src(inc.id), *incident_fragments(kb, inc, related[inc.id], ctx, directory_urls))
        defer(Deferred(fragments, chart_files, streamed))
        drawn: list[StaticFile] = []
    else:
        drawn = [StaticFile(c.dest_uri, svg) for c, svg in
                 zip(chart_files, charts.render_many([c.spec for c in chart_files]))]
    pages += category_pages(kb, {c: category_notes(kb, c, ctx, directory_urls) for c in kb.taxonomy.categories},
                            directory_urls)
    action_pages, action_files = actions_site(kb, ctx, directory_urls)
    pages += [graph_page, *trend_pages, *action_pages]
    # Incident pages last: MkDocs reads pages in this order, which gives a deferred job a head start.
    pages += [incident_page(kb, inc, related[inc.id], ctx, links, directory_urls, deferred=defer is not None)
              for inc in kb.incidents]
    files = [schema_file(), *(f for f in trend_files if isinstance(f, StaticFile)), *action_files, *drawn,
             StaticFile(FEED_URI, feed_xml(kb, ctx.site_name, ctx.site_url or None)),
             StaticFile(STYLE_URI, (_ASSETS / "pmkb.css").read_bytes()),
             StaticFile(SCRIPT_URI, (_ASSETS / "pmkb.js").read_bytes())]
    assets = {asset_src(a.path): str(a.abs_path) for a in kb.assets}
    if defer is not None:
        return Site(pages, files, assets, [], charts=[c.dest_uri for c in chart_files],
                    exports=[s.dest_uri for s in streamed])
    return Site(pages, files, assets, streamed, charts=[], exports=[])
