"""Generated pages as plain Markdown for an engine that does not run the plugin: the HTML
fragments put in place as raw blocks, generated headings as Markdown headings with their
ids, links made relative to the page's source as the engine resolves them."""

from __future__ import annotations

import html
import posixpath
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit, urlunsplit

from ..pages.htmlutil import page_url
from ..pages.page import Heading, Page, placeholder

# --- pages as Markdown ---------------------------------------------------------------------

_BLOCK_START = re.compile(r"<(address|article|aside|blockquote|details|div|dl|fieldset|figure|footer|form|h[1-6]|"
                          r"header|hr|nav|ol|p|pre|section|table|ul|script|style|link)\b", re.I)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


class _TopLevelHeadings(HTMLParser):
    """Finds the headings with the given ids that sit at the top level of a fragment (not
    inside another element), with their offsets."""

    def __init__(self, text: str, ids: set[str]):
        super().__init__(convert_charrefs=True)
        self.ids, self.depth = ids, 0
        self.found: list[tuple[int, str, str]] = []
        self.line_starts = [0]
        for line in text.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))

    def handle_starttag(self, tag: str, attrs: list) -> None:
        hid = dict(attrs).get("id")
        if self.depth == 0 and re.fullmatch(r"h[1-6]", tag) and hid in self.ids:
            line, col = self.getpos()
            self.found.append((self.line_starts[line - 1] + col, tag, hid))
        if tag not in _VOID:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID:
            self.depth = max(0, self.depth - 1)


def _raw_block(fragment: str) -> str:
    """HTML that Markdown passes through untouched: it must begin with a block-level tag at
    the start of a line and stand apart from the text around it."""
    fragment = fragment.strip()
    if not fragment:
        return ""
    if not _BLOCK_START.match(fragment):
        fragment = f"<div>{fragment}</div>"
    return f"\n\n{fragment}\n\n"


def _markdown_heading(level: int, hid: str, title_html: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", "", title_html))
    text = _MD_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;")
    return f"\n\n{'#' * level} {text} {{#{hid}}}\n\n"


def fragment_markdown(fragment: str, headings: list[Heading]) -> str:
    """A fragment as Markdown: its top-level headings become Markdown headings (so the
    engine's table of contents lists them, as the plugin lists them for MkDocs), the HTML
    between them stays raw HTML blocks."""
    wanted = {hid: (title, level) for hid, title, level in headings}
    finder = _TopLevelHeadings(fragment, set(wanted))
    finder.feed(fragment)
    finder.close()
    out, at = [], 0
    for start, tag, hid in finder.found:
        end = fragment.find(f"</{tag}>", start)
        if end < 0:
            continue
        title, level = wanted[hid]
        out += [_raw_block(fragment[at:start]), _markdown_heading(level, hid, title)]
        at = end + len(tag) + 3
    out.append(_raw_block(fragment[at:]))
    return "".join(out)


_HTML_REF = re.compile(r"""(\b(?:href|src)\s*=\s*")([^"]*)(")""", re.I)


def source_relative(html_text: str, src_uri: str, directory_urls: bool) -> str:
    """The page's HTML links made relative to its source file's folder rather than to its
    address. The core writes links in HTML relative to the page's address, which MkDocs
    leaves alone; Zensical reads every relative link of a page, HTML ones included, as
    relative to the page's source file, as MkDocs reads Markdown links. The two differ for
    a page `a/b.md` served at `a/b/`: a link there must be written one folder up."""
    url = page_url(src_uri, directory_urls)
    url_dir = url[:-1] if url.endswith("/") else posixpath.dirname(url)
    src_dir = posixpath.dirname(src_uri)
    if url_dir == src_dir:
        return html_text

    def fix(m: re.Match) -> str:
        ref = m.group(2)
        parts = urlsplit(html.unescape(ref))
        if parts.scheme or parts.netloc or not parts.path or ref.startswith(("/", "#")):
            return m.group(0)
        target = posixpath.normpath(posixpath.join(url_dir, parts.path))
        new = posixpath.relpath(target, src_dir or ".") + ("/" if parts.path.endswith("/") else "")
        return m.group(1) + html.escape(urlunsplit(parts._replace(path=new)), quote=True) + m.group(3)
    return _HTML_REF.sub(fix, html_text)


def markdown_page(page: Page, directory_urls: bool = True) -> str:
    """The page's Markdown with each fragment in place of its placeholder."""
    text = page.markdown
    for name, fragment in page.fragments.items():
        mark = placeholder(name)
        if mark in text:
            text = text.replace(mark, fragment_markdown(fragment, page.headings.get(name, [])).strip("\n"), 1)
    return source_relative(text, page.src_uri, directory_urls)
