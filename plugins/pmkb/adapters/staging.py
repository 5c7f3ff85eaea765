"""The site as plain files, for a site engine that does not run our MkDocs plugin (Zensical).

Zensical reads `mkdocs.yml` but ignores plugins it does not know, so on its own it builds
the hand-written pages and nothing of the knowledge base. Here the core writes what the
plugin would hand MkDocs into a staging folder outside the user's `docs/`:

    <staging>/mkdocs.yml     the user's configuration, with docs_dir and site_dir pointed here
    <staging>/docs/          the user's docs, then every generated page as Markdown with its
                             fragments in place, the charts, the exports and the assets
    <staging>/overrides/     the user's theme overrides, plus ours

and the engine builds from it. The plugin's other work is done here too, engine-neutrally:
the Markdown extensions and the stylesheet and script it adds to the configuration, the
live figures of hand-written pages, and, after the build (`finish_site`), the feed link
in every page's head and the Pagefind index.

Nothing here imports a site engine.
"""

from __future__ import annotations

import html
import io
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

from ..knowledge.kb import KnowledgeBase
from ..pages.addresses import clashes_with_docs, clashes_within, dest_of
from ..pages.home import render_home_markers
from ..pages.page import SiteContext, StreamedFile
from ..pages.site import FEED_URI, build_site
from ..reading.files import MARKDOWN_SUFFIXES
from ..reading.timestamps import today
from ..settings import plugin_options
from .pagefind import index_site, mark_body, search_page
from .staging_config import (
    CONFIG_NAME,
    DOCS,
    OVERRIDES,
    SITE,
    THEME_OVERRIDES,
    StagingError,
    WriteTags,
    auto_nav,
    derived_config,
    plain_value,
    read_config,
    toc_options,
)
from .staging_markdown import markdown_page

# --- the staging folder ---------------------------------------------------------------------

@dataclass
class Staged:
    """What `stage` made: the folder, its configuration, and what the build needs after."""
    folder: Path
    config_file: Path
    site_dir: Path                 # where the engine writes the site (inside the folder)
    has_feed: bool
    pagefind: bool
    written: int = 0               # files written or changed this time (serve re-stages)
    # The "edit this page" target of each generated page, by the HTML file it is written to:
    # (src_uri, the incident's own file relative to docs_dir or None: nothing to edit), as
    # the plugin sets them.
    edit_links: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    unsearched: set[str] = field(default_factory=set)   # HTML files of pages kept out of search


def _docs_files(docs_dir: Path) -> dict[str, Path]:
    """The user's docs, by path relative to docs_dir; hidden files and folders left out, as MkDocs does."""
    found = {}
    for path in docs_dir.rglob("*"):
        rel = path.relative_to(docs_dir)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            found[rel.as_posix()] = path
    return found


def _sync(target: Path, wanted: dict[str, bytes | Path], prune: bool = True) -> int:
    """Make the folder hold `wanted` (bytes, or a file to copy), and with `prune` nothing
    else: files whose content is unchanged are left alone, so that an engine's own rebuild
    (`zensical serve`) sees only what changed. Returns how many files it wrote or removed."""
    changed = 0
    for rel, content in wanted.items():
        dest = target / rel
        data = content.read_bytes() if isinstance(content, Path) else content
        if dest.is_file() and dest.stat().st_size == len(data) and dest.read_bytes() == data:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".pmkb-tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
        changed += 1
    if prune and target.is_dir():
        for path in sorted(target.rglob("*"), reverse=True):
            rel = path.relative_to(target).as_posix()
            if path.is_file() and rel not in wanted:
                path.unlink()
                changed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return changed


