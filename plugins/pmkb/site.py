"""Everything the site holds, as pages and static files: the one entry point the MkDocs
adapter calls. Data flows one way: knowledge base -> graph, metrics -> pages, charts, exports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .actions import actions_site
from .exports import incidents_json, schema_file
from .feed import feed_xml
from .graph import category_graph, incident_graph, related_incidents
from .graph_page import graph_site
from .incident_page import incident_page
from .kb import KnowledgeBase
from .links import asset_src, link_index
from .listing_pages import category_pages, index_page
from .metrics import recurrence
from .pages import Page, SiteContext, StaticFile, StreamedFile
from .trends import category_recurrence_markdown, incident_recurrence_markdown, trends_site


_ASSETS = Path(__file__).resolve().parent / "assets"
STYLE_URI = "assets/pmkb/pmkb.css"
SCRIPT_URI = "assets/pmkb/pmkb.js"
FEED_URI = "feed.xml"


@dataclass
class Site:
    pages: list[Page]
    files: list[StaticFile]
    assets: dict[str, str]       # src_uri -> absolute path of an incident's asset file
    streamed: list[StreamedFile]  # written into the site folder after the build


def build_site(kb: KnowledgeBase, ctx: SiteContext, directory_urls: bool = True) -> Site:
    g = incident_graph(kb)
    related = related_incidents(kb, g)
    rec = recurrence(kb)
    links = link_index(kb)
    pages: list[Page] = [index_page(kb, directory_urls)]
    for inc in kb.incidents:
        notes = incident_recurrence_markdown(kb, inc.id, ctx)
        notes = f"## Recurrence\n\n{notes}" if notes.strip() else ""
        pages.append(incident_page(kb, inc, related[inc.id], notes, ctx, links, directory_urls))
    cat_notes = {c: category_recurrence_markdown(kb, c, ctx) for c in kb.taxonomy.categories}
    pages += category_pages(kb, {c: f"## Recurrence\n\n{md}" for c, md in cat_notes.items() if md.strip()}, directory_urls)
    graph_page, graph_svg = graph_site(kb, category_graph(kb, g), directory_urls)
    pages.append(graph_page)
    trend_pages, trend_files = trends_site(kb, ctx, directory_urls)
    action_pages, action_files = actions_site(kb, ctx, directory_urls)
    pages += trend_pages + action_pages
    files = [schema_file(), graph_svg, *trend_files, *action_files,
             StaticFile(FEED_URI, feed_xml(kb, ctx.site_name, ctx.site_url or None)),
             StaticFile(STYLE_URI, (_ASSETS / "pmkb.css").read_bytes()),
             StaticFile(SCRIPT_URI, (_ASSETS / "pmkb.js").read_bytes())]
    assets = {asset_src(a.path): str(a.abs_path) for a in kb.assets}
    return Site(pages, files, assets, [incidents_json(kb, related, rec)])
