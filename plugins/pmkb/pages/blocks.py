"""HTML blocks the generated pages share: links from one page to another, tables of
figures and admonitions, in the markup the theme styles.

Cells, titles and texts handed to these are HTML already: front-matter values go through
`h` first. The blocks go into pages after Markdown ran, so MkDocs does not rewrite their
links: they are relative hrefs from the page's own address."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from markupsafe import escape

from .htmlutil import rel_url
from .page import category_src, incident_src

if TYPE_CHECKING:
    from ..knowledge.kb import KnowledgeBase


def h(value: object) -> str:
    """Front-matter text for inside an HTML block: one line, HTML-escaped."""
    return str(escape(" ".join(str(value).split())))


class PageLinks:
    """Links from one page (`src`, its src_uri) to the others."""

    def __init__(self, kb: "KnowledgeBase", src: str, directory_urls: bool):
        self.kb, self.src, self.directory_urls = kb, src, directory_urls

    def href(self, to_src: str) -> str:
        return str(escape(rel_url(self.src, to_src, self.directory_urls)))

    def link(self, to_src: str, text_html: str) -> str:
        return f'<a href="{self.href(to_src)}">{text_html}</a>'

    def incident(self, incident_id: str) -> str:
        return self.link(incident_src(incident_id), h(incident_id))

    def category(self, category_id: str, with_id: bool = False) -> str:
        """A link to the category's page, named by its title (and id)."""
        cat = self.kb.taxonomy.categories.get(category_id)
        text = h(cat.title if cat else category_id)
        if with_id:
            text += f" <code>{h(category_id)}</code>"
        return self.link(category_src(category_id), text)


def figure_table(header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None,
                 css_class: str = "") -> str:
    """A table of figures, shown but not indexed (`data-search-exclude`); the first column
    left-aligned and the rest right-aligned unless `align` ("l", "r", "c" per column)
    says otherwise. `css_class` is added to the wrapper's `pmkb-trend`, which the
    stylesheet gives dense cells."""
    align = align or ["l"] + ["r"] * (len(header) - 1)
    style = {"l": "", "r": ' style="text-align:right"', "c": ' style="text-align:center"'}
    head = "".join(f"<th{style[a]}>{c}</th>" for c, a in zip(header, align))
    body = "\n".join("<tr>" + "".join(f"<td{style[a]}>{c}</td>" for c, a in zip(row, align)) + "</tr>" for row in rows)
    classes = f"pmkb-trend {css_class}".strip()
    return (f'<div class="{classes}" data-search-exclude><table>\n<thead><tr>{head}</tr></thead>\n'
            f"<tbody>\n{body}\n</tbody></table></div>")


def admonition_html(kind: str, title: str, inner_html: str) -> str:
    """The markup Python-Markdown's admonition extension writes, which the theme styles."""
    return f'<div class="admonition {kind}">\n<p class="admonition-title">{title}</p>\n{inner_html}</div>\n'