def stage(kb: KnowledgeBase, config_file: Path, folder: Path) -> Staged:
    """Write the whole site's sources into `folder` (made if missing, kept up to date when
    it exists: only changed files are written) for an engine that does not run the plugin."""
    config = read_config(config_file)
    root = config_file.resolve().parent
    docs_dir = (root / str(plain_value(config.get("docs_dir") or "docs"))).resolve()
    if not docs_dir.is_dir():
        raise StagingError(f"the docs folder {docs_dir} does not exist")
    options = plugin_options(config) or {}
    directory_urls = bool(plain_value(config.get("use_directory_urls", True)))
    toc = toc_options(config) or {}
    link = toc.get("permalink")
    user_docs = _docs_files(docs_dir)
    ctx = SiteContext(today=today(kb.settings.tz), site_name=str(plain_value(config.get("site_name", ""))),
                      site_url=str(plain_value(config.get("site_url") or "")),
                      heading_link=("¶" if link is True else str(link)) if link else None,
                      heading_link_title=str(toc.get("permalink_title", "Permanent link")),
                      extra={"metrics_page": "metrics.md" if "metrics.md" in user_docs else None})
    site = build_site(kb, ctx, directory_urls=directory_urls)
    pagefind = options.get("search_index") == "pagefind"
    if pagefind:
        site.pages.append(search_page(ctx.site_url))

    docs: dict[str, bytes | Path] = {}       # the staged docs folder: relative path -> bytes or file to copy
    for rel, path in user_docs.items():
        docs[rel] = path
        if rel.endswith(".md"):
            text = path.read_text(encoding="utf-8-sig")
            if "<!-- postmortems:" in text:   # live figures, as the plugin fills them in
                docs[rel] = render_home_markers(text, kb, ctx, rel, directory_urls).encode("utf-8")
    generated: dict[str, bytes | Path] = {page.src_uri: markdown_page(page, directory_urls).encode("utf-8")
                                          for page in site.pages}
    generated.update({static.dest_uri: static.content for static in site.files})
    generated.update({src_uri: Path(abs_path) for src_uri, abs_path in site.assets.items()})
    generated.update({streamed.dest_uri: _streamed_bytes(streamed) for streamed in site.streamed})
    # Every output file has one source, as the plugin requires (addresses.py).
    problems = [f"{docs_dir.name}/{src} clashes with {what}: both would be written to {dest}"
                for src, dest, what in clashes_with_docs(site, sorted(user_docs), directory_urls)]
    problems += [f"{a} and {b} would both be written to {dest}" for dest, a, b in clashes_within(site, directory_urls)]
    if problems:
        raise StagingError("; ".join(problems) + "; rename or remove one of each")
    docs.update(generated)

    # Theme overrides: ours, then the user's custom_dir over them (theirs win).
    theme = config.get("theme")
    custom = plain_value(theme.get("custom_dir")) if isinstance(theme, dict) else None
    overrides: dict[str, bytes | Path] = {}
    for base in [THEME_OVERRIDES] + ([(root / str(custom)).resolve()] if custom else []):
        overrides.update({p.relative_to(base).as_posix(): p for p in base.rglob("*")
                          if p.is_file() and "__pycache__" not in p.parts})

    nav = None
    if config.get("nav") is None:
        nav = auto_nav([uri for uri in user_docs if uri.endswith(".md")] + [p.src_uri for p in site.pages if p.in_nav])
    derived = derived_config(config, root, nav)
    config_text = ("# Made by pmkb from " + str(config_file.resolve()) + " for a build with an engine that does "
                   "not run the postmortems plugin. Do not edit: it is made anew on every build.\n"
                   + yaml.dump(derived, Dumper=WriteTags, sort_keys=False, allow_unicode=True))

    folder.mkdir(parents=True, exist_ok=True)
    written = _sync(folder / DOCS, docs) + _sync(folder / OVERRIDES, overrides)
    written += _sync(folder, {CONFIG_NAME: config_text.encode("utf-8")}, prune=False)
    has_feed = any(f.dest_uri == FEED_URI for f in site.files)
    # Pagefind indexes the pages the theme's search indexes, as the plugin marks them.
    unsearched = {dest_of(uri, directory_urls) for uri, content in docs.items()
                  if uri.endswith(MARKDOWN_SUFFIXES) and _search_excluded(content)}
    edit_links = {dest_of(p.src_uri, directory_urls): (p.src_uri, None if not p.edit_path else
                  Path(os.path.relpath(kb.settings.incidents_dir / p.edit_path, docs_dir)).as_posix())
                  for p in site.pages}
    return Staged(folder, folder / CONFIG_NAME, folder / SITE, has_feed, pagefind, written, edit_links, unsearched)


def _streamed_bytes(streamed: StreamedFile) -> bytes:
    buf = io.BytesIO()
    streamed.write(buf)
    return buf.getvalue()


# --- after the engine's build ----------------------------------------------------------------

def finish_site(staged: Staged, site_dir: Path) -> str | None:
    """What the plugin does to the built pages, done to the engine's output: the feed's
    link in every page's head, "edit this page" of a generated page opening the incident's
    file (or no such button where there is no file to edit) and, when the settings ask for
    it, the Pagefind index (its summary is returned)."""
    for page in site_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        rel = page.relative_to(site_dir).as_posix()
        new = text
        if rel in staged.edit_links:
            new = _retarget_edit(new, *staged.edit_links[rel])
        if staged.has_feed and "</head>" in new:
            href = posixpath.relpath(FEED_URI, posixpath.dirname(rel) or ".")
            # rel "alternate feed", not "alternate": see the plugin's on_post_page
            new = new.replace("</head>", f'<link rel="alternate feed" type="application/atom+xml" '
                                         f'title="New postmortems" href="{href}"></head>', 1)
        if "\x00" in new:
            # a NUL from any text: HTML has no place for it (browsers show U+FFFD), as the plugin does
            new = new.replace("\x00", "\ufffd")
        if staged.pagefind and rel not in staged.unsearched:
            new = mark_body(new)
        if new != text:
            page.write_text(new, encoding="utf-8")
    return index_site(site_dir) if staged.pagefind else None


def _search_excluded(content: bytes | Path) -> bool:
    """Whether a page's front matter keeps it out of search (`search: {exclude: true}`)."""
    data = content.read_bytes() if isinstance(content, Path) else content
    text = data.decode("utf-8-sig", errors="replace")
    if not text.startswith("---"):
        return False
    end = text.find("\n---", 3)
    try:
        meta = yaml.safe_load(text[3:end]) if end > 0 else None
    except yaml.YAMLError:
        return False
    search = meta.get("search") if isinstance(meta, dict) else None
    return isinstance(search, dict) and bool(search.get("exclude"))


def _retarget_edit(text: str, src: str, target: str | None) -> str:
    """Engines of the MkDocs family link "edit" (and "view source") to the page's file in
    the repository's docs folder; a generated page has none there."""
    anchor = re.compile(r'<a href="([^"]*)/' + re.escape(src) + r'"([^>]*)>(.*?)</a>', re.S)

    def sub(m: re.Match) -> str:
        if target is None:
            return ""
        parts = urlsplit(m.group(1) + "/" + target)
        href = urlunsplit(parts._replace(path=posixpath.normpath(parts.path)))
        return f'<a href="{html.escape(href)}"{m.group(2)}>{m.group(3)}</a>'
    return anchor.sub(sub, text)
