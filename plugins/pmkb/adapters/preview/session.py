"""`pmkb serve PATH...`: the pages of a few incidents, against the whole knowledge base,
made again each time one of their files is saved.

A full site build renders every page on every save; this renders the edited incident's
page only. The rest of the knowledge base is read once (from the on-disk cache of
`preview_cache` when the files have not changed) and kept in memory; a save re-checks
the saved file, puts its incident in place of the old one and asks the core, as the site
build does, for its related incidents, recurrence, the fixes that did not hold and `pmkb
similar`'s suggestions. Nothing here decides what the page says: the page is the core's
incident page (`incident_page`, `incident_fragments`), its body made by Python-Markdown
with the site's extensions.

A saved file with errors keeps its last good page, shown under the file's diagnostics,
as `pmkb validate` prints them.
"""

from __future__ import annotations

import gc
import threading
import time
from bisect import insort
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ...incidents.diagnostics import Diagnostic, sort_key
from ...incidents.model import Incident
from ...incidents.validate import FileResult, Rules, check_file, digest
from ...knowledge.checking import check_files, gc_paused
from ...knowledge.cross_checks import cross_file_checks
from ...knowledge.graph import RelatedIndex, incident_graph
from ...knowledge.kb import Asset, FileNames, KnowledgeBase, Loader, NoIncidentsFolder, discover, read_assets
from ...knowledge.similar import read_incident_like, similar
from ...pages.incident_page import incident_fragments, incident_page
from ...pages.links import link_index
from ...pages.page import SiteContext
from ...reading.timestamps import today
from ...settings import Settings
from ...workers import Pool, usable_cpus
from .cache import Entries, cache_key, read_cache, slim, write_in_background
from .files import PageState, file_stamp, read_bytes, rel_path, settle
from .markdown import markdown_factory, page_html, site_config

SIMILAR_LIMIT = 10


@dataclass
class Loaded:
    """How the start went: for the terminal and the benchmark."""
    files: int
    checked: int              # files checked (the rest came from the cache)
    seconds: float
    cache_writer: Pool | None = None   # the worker writing the cache; closing it waits for it


