"""Small helpers shared by the page renderers: escaping, links, human durations."""

from __future__ import annotations

import json
import posixpath
import re
from functools import lru_cache
from datetime import datetime, tzinfo
from urllib.parse import quote

from markupsafe import Markup, escape

__all__ = ["Markup", "escape", "page_url", "rel_url", "human_minutes", "local_time", "slugify", "yaml_string"]


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
    the working directory on every call.

    Every generated href goes through here, so here it is made safe to put between
    quotes in HTML and in Markdown: anything but letters, digits, '/', '#' and '_.-~' is
    percent-encoded (ids are held to safe patterns; this is the second line)."""
    here = page_url(from_src, directory_urls)
    there = page_url(to_src, directory_urls) if to_src.endswith(".md") else to_src
    base = here.split("/")[:-1]          # the folder the page is served from
    target = [p for p in there.split("/") if p and p != "."]
    common = 0
    while common < len(base) and common < len(target) and base[common] == target[common]:
        common += 1
    rel = "/".join([".."] * (len(base) - common) + target[common:]) or "."
    return quote(rel + "/" if there.endswith("/") and not rel.endswith("/") else rel, safe="/#~")


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


# YAML reads a JSON string as a double-quoted scalar, except for these, which it refuses
# (controls, DEL, noncharacters) or reads as line breaks (NEL, LS, PS): escaped instead.
_YAML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def yaml_string(value: str) -> str:
    """`value` as a YAML double-quoted scalar that reads back as exactly `value`, for the
    front matter of generated pages (their titles): one helper, so that no title breaks it."""
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """A path-safe slug: never '..', never a slash, never empty."""
    return _SLUG.sub("-", text.lower()).strip("-") or "x"
