"""What the core hands to the site generator: pages (Markdown) and static files (bytes).

Renderers are functions of the knowledge base returning these; the MkDocs adapter turns
them into `File.generated(...)`. Nothing here knows about MkDocs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import IO

from markupsafe import escape


@dataclass(frozen=True)
class Page:
    src_uri: str        # e.g. "trends/index.md"; the site address follows MkDocs' rules
    title: str
    markdown: str       # Markdown with HTML blocks; every front-matter value in it is escaped
    url: str | None = None           # a site address other than MkDocs' default (incident pages)
    edit_path: str | None = None     # path of the real source file below incidents_dir, for "edit this page"
    in_nav: bool = False             # top-level pages (index, trends, actions...) may be in the nav
    # HTML put in place of `<!--pmkb:NAME-->` after Markdown ran: Markdown parses only the
    # author's text and the headings, not kilobytes of generated HTML (the slow part of a build).
    fragments: dict[str, str] = field(default_factory=dict)
    # What the search index sees in place of each fragment (HTML). Fragments are tables,
    # lists and figures, shown but not indexed, unless a page gives words for them here:
    # indexing words rather than markup keeps search fast and its index small.
    search_text: dict[str, str] = field(default_factory=dict)
    # Headings inside each fragment, (id, title as HTML, level), in order: the theme's table
    # of contents lists them where the fragment sits (MkDocs only knows Markdown's headings).
    headings: dict[str, list["Heading"]] = field(default_factory=dict)
    # Makes the page's fragments, search text and headings, which it then does not hold
    # itself: the site build runs it apart from the page (in a second process, beside
    # MkDocs), `filled` runs it here. Markdown that depends only on the knowledge base's
    # shape stays in `markdown`; kilobytes of tables and lists come from here.
    make: "Callable[[], Filling] | None" = field(default=None, compare=False, repr=False)

    @property
    def deferred(self) -> bool:
        return self.make is not None


# A heading in a fragment: (id, title as HTML, level 2 to 6).
Heading = tuple[str, str, int]
# What `Page.make` returns: fragments, search text, headings (as the fields of Page).
Filling = tuple[dict[str, str], dict[str, str], dict[str, list[Heading]]]


def fragments_only(fragments: dict[str, str]) -> Filling:
    """A filling of fragments that are shown but not indexed, with no headings."""
    return fragments, {}, {}


def filled(page: Page) -> Page:
    """The page with what its `make` makes, made here."""
    if page.make is None:
        return page
    fragments, search_text, headings = page.make()
    return replace(page, make=None, fragments=fragments, search_text=search_text, headings=headings)


def incident_src(incident_id: str) -> str:
    """The src_uri of an incident's page; MkDocs serves it at incidents/<id lower-cased>/."""
    return f"incidents/{incident_id.lower()}/index.md"


def category_src(category_id: str) -> str:
    """The src_uri of a category's page, categories/<layer>/<category>/."""
    return f"categories/{category_id}/index.md"


def placeholder(name: str) -> str:
    return f"<!--pmkb:{name}-->"


def fill(html: str, fragments: dict[str, str]) -> str:
    for name, fragment in fragments.items():
        html = html.replace(placeholder(name), fragment, 1)
    return html


_SEARCH_TEXT = re.compile(r"<!--pmkb:(\w+)-->.*?<!--/pmkb:\1-->", re.S)


def fill_search_text(html: str, search_text: dict[str, str], names: Iterable[str]) -> str:
    """The page as the search index should see it: each placeholder becomes the fragment's
    search text, between markers that `fill_marked` later replaces with the fragment."""
    for name in names:
        html = html.replace(placeholder(name), f"{placeholder(name)}{search_text.get(name, '')}<!--/pmkb:{name}-->", 1)
    return html


def fill_marked(html: str, fragments: dict[str, str]) -> str:
    """Replace what `fill_search_text` put in with the fragments themselves."""
    return _SEARCH_TEXT.sub(lambda m: fragments.get(m.group(1), m.group()), html)


def heading(ctx: "SiteContext", level: int, hid: str, title_html: str) -> str:
    """A generated heading, marked up as the `toc` extension marks up the author's."""
    link = ""
    if ctx.heading_link:
        link = (f'<a class="headerlink" href="#{hid}" title="{escape(ctx.heading_link_title)}">'
                f"{escape(ctx.heading_link)}</a>")
    return f'<h{level} id="{hid}">{title_html}{link}</h{level}>'


def unique_heading_ids(headings: dict[str, list[Heading]], taken: set[str]) -> dict[str, str]:
    """New ids for generated headings whose id the page already uses (the author wrote a
    heading of the same name), numbered as the `toc` extension numbers repeats: id_1, id_2."""
    used, renames = set(taken), {}
    for items in headings.values():
        for hid, _, _ in items:
            new, n = hid, 0
            while new in used:
                n += 1
                new = f"{hid}_{n}"
            used.add(new)
            if new != hid:
                renames[hid] = new
    return renames


def rename_heading_ids(html: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        html = html.replace(f'id="{old}"', f'id="{new}"').replace(f'href="#{old}"', f'href="#{new}"')
    return html


@dataclass(frozen=True)
class StaticFile:
    dest_uri: str       # e.g. "trends/charts/mttr.svg", "incidents.json"
    content: bytes


@dataclass(frozen=True)
class LaterFile:
    """A static file whose bytes are made when the site build gets to it (the feed, the
    graph's picture, trends.json): the build may make them beside MkDocs."""
    dest_uri: str
    make: Callable[[], bytes]


@dataclass(frozen=True)
class ChartFile:
    """A picture drawn from a chart spec (charts.py); drawing is the slow part of a site
    build's own work, so the site builder decides when and where to draw. The spec is
    asked for when drawing starts: a page may be made then too, and None means that the
    page had no use for this chart after all (no file is made)."""
    dest_uri: str
    spec: Callable[[], "dict | None"]


@dataclass(frozen=True)
class StreamedFile:
    """A static file too large to hold in memory: written straight into the built site."""
    dest_uri: str
    write: Callable[[IO[bytes]], None]


@dataclass(frozen=True)
class SiteContext:
    """What renderers need besides the knowledge base."""
    today: date                      # for overdue action items (SOURCE_DATE_EPOCH aware)
    site_name: str = "Postmortem knowledge base"
    site_url: str = ""               # absolute base address, when known (feed links)
    # The link symbol after a generated heading, as Markdown's `toc` extension puts after the
    # author's headings (its `permalink` option), or None for none; and its tooltip.
    heading_link: str | None = None
    heading_link_title: str = "Permanent link"
    extra: dict = field(default_factory=dict)
