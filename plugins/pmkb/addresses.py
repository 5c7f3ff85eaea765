"""Where each generated file lands in the built site, and what else would land there.

A clash is two sources for one output file: a hand-written page or file in docs/ (a
`docs/incidents.json`, a `docs/trends/index.md`), or two generated ones (an asset named
`index.html` in the incidents folder). Whichever writes last would silently replace the
other, so every clash is an error. The site build and `pmkb validate` both ask here.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from typing import TYPE_CHECKING

from .diagnostics import Diagnostic
from .files import MARKDOWN_SUFFIXES
from .htmlutil import page_url

if TYPE_CHECKING:   # the site's modules (charts, graphs...) are imported only when a build needs them
    from typing import Callable

    from .kb import KnowledgeBase
    from .settings import Settings
    from .site import Site


def dest_of(src_uri: str, directory_urls: bool = True) -> str:
    """The file MkDocs writes for a source file of docs/ (or a generated one)."""
    if src_uri.endswith(MARKDOWN_SUFFIXES):
        url = page_url(src_uri.rsplit(".", 1)[0] + ".md", directory_urls)
        return url + "index.html" if url == "" or url.endswith("/") else url
    return src_uri


def generated(site: "Site", directory_urls: bool = True) -> dict[str, str]:
    """dest_uri -> what generates it, for every file of the site (two generated sources
    of one dest_uri: `clashes_within`)."""
    return dict(_generated(site, directory_urls))


def _generated(site: "Site", directory_urls: bool):
    for page in site.pages:
        what = f"the page generated from incidents/{page.edit_path}" if page.edit_path else "a generated page"
        yield dest_of(page.src_uri, directory_urls), what
    for f in site.files:
        yield f.dest_uri, "a generated file"
    for src in site.assets:
        yield dest_of(src, directory_urls), f"the asset {src}"
    for dest in [*site.later, *site.exports, *(s.dest_uri for s in site.streamed)]:
        yield dest, "a generated file"


def clashes_within(site: "Site", directory_urls: bool = True) -> list[tuple[str, str, str]]:
    """(dest_uri, one source, another) for each output file two generated sources write."""
    seen: dict[str, str] = {}
    out = []
    for dest, what in _generated(site, directory_urls):
        if dest in seen:
            out.append((dest, seen[dest], what))
        else:
            seen[dest] = what
    return out


def docs_files(docs_dir: Path) -> list[str]:
    """src_uris of the files in docs/ that MkDocs publishes (not those starting with '.')."""
    out = []
    for folder, dirs, names in os.walk(docs_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, docs_dir)
        for name in names:
            if not name.startswith("."):
                out.append(posixpath.normpath(posixpath.join(Path(rel).as_posix(), name)))
    return sorted(out)


def clashes_with_docs(site: "Site", docs: list[str], directory_urls: bool = True) -> list[tuple[str, str, str]]:
    """(docs src_uri, dest_uri, what generates it) for each hand-written file that would
    replace a generated one, or be replaced by it."""
    ours = generated(site, directory_urls)
    return [(src, dest_of(src, directory_urls), ours[dest_of(src, directory_urls)])
            for src in docs if dest_of(src, directory_urls) in ours]


# First parts of the addresses the site generates: a docs/ file elsewhere cannot clash, so
# `pmkb validate` builds the site's list of addresses only when one of these is taken.
GENERATED_TOP = frozenset({"incidents", "categories", "trends", "actions", "graph", "services", "teams", "models",
                           "datasets", "tags", "schema", "assets", "incidents.json", "trends.json", "feed.xml",
                           "search"})


def docs_clash_diagnostics(settings: "Settings", load: "Callable[[], KnowledgeBase]",
                           directory_urls: bool = True) -> list[Diagnostic]:
    """For `pmkb validate`: each file of docs/ that the site build would refuse as a clash.
    `load` gives the knowledge base, only asked for when a docs/ file could clash."""
    docs_dir = settings.docs_dir
    if docs_dir is None or not docs_dir.is_dir():
        return []
    docs = [src for src in docs_files(docs_dir) if src.split("/", 1)[0] in GENERATED_TOP]
    if not docs:
        return []
    from .pages import SiteContext
    from .site import build_site
    from .timestamps import today
    kb = load()
    site = build_site(kb, SiteContext(today=today(kb.settings.tz), site_name=""), directory_urls, defer=lambda work: None)
    return [Diagnostic(settings.shown(docs_dir / src), 1, 1, "error",
                       f"this file clashes with {what}: both would be written to {dest} in the site; rename or remove it")
            for src, dest, what in clashes_with_docs(site, docs, directory_urls)]