class Preview:
    """The knowledge base in memory and the previewed files' pages; thread-safe."""

    def __init__(self, settings: Settings, paths: list[Path], config_file: Path):
        self.settings = settings
        self.config = site_config(config_file)
        unique = {p.resolve(): p for p in paths}   # a file named twice is previewed once
        self.pages = [PageState(full, rel_path(settings, p), settings.shown(p)) for full, p in unique.items()]
        self.version = 0
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rules: Rules | None = None
        self.results: dict[str, FileResult] = {}      # rel -> result, every incident file but the previewed
        self.stamps: dict[str, tuple[int, int]] = {}  # rel -> stamp of each of those files
        self.base: list[Incident] = []                # their valid incidents, in (started, id) order
        self.assets: list[Asset] = []
        self.graph: Any = None                        # incident_graph of `base`
        self.notes: list[str] = []                    # about the knowledge base, shown on every page
        self.bearing: dict[str, list[Incident]] = {}  # category -> base incidents that bear on it (_rebase)
        self._markdown = markdown_factory(self.config)
        self.config_file = config_file
        self.settings_stamp = self._settings_stamp()
        self.restart_note = False

    # --- loading ---------------------------------------------------------------------------

    def load(self, use_cache: bool = True, write: bool = True) -> Loaded:
        """Read the whole knowledge base, from the cache where the files did not change,
        then make the previewed pages. Raises KnowledgeBaseError when it cannot be read."""
        start = time.perf_counter()
        settings = self.settings
        if not settings.incidents_dir.is_dir():
            raise NoIncidentsFolder([Diagnostic(settings.shown(settings.incidents_dir), 1, 1, "error",
                                                "the incidents folder does not exist; create it or fix 'incidents_dir' in mkdocs.yml")])
        self.rules = Loader().rules(settings)
        key = cache_key(settings)
        mine = {p.path for p in self.pages}
        with gc_paused():   # millions of objects and no cycles: no collection passes over them
            cached = read_cache(settings, key) if use_cache else {}
            md_files, other = discover(settings.incidents_dir)
            names = FileNames(settings)
            entries: Entries = {}
            todo: list[tuple[str, str, str]] = []
            for path in md_files:
                abs_path = str(path)
                rel, shown, stamp = names.of(path, abs_path)
                if path in mine:
                    continue
                self.stamps[rel] = stamp
                hit = cached.get(rel)
                if hit is not None:
                    data = read_bytes(abs_path)
                    if data is not None and digest(data) == hit[0] and hit[1].shown == shown:
                        entries[rel] = hit
                        continue
                todo.append((abs_path, rel, shown))
            entries.update(self._check(todo, parallel=True))
            self.results = {rel: r for rel, (_, r) in entries.items()}
            for page in self.pages:
                self._read_page(page)
            for page in self.pages:
                self._judge(page)
            self.assets, asset_diags = read_assets(settings, other)
            self._rebase(asset_diags)
            self._render_all()
            # What was read lives as long as the preview: frozen, it is left out of every
            # later collection (the first full one would otherwise scan it all, a second).
            gc.freeze()
        writer = write_in_background(settings, key, entries) if write and todo else None
        return Loaded(len(self.results), len(todo), time.perf_counter() - start, writer)

    def _check(self, todo: list[tuple[str, str, str]], parallel: bool = False) -> Entries:
        """Check files; slim results, keyed by rel path. In forked workers when there are
        many (only before the server's threads start: forking beside threads is unsafe)."""
        assert self.rules is not None
        fresh = check_files(todo, self.rules, True, usable_cpus() if parallel else 1)
        return {job[1]: (dig, slim(result)) for job, (dig, result) in zip(todo, fresh)}

    def _rebase(self, asset_diags: list[Diagnostic]) -> None:
        """The incidents of the files not previewed, as a load of the whole knowledge base
        keeps them (a file with errors, its own or across files, is left out), and the graph
        related incidents are found in."""
        results = list(self.results.values()) + [r for p in self.pages if (r := self._page_result(p)) is not None]
        diags = cross_file_checks(results) + asset_diags
        for r in self.results.values():
            diags.extend(r.diagnostics)
        bad = {d.path for d in diags if d.is_error}
        self.base = sorted((r.incident for r in self.results.values() if r.incident is not None and r.shown not in bad),
                           key=lambda i: i.order_key)
        errors = sum(1 for d in diags if d.is_error and d.path not in {p.shown for p in self.pages})
        self.notes = [n for n in self.notes if n.startswith("The taxonomy")]
        if errors:
            self.notes.append(f"{errors} error(s) in other files of the knowledge base leave those files out of "
                              "this preview (`pmkb validate` lists them)")
        assert self.rules is not None        # read before the files are
        self.graph = incident_graph(KnowledgeBase(self.settings, self.rules.taxonomy, self.base, [], []))
        # Per category, the incidents that can bear on an incident's recurrence notes there:
        # those with it as a root cause, and those with a done fix addressing it.
        bearing: dict[str, list[Incident]] = {}
        for inc in self.base:
            cats = set(inc.categories)
            cats.update(c for a in inc.action_items if a.status == "done" and a.completed for c in a.addresses)
            for c in cats:
                bearing.setdefault(c, []).append(inc)
        self.bearing = bearing

    # --- the previewed files ----------------------------------------------------------------

    def _page_result(self, page: PageState) -> FileResult | None:
        """The previewed file as checks across files see it: as it is now, errors or not
        (as `pmkb validate` sees it)."""
        return page.result

    def _read_page(self, page: PageState) -> bool:
        """Read and check one previewed file; True when it changed since the last read.
        The checks across files come after (`_judge`), once every previewed file is read:
        two previewed files may name each other in `related:`."""
        stamp = file_stamp(page.path)
        if stamp == page.stamp and page.stamp is not None:
            return False
        page.stamp = stamp
        data = read_bytes(str(page.path))
        if data is None:
            page.result, page.current = None, b""
            return True
        assert self.rules is not None
        page.result = check_file(data, page.rel, page.shown, self.rules, True, digest(data))
        page.draft_id = page.result.id
        page.current = data
        return True

    def _judge(self, page: PageState) -> None:
        """The file's diagnostics, checks across files included, and its page's incident:
        the new one when there is no error, the last good one otherwise."""
        result = page.result
        if result is None:
            page.diagnostics = [Diagnostic(page.shown, 1, 1, "error", "cannot read the file (moved or deleted?)")]
            page.stale = True
            return
        others = [r for rel, r in self.results.items() if rel != page.rel]
        others += [p.result for p in self.pages if p is not page and p.result is not None]
        # Of files with the same id, the first in the order of a load is told it is "also
        # used by" the others: put this one in its place among them.
        rest = [r for r in others if r.id is None or r.id != result.id]
        same = sorted([*(r for r in others if r.id is not None and r.id == result.id), result],
                      key=lambda r: self._walk_key(r))
        cross = [d for d in cross_file_checks([*rest, *same]) if d.path == page.shown]
        page.diagnostics = sorted(result.diagnostics + cross, key=sort_key)
        page.stale = any(d.is_error for d in page.diagnostics) or result.incident is None
        if not page.stale:
            page.incident = result.incident
            page.data = page.current
        if page.slug:
            page.slugs.add(page.slug)

    def _walk_key(self, result: FileResult) -> tuple:
        """Where a file comes in a load: `discover` walks folders in name order, each
        folder's files before its sub-folders; named files outside the incidents folder last."""
        outside = next((p for p in self.pages if p.rel == result.path and p.shown == result.shown
                        and not p.path.is_relative_to(self.settings.incidents_dir)), None)
        if outside is not None:
            return ((2, result.shown),)
        parts = result.path.split("/")
        return (*((1, d) for d in parts[:-1]), (0, parts[-1]))

    def knowledge_base(self) -> KnowledgeBase:
        """The knowledge base as the site would be built now: the other files' incidents
        and each previewed file's last good incident (unless another file has its id)."""
        assert self.rules is not None
        taken = {i.id for i in self.base}
        mine = [p.incident for p in self.pages if p.incident is not None and p.incident.id not in taken]
        return self._kb(self.base, mine)

    def _kb(self, base: list[Incident], mine: list[Incident]) -> KnowledgeBase:
        assert self.rules is not None
        incidents = list(base)
        for inc in mine:   # base is in order already: put each in its place
            insort(incidents, inc, key=lambda i: i.order_key)
        return KnowledgeBase(self.settings, self.rules.taxonomy, incidents, self.assets, [])

    def recurrence_kb(self, kb: KnowledgeBase, inc: Incident) -> KnowledgeBase:
        """The knowledge base that an incident's recurrence notes are worked out on: the
        incidents that share a root-cause category with it or have a done fix addressing one,
        and every incident by id (for the related incidents' titles). By the definitions of
        SPEC section 6 nothing else can make it a recurrence or a fix fail at it; the core's
        `recurrence` and `failed_fixes` then take a fraction of the whole knowledge base's
        time (tests/test_preview.py compares the result with the whole knowledge base's)."""
        seen: set[str] = set()
        base: list[Incident] = []
        for c in inc.categories:
            for other in self.bearing.get(c, ()):
                if other.id not in seen:
                    seen.add(other.id)
                    base.append(other)
        base.sort(key=lambda i: i.order_key)
        mine = [i for i in kb.incidents if i.id not in seen and any(p.incident is i for p in self.pages)]
        sub = self._kb(base, mine)
        sub.by_id = kb.by_id
        return sub

    def _related(self, kb: KnowledgeBase) -> RelatedIndex:
        """Related incidents over the whole knowledge base: the base's graph with the
        previewed incidents added for the moment (building the graph anew costs a third of
        a second at 10,000 incidents)."""
        g = self.graph
        added = [i for i in kb.incidents if ("i", i.id) not in g]
        for inc in added:
            g.add_node(("i", inc.id), kind="incident")
            g.add_edges_from((("i", inc.id), ("c", c)) for c in inc.categories if ("c", c) in g)
        try:
            return RelatedIndex(kb, g)
        finally:
            g.remove_nodes_from([("i", inc.id) for inc in added])

    def _render_all(self) -> None:
        kb = self.knowledge_base()
        related = self._related(kb)
        for page in self.pages:
            if page.incident is not None and page.incident.id in kb.by_id and kb.by_id[page.incident.id] is page.incident:
                self._render(page, kb, related)

    def _render(self, page: PageState, kb: KnowledgeBase, related: RelatedIndex) -> None:
        inc = page.incident
        assert inc is not None
        started = time.perf_counter()
        ctx = SiteContext(today=today(self.settings.tz), site_name=self.config["site_name"],
                          site_url=self.config["site_url"], heading_link=self.config["heading_link"],
                          extra={"metrics_page": None})
        links = link_index(kb)
        md_page = incident_page(kb, inc, links)
        page.related = related[inc.id]
        fragments, _search, headings = incident_fragments(self.recurrence_kb(kb, inc), inc, page.related, ctx)
        page.html, page.toc = page_html(self._markdown(), md_page.markdown, fragments, headings)
        page.title = md_page.title
        # Without the path: `similar` would resolve every incident's path to leave the file
        # itself out (a second at 10,000); its id, the same as its incident's, does that here.
        draft = replace(read_incident_like(page.data, page.path), path=None)
        page.similar = similar(kb, draft, SIMILAR_LIMIT)
        page.seconds = time.perf_counter() - started

    # --- watching ----------------------------------------------------------------------------

    def poll(self) -> bool:
        """Re-read the previewed files that changed and make their pages again; True when
        any did (the browser then reloads)."""
        if not any(file_stamp(p.path) != p.stamp for p in self.pages):
            return False
        settle([p.path for p in self.pages])
        with self.lock:
            if not any([self._read_page(p) for p in self.pages]):   # noqa: C419 (read every page, no short cut)
                return False
            for page in self.pages:   # a change to one may change another's checks across files
                self._judge(page)
            with gc_paused():   # a save makes many objects and no cycles: no pass over the whole base
                self._render_all()
            self.version += 1
            self.changed.notify_all()
            return True

    def _settings_stamp(self) -> tuple:
        stamps: list[tuple[int, int] | None] = []
        for path in (self.settings.taxonomy, self.config_file):
            try:
                st = path.stat()
                stamps.append((st.st_mtime_ns, st.st_size))
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    def rescan(self) -> bool:
        """Look for changes to the other incident files (a `git pull`, another editor) and
        take them in; True when there were any. Costs a walk and a stat per file. A changed
        taxonomy or mkdocs.yml changes every check: the page asks for a restart."""
        if self._settings_stamp() != self.settings_stamp and not self.restart_note:
            with self.lock:
                self.restart_note = True
                self.notes = [*self.notes, "The taxonomy or mkdocs.yml changed since the preview started: "
                              "stop it (Ctrl-C) and start it again to check against them."]
                self.version += 1
                self.changed.notify_all()
            return True
        md_files, other = discover(self.settings.incidents_dir)
        names = FileNames(self.settings)
        mine = {p.path for p in self.pages}
        stamps: dict[str, tuple[int, int]] = {}
        paths: dict[str, tuple[str, str]] = {}
        for path in md_files:
            if path in mine:
                continue
            rel, shown, stamp = names.of(path, str(path))
            stamps[rel] = stamp
            paths[rel] = (str(path), shown)
        if stamps == self.stamps:
            return False
        todo = [(paths[rel][0], rel, paths[rel][1]) for rel, s in stamps.items() if self.stamps.get(rel) != s]
        fresh = self._check(todo)
        with self.lock:
            for rel in set(self.results) - set(stamps):
                del self.results[rel]
            self.results.update({rel: r for rel, (_, r) in fresh.items()})
            self.stamps = stamps
            for page in self.pages:   # a related incident may have appeared or gone
                self._judge(page)
            self.assets, asset_diags = read_assets(self.settings, other)
            self._rebase(asset_diags)
            self._render_all()
            self.version += 1
            self.changed.notify_all()
        return True

    def wait(self, seen: int, timeout: float) -> int:
        """The version, once it is other than `seen` or `timeout` seconds have passed."""
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen, timeout)
            return self.version

    def page_for(self, slug: str) -> PageState | None:
        with self.lock:
            return next((p for p in self.pages if p.slug == slug), None)

    def other_page(self, slug: str) -> PageState | None:
        """The page of an incident that is not previewed (a related one, a suggestion), made
        when asked for from its file as it is now; not refreshed on save."""
        with self.lock:
            kb = self.knowledge_base()
            inc = next((i for i in self.base if i.slug == slug), None)
            if inc is None:
                return None
            path = self.settings.incidents_dir / inc.source.path
            page = PageState(path, inc.source.path, inc.source.shown, refreshed=False)
            self._read_page(page)
            self._judge(page)
            if page.incident is None or page.incident.id != inc.id:
                return None
            self._render(page, kb, self._related(kb))
            return page


