"""Everything the site holds, as pages and static files: the one entry point the MkDocs
adapter calls. Data flows one way: knowledge base -> graph, metrics -> pages, charts, exports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .exports import incidents_json, schema_file
from .graph import category_graph, incident_graph, related_incidents
from .graph_page import graph_site
from .incident_page import incident_page
from .kb import KnowledgeBase
from .links import asset_src, link_index
from .listing_pages import category_pages, index_page
from .pages import Page, SiteContext, StaticFile


_ASSETS = Path(__file__).resolve().parent / "assets"
STYLE_URI = "assets/pmkb/pmkb.css"
SCRIPT_URI = "assets/pmkb/pmkb.js"
FEED_URI = "feed.xml"


@dataclass
class Site:
    pages: list[Page]
    files: list[StaticFile]
    assets: dict[str, str]       # src_uri -> absolute path of an incident's asset file


def build_site(kb: KnowledgeBase, ctx: SiteContext, directory_urls: bool = True) -> Site:
    g = incident_graph(kb)
    related = related_incidents(kb, g)
    links = link_index(kb)
    pages: list[Page] = [index_page(kb, directory_urls)]
    pages += [incident_page(kb, inc, related[inc.id], "", ctx, links, directory_urls) for inc in kb.incidents]
    pages += category_pages(kb, {}, directory_urls)
    graph_page, graph_svg = graph_site(kb, category_graph(kb, g), directory_urls)
    pages.append(graph_page)
    files = [incidents_json(kb, related), schema_file(), graph_svg,
             StaticFile(STYLE_URI, (_ASSETS / "pmkb.css").read_bytes()),
             StaticFile(SCRIPT_URI, (_ASSETS / "pmkb.js").read_bytes())]
    assets = {asset_src(a.path): str(a.abs_path) for a in kb.assets}
    return Site(pages, files, assets)
