"""MkDocs plugin `postmortems`: builds the knowledge base's pages from `incidents_dir`.

Thin by design: it turns MkDocs events into calls of the core library and the core's
pages and files into MkDocs `File`s. Everything it shows is computed in pmkb's core.
"""

from __future__ import annotations

import gc
import os
import posixpath
import traceback
from pathlib import Path
from typing import Literal

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink, TableOfContents
from mkdocs.utils import get_relative_url

from ... import KnowledgeBase, KnowledgeBaseError, Loader, Settings, SettingsError, SiteContext, build_site, today
from ...knowledge.checking import gc_paused
from ...pages.addresses import clashes_within, generated
from ...pages.home import render_home_markers
from ...pages.page import Heading, fill_marked, fill_search_text, placeholder, rename_heading_ids, unique_heading_ids
from ...pages.site import FEED_URI, SCRIPT_URI, STYLE_URI
from ...workers import Ahead, usable_cpus
from ..pagefind import PagefindError, index_site, mark_body, search_page
from .config import PostmortemsConfig

log = get_plugin_logger(__name__)

# How much the workers making the deferred work give way to the build (os.nice). MkDocs
# renders one page after another and each waits for its tables, while the workers are
# ahead of need: when they and the build want the two cores of a small machine, the build
# should be the one that runs.
NICENESS = 10


