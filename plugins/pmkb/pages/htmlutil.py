"""Small helpers shared by the page renderers: escaping, links, human durations."""

from __future__ import annotations

import posixpath
import re
from datetime import datetime, tzinfo
from functools import lru_cache

from markupsafe import Markup, escape

__all__ = ["Markup", "escape", "page_url", "rel_url", "human_minutes", "local_time", "slugify"]


def page_url(src_uri: str, directory_urls: bool = True) -> str:
    """The site address MkDocs gives a page with this src_uri."""
    stem, _ = posixpath.splitext(src_uri)
    if stem == "index" or stem.endswith("/index"):
        base = stem[: -len("index")]
        return base if directory_urls else base + "index.html"
    return stem + "/" if directory_urls else stem + ".html"


@lru_cache(maxsize=1 << 16)
def rel_url(from_src: str, to_src: str, directory_urls: bool = True) -> str:
    """A relative href from one page to another (for links inside raw HTML blocks,
    which MkDocs does not rewrite). String work only, and cached: a large site makes
    hundreds of thousands of links, and posixpath.relpath asks the operating system for
    the working directory on every call."""
    here = page_url(from_src, directory_urls)
    there = page_url(to_src, directory_urls) if to_src.endswith(".md") else to_src
    base = here.split("/")[:-1]          # the folder the page is served from
    target = [p for p in there.split("/") if p and p != "."]
    common = 0
    while common < len(base) and common < len(target) and base[common] == target[common]:
        common += 1
    rel = "/".join([".."] * (len(base) - common) + target[common:]) or "."
    return rel + "/" if there.endswith("/") and not rel.endswith("/") else rel


def human_minutes(minutes: float | None) -> str:
    """45 min, 2 h 28 min, 3 d 4 h: durations as people say them."""
    if minutes is None:
        return "–"
    m = round(minutes)
    if m < 60:
        return f"{m} min"
    if m < 48 * 60:
        h, rest = divmod(m, 60)
        return f"{h} h {rest} min" if rest else f"{h} h"
    d, rest = divmod(m, 24 * 60)
    h = round(rest / 60)
    return f"{d} d {h} h" if h else f"{d} d"


def local_time(dt: datetime | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if dt is None:
        return "–"
    local = dt.astimezone(tz)
    return f"{local.strftime(fmt)} {local.tzname() or ''}".strip()


_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """A path-safe slug: never '..', never a slash, never empty."""
    return _SLUG.sub("-", text.lower()).strip("-") or "x"
