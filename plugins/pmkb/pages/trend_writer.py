"""The writer of the trend pages: headings, prose, warnings, tables and charts as HTML that
goes into the page after Markdown ran."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import escape

from .blocks import PageLinks, admonition_html, figure_table, h
from .htmlutil import rel_url
from .page import Filling, Heading, SiteContext, heading
from .wording import metrics_page

if TYPE_CHECKING:
    from ..knowledge.kb import KnowledgeBase

# The charts of the page of the whole knowledge base, in the order the page shows them.
FULL_CHARTS = ("incidents", "durations", "recurrence", "categories", "detection", "dimensions", "resolve-by-severity")


class Writer(PageLinks):
    """Builds one trend page as HTML: headings, prose, warnings, tables and charts, put into
    the page after Markdown ran (`Page.fragments`). Markdown would parse nothing but
    generated text here, and its inline patterns cost as much per kilobyte of prose as the
    tables did: the trend pages took as long to parse as incident pages. The headings go to
    the table of contents through `Page.headings`; the search index gets the page without
    its tables and charts."""

    def __init__(self, kb: "KnowledgeBase", ctx: SiteContext, src: str, chart_base: str, directory_urls: bool):
        super().__init__(kb, src, directory_urls)
        self.ctx, self.chart_base = ctx, chart_base
        self.html: list[str] = []
        self.search: list[str] = []
        self.headings: list[Heading] = []
        self.ids: set[str] = set()
        self.charts: list[tuple[str, dict[str, Any]]] = []

    # --- what a page is made of

    def title(self, title: str) -> None:
        """The page's h1. The table of contents gets it as Markdown would give it: the theme
        lists what is under it and points "skip to content" at it."""
        self.heading(1, title)

    def heading(self, level: int, title: str) -> None:
        hid, text = self._id(title), h(title)
        self.html.append(heading(self.ctx, level, hid, text))
        self.search.append(f'<h{level} id="{hid}">{text}</h{level}>')
        self.headings.append((hid, text, level))

    def para(self, html: str) -> None:
        """A paragraph (HTML; front-matter text in it escaped by the caller)."""
        self.html.append(f"<p>{html}</p>")
        self.search.append(f"<p>{html}</p>")

    def warning(self, text_html: str) -> None:
        block = admonition_html("warning", "Too few incidents to trust", f"<p>{text_html}</p>\n").rstrip("\n")
        self.html.append(block)
        self.search.append(block)

    def chart(self, name: str, spec: dict[str, Any], alt: str) -> None:
        assert name in FULL_CHARTS, name    # the site build is told the charts' names before they are drawn
        dest = f"{self.chart_base}-{name}.svg"
        self.charts.append((dest, spec))
        self.html.append(f'<p><img alt="{escape(alt)}" src="{escape(rel_url(self.src, dest, self.directory_urls))}" /></p>')

    def table(self, header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> None:
        """An HTML table (cells are HTML already): shown, not indexed."""
        self.html.append(figure_table(header, rows, align))

    def filling(self) -> Filling:
        return {"body": "\n".join(self.html)}, {"body": "".join(self.search)}, {"body": list(self.headings)}

    def metrics_link(self, template: str) -> str:
        """`template` with the link to the metric definitions filled in, or nothing when the
        site has none (see `metrics_page`)."""
        page = metrics_page(self.ctx)
        return template.format(self.href(page)) if page else ""

    def _id(self, title: str) -> str:
        """The id Markdown's `toc` extension gives a heading of this title, numbered on repeats."""
        base = toc_slug(title)
        hid, n = base, 0
        while hid in self.ids:
            n += 1
            hid = f"{base}_{n}"
        self.ids.add(hid)
        return hid


def toc_slug(title: str) -> str:
    # Python-Markdown's default slugify, so that addresses such as #time-to-detect stay
    # what they were when these headings were Markdown.
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())