class PostmortemsPlugin(BasePlugin[PostmortemsConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        # Defining on_startup keeps this instance across `mkdocs serve` rebuilds, and with
        # it the loader's per-file cache: a rebuild re-reads only the files that changed.
        self.loader = Loader()
        self.settings: Settings | None = None
        self.kb: KnowledgeBase | None = None
        self.has_feed = False
        self.fragments: dict[str, tuple] = {}   # src_uri -> (fragments, search text, headings)
        self.streamed: list = []                           # exports written after the build
        self.exports: list[str] = []                       # exports the deferred work writes
        self.ahead: Ahead | None = None                    # the deferred work, done beside MkDocs
        self.deferred: set[str] = set()                    # src_uris whose fragments come from it
        self.later_files: dict[str, File] = {}             # dest_uri -> file whose bytes it makes
        self.fork = True

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        if command == "serve":
            # The dev server runs threads; forking worker processes beside them is unsafe.
            # Serve rebuilds only re-check changed files anyway.
            self.loader.workers = 1
            self.fork = False

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        root = Path(config.config_file_path or "mkdocs.yml").resolve().parent
        try:
            # the same checks as `pmkb validate`, the docs and site folders included
            self.settings = Settings.from_options(root, dict(self.config), Path(config.docs_dir), Path(config.site_dir))
        except SettingsError as exc:
            raise PluginError(f"postmortems: {exc}") from None
        # Our theme overrides go after the user's custom_dir (theirs win) and before the theme's.
        overrides = str(Path(__file__).resolve().parent / "overrides")
        if overrides not in config.theme.dirs:
            config.theme.dirs.insert(1 if config.theme.custom_dir else 0, overrides)
        # The generated pages use admonitions and tables: enable them whatever the user's list.
        for ext in ("admonition", "tables"):
            if ext not in config.markdown_extensions:
                config.markdown_extensions.append(ext)
        if STYLE_URI not in config.extra_css:
            config.extra_css.append(STYLE_URI)
        if SCRIPT_URI not in [str(s) for s in config.extra_javascript]:
            config.extra_javascript.append(SCRIPT_URI)
        return config

    @event_priority(50)  # before other plugins' on_files, so they see the generated pages
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        self._stop_deferred()
        if self.kb is not None:
            # A `mkdocs serve` rebuild: the last build's objects were frozen (below) and
            # are thawed now; let the cycles among them go before freezing again.
            self.kb = None
            gc.collect()
        # The cyclic garbage collector stays off until the knowledge base is loaded, its
        # pages are made and all of it is frozen (end of `_files`). The load keeps it off
        # while it runs; switched on between the load and the freeze, the collector's
        # first full pass would scan every object of the load once more for nothing (a
        # quarter of a second at 1,000 incidents, seconds at 10,000).
        with gc_paused():
            return self._files(files, config)

    def _files(self, files: Files, config: MkDocsConfig) -> Files:
        assert self.settings is not None
        try:
            kb = self.loader.load(self.settings)
        except KnowledgeBaseError as exc:
            raise PluginError(_listing(exc.diagnostics)) from None
        for d in kb.warnings:
            log.warning(d.text())
        if kb.errors:
            raise PluginError(_listing(kb.errors))
        self.kb = kb
        toc = config.mdx_configs.get("toc", {}) if "toc" in config.markdown_extensions else {}
        link = toc.get("permalink")
        ctx = SiteContext(today=today(self.settings.tz), site_name=config.site_name, site_url=config.site_url or "",
                          heading_link=("¶" if link is True else str(link)) if link else None,
                          heading_link_title=str(toc.get("permalink_title", "Permanent link")),
                          # pages link to the metric definitions only where the site has them
                          extra={"metrics_page": "metrics.md" if files.get_file_from_path("metrics.md") else None})

        site_dir = Path(config.site_dir)

        def defer(work) -> None:
            # Worker processes make the pages' tables, the charts and the exports while this
            # one goes on with MkDocs; they give way to it (nice), as it waits for them.
            self.ahead = Ahead(work.tasks(site_dir), usable_cpus() - 1 if self.fork else 0, nice=NICENESS)
        site = build_site(kb, ctx, directory_urls=config.use_directory_urls, defer=defer)
        if self.config.search_index == "pagefind":
            site.pages.append(search_page(config.site_url or ""))
        docs_dir = Path(config.docs_dir).resolve()
        self.fragments = {p.src_uri: (p.fragments, p.search_text, p.headings) for p in site.pages if p.fragments}
        self.deferred = {p.src_uri for p in site.pages if p.deferred}
        for page in site.pages:
            _refuse_clash(files, page.src_uri)
            # Incident and category pages are reached through links, never the nav (SPEC 5):
            # NOT_IN_NAV keeps MkDocs from listing thousands of them as "not in nav".
            file = File.generated(config, page.src_uri, content=page.markdown,
                                  inclusion=InclusionLevel.INCLUDED if page.in_nav else InclusionLevel.NOT_IN_NAV)
            if page.edit_path:
                # "Edit this page" opens the incident file itself, not a generated page.
                source = self.settings.incidents_dir / page.edit_path
                file.edit_uri = Path(os.path.relpath(source, docs_dir)).as_posix()
            files.append(file)
        for static in site.files:
            _refuse_clash(files, static.dest_uri)
            files.append(File.generated(config, static.dest_uri, content=static.content))
        for src_uri, abs_path in site.assets.items():
            _refuse_clash(files, src_uri)
            files.append(File.generated(config, src_uri, abs_src_path=abs_path))
        # Files the deferred work makes (charts, the feed): their bytes are set in on_env, before
        # MkDocs copies files.
        self.later_files = {}
        for dest in site.later:
            _refuse_clash(files, dest)
            self.later_files[dest] = File.generated(config, dest, content=b"")
            files.append(self.later_files[dest])
        _refuse_clashes(files, site, config.use_directory_urls)
        self.has_feed = any(f.dest_uri == FEED_URI for f in site.files) or FEED_URI in site.later
        self.streamed = site.streamed
        self.exports = site.exports
        # The knowledge base and the pages' Markdown stay alive until the build ends, and
        # MkDocs allocates heavily from here on: freezing what exists now keeps the garbage
        # collector from scanning it again on every full collection (unfrozen after the
        # build, so that `mkdocs serve` can free one build's objects in the next).
        gc.freeze()
        return files

    def on_page_markdown(self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        # Hand-written pages (the home page) may ask for live figures with markers.
        if self.kb is not None and page.file.generated_by is None and "<!-- postmortems:" in markdown:
            ctx = SiteContext(today=today(self.kb.settings.tz), site_name=config.site_name)
            return render_home_markers(markdown, self.kb, ctx, page.file.src_uri, config.use_directory_urls)
        return markdown

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        src = page.file.src_uri
        if src in self.deferred:
            self.deferred.discard(src)
            self.fragments[src] = self._deferred(src)
        entry = self.fragments.get(src)
        if entry is None:
            return html
        fragments, search_text, headings = entry
        if headings:
            fragments, search_text = self._place_headings(html, page, fragments, search_text, headings)
            self.fragments[src] = (fragments, search_text, headings)
        # The search plugin indexes page.content in on_page_context: until then the page
        # holds its search text, and after it (below) the fragments themselves.
        return fill_search_text(html, search_text, fragments)

    @staticmethod
    def _place_headings(html: str, page: Page, fragments: dict[str, str], search_text: dict[str, str],
                        headings: dict[str, list[Heading]]) -> tuple[dict[str, str], dict[str, str]]:
        """Generated sections have their headings in HTML: give them ids the author's headings
        do not use, list them in the page's table of contents where their fragment sits, and
        let MkDocs' anchor validation know them."""
        items = list(page.toc)
        renames = unique_heading_ids(headings, _toc_ids(items))
        if renames:
            fragments = {k: rename_heading_ids(v, renames) for k, v in fragments.items()}
            search_text = {k: rename_heading_ids(v, renames) for k, v in search_text.items()}
        # where each top-level item of the author's table of contents sits in the page
        where = [html.find(f'id="{item.id}"') for item in items]
        inserts = []
        for name, hs in headings.items():
            at = html.find(placeholder(name))
            if at < 0 or not hs:
                continue
            index = sum(1 for w in where if 0 <= w < at)
            inserts.append((index, _nested([AnchorLink(title, renames.get(hid, hid), level) for hid, title, level in hs])))
        for index, links in sorted(inserts, key=lambda x: -x[0]):   # from the end, so indexes hold
            items[index:index] = links
        if items and items[0].level == 1 and len(items) > 1:
            # The body began with an h1 and nothing generated came before it: the theme lists
            # only what is under a first h1, so the generated sections after it go under it.
            ours = {id(link) for _, links in inserts for link in links}
            items[0].children.extend(link for link in items[1:] if id(link) in ours)
            items = [items[0], *(item for item in items[1:] if id(item) not in ours)]
        page.toc = TableOfContents(items)
        if page.present_anchor_ids is not None:
            page.present_anchor_ids |= {renames.get(hid, hid) for hs in headings.values() for hid, _, _ in hs}
        return fragments, search_text

    def on_env(self, env, *, config: MkDocsConfig, files: Files):
        # Every page has been read by now, so the deferred work is on its last tasks: the files.
        for dest, file in self.later_files.items():
            data = self._deferred(dest)
            if data is None:
                files.remove(file)    # a chart its page turned out not to show
            else:
                file.content_bytes = data
        self.later_files = {}
        return env

    def _deferred(self, key: str):
        """What the deferred work made for `key`, waiting for it."""
        assert self.ahead is not None
        try:
            return self.ahead.get(key)
        except Exception as exc:  # noqa: BLE001 - a bug of ours in a worker: say what failed, with its traceback
            detail = "".join(traceback.format_exception(exc)).rstrip()
            raise PluginError(f"postmortems: making {key} failed:\n{detail}") from None

    @event_priority(-50)  # after the search plugin's on_page_context (priority 0) indexed the page
    def on_page_context(self, context, *, page: Page, config: MkDocsConfig, nav):
        # Each page's fragments are used once: let them go (10,000 pages' worth adds up).
        entry = self.fragments.pop(page.file.src_uri, None)
        if entry is not None and page.content is not None:
            page.content = fill_marked(page.content, entry[0])
        return context

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        if "\x00" in output:
            # a NUL from any text (a title written "\0"): HTML has no place for it; browsers
            # show U+FFFD for it, and so does the file now
            output = output.replace("\x00", "\ufffd")
        if self.config.search_index == "pagefind" and not (page.meta.get("search") or {}).get("exclude"):
            # Pagefind indexes only marked pages: the pages kept out of the theme's search
            # (service, team, model, data set and tag pages; the search page) stay out of it too.
            output = mark_body(output)
        if self.has_feed and "</head>" in output:
            href = get_relative_url(FEED_URI, page.url or ".")
            # rel "alternate feed", not "alternate" alone: the theme takes every
            # link[rel=alternate] for a language version of the site and downloads the
            # sitemap.xml beside it on every page view (1.3 MB at 10,000 incidents). Feed
            # readers read rel as a list of words, as the HTML standard defines it.
            link = f'<link rel="alternate feed" type="application/atom+xml" title="New postmortems" href="{href}">'
            output = output.replace("</head>", link + "</head>", 1)
        return output

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.ahead is not None:
            for dest in self.exports:
                self._deferred(dest)    # written by then
        self._stop_deferred()
        for streamed in self.streamed:
            target = Path(config.site_dir) / streamed.dest_uri
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                streamed.write(out)
        if self.config.search_index == "pagefind":
            try:
                log.info(f"Pagefind: {index_site(Path(config.site_dir))}")
            except PagefindError as exc:
                raise PluginError(f"postmortems: {exc}") from None

    def on_build_error(self, *, error: Exception) -> None:
        self._stop_deferred()

    def on_shutdown(self) -> None:
        self._stop_deferred()

    def _stop_deferred(self) -> None:
        gc.unfreeze()
        if self.ahead is not None:
            self.ahead.close()
            self.ahead = None
        self.deferred = set()

    def on_serve(self, server: LiveReloadServer, *, config: MkDocsConfig, builder) -> LiveReloadServer:
        assert self.settings is not None
        server.watch(str(self.settings.incidents_dir))
        server.watch(str(self.settings.taxonomy))
        return server


def _toc_ids(items) -> set[str]:
    ids = set()
    for item in items:
        ids.add(item.id)
        ids |= _toc_ids(item.children)
    return ids


def _nested(links: list[AnchorLink]) -> list[AnchorLink]:
    """Links in page order, each under the nearest one before it of a lower level (an h3
    under its h2), as the `toc` extension nests the author's headings."""
    top: list[AnchorLink] = []
    open_: list[AnchorLink] = []
    for link in links:
        while open_ and open_[-1].level >= link.level:
            open_.pop()
        (open_[-1].children if open_ else top).append(link)
        open_.append(link)
    return top


def _refuse_clash(files: Files, uri: str) -> None:
    clash = files.get_file_from_path(uri)
    if clash is not None and clash.generated_by is None:
        raise PluginError(f"postmortems: docs/{posixpath.normpath(uri)} clashes with a page the plugin generates; "
                          "rename or remove it")


def _refuse_clashes(files: Files, site, directory_urls: bool) -> None:
    """Every output file has one source: a file of docs/ that lands where a generated page,
    file, asset or export does (whatever its name in docs/) is an error, and so are two
    generated sources for one output file."""
    ours = generated(site, directory_urls)
    problems = [f"docs/{f.src_uri} clashes with {ours[f.dest_uri]}: both would be written to {f.dest_uri}"
                for f in files if f.generated_by is None and f.dest_uri in ours]
    problems += [f"{a} and {b} would both be written to {dest}" for dest, a, b in clashes_within(site, directory_urls)]
    if problems:
        raise PluginError("postmortems: " + "; ".join(problems) + "; rename or remove one of each")


def _listing(diags) -> str:
    errors = [d for d in diags if d.is_error]
    files = len({d.path for d in errors})
    head = f"postmortems: {len(errors)} error(s) in {files} file(s); fix them (run `pmkb validate` for the same list):"
    return head + "\n" + "\n".join(d.text() for d in diags)
