"""The knowledge base: every incident file read, checked across files, and ordered.

Loading is the one place that touches the file system. Results are cached by file
content, so a `mkdocs serve` rebuild after editing one incident re-checks only that file.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..incidents.diagnostics import Diagnostic, sort_key
from ..incidents.model import Incident
from ..incidents.schema import load_checker
from ..incidents.taxonomy import Taxonomy, TaxonomyError, load_taxonomy
from ..incidents.validate import FileResult, Rules
from ..reading.files import can_read, folder_problem, walk
from ..settings import Settings
from ..workers import usable_cpus
from .checking import check_files, gc_paused
from .cross_checks import cross_file_checks, span_warnings


@dataclass(frozen=True)
class Asset:
    path: str          # relative to incidents_dir, POSIX
    abs_path: Path


@dataclass
class KnowledgeBase:
    settings: Settings
    taxonomy: Taxonomy
    incidents: list[Incident]                 # valid incidents, ordered by (started, id)
    assets: list[Asset]
    diagnostics: list[Diagnostic]             # every problem of every file, sorted
    by_id: dict[str, Incident] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {i.id: i for i in self.incidents}

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


def discover(incidents_dir: Path) -> tuple[list[Path], list[Path]]:
    """(incident files, other files), sorted, below incidents_dir; what cannot be read is left
    out here (`walk` reports it, for the loader)."""
    found = walk(incidents_dir)
    return found.incidents, found.others


class Loader:
    """Loads knowledge bases, keeping per-file results between loads (for `mkdocs serve`)."""

    def __init__(self, workers: int | None = None):
        self.workers = workers if workers is not None else usable_cpus()
        self._cache: dict[str, tuple[tuple[int, int], str, FileResult]] = {}
        self._rules_key: tuple | None = None
        self.checked_last = 0   # how many files the last load actually read and checked

    def rules(self, settings: Settings) -> Rules:
        try:
            taxonomy = load_taxonomy(settings.taxonomy, settings.shown(settings.taxonomy))
        except TaxonomyError as exc:
            raise KnowledgeBaseError(exc.diagnostics) from None
        return Rules(taxonomy, load_checker(), settings.tz)

    def load(self, settings: Settings, only: list[Path] | None = None) -> KnowledgeBase:
        """Read and check every incident file. `only` limits which files get diagnostics
        (`pmkb validate FILE`), while the whole knowledge base is still read for the
        checks across files."""
        rules, results, assets, diags, bad = self._gather(settings, only, build=True)
        incidents = sorted((r.incident for r in results if r.incident is not None and r.shown not in bad),
                           key=lambda i: i.order_key)
        return KnowledgeBase(settings, rules.taxonomy, incidents, assets, diags)

    def check(self, settings: Settings, only: list[Path] | None = None) -> Checked:
        """Every diagnostic that load() finds, without building the incidents (`pmkb validate`).

        The checks are the same; only the Incident objects, which a validation run would
        throw away, are neither built nor sent back from the worker processes."""
        _, results, _, diags, bad = self._gather(settings, only, build=False)
        return Checked(diags, sum(1 for r in results if r.ok and r.shown not in bad))

    def _gather(self, settings: Settings, only: list[Path] | None, build: bool
                ) -> tuple[Rules, list[FileResult], list[Asset], list[Diagnostic], set[str]]:
        problem = folder_problem(settings.incidents_dir)
        if problem is not None:
            raise NoIncidentsFolder([Diagnostic(settings.shown(settings.incidents_dir), 1, 1, "error",
                                                f"the incidents folder {problem}")])
        rules = self.rules(settings)
        rules_key = (rules.taxonomy, settings.timezone)
        if rules_key != self._rules_key:
            self._cache.clear()
            self._rules_key = rules_key
        found = walk(settings.incidents_dir)
        md_files = found.incidents
        extra = [p for p in (only or []) if _resolved(p) not in {_resolved(m) for m in md_files}]
        with gc_paused():
            results = self._check_all(settings, rules, md_files + extra, build)
        assets, asset_diags = read_assets(settings, found.others)
        diags = cross_file_checks(results) + span_warnings(results) + asset_diags
        diags += _asset_clashes(settings, results, assets)
        diags += [Diagnostic(settings.shown(path), 1, 1, "error", message) for path, message in found.problems]
        for r in results:
            diags.extend(r.diagnostics)
        if only is not None:
            wanted = {settings.shown(p) for p in only}
            diags = [d for d in diags if d.path in wanted]
        diags.sort(key=sort_key)
        bad = {d.path for d in diags if d.is_error}
        return rules, results, assets, diags, bad

    def _check_all(self, settings: Settings, rules: Rules, files: list[Path], build: bool = True) -> list[FileResult]:
        results: dict[str, FileResult] = {}
        todo: list[tuple[str, str, str, tuple[int, int]]] = []
        names = FileNames(settings)
        for path in files:
            abs_path = str(path)
            rel, shown, stamp = names.of(path, abs_path)
            cached = self._cache.get(abs_path)
            if cached and cached[0] == stamp:
                results[abs_path] = cached[2]
            else:
                todo.append((abs_path, rel, shown, stamp))
        self.checked_last = len(todo)
        fresh = check_files([t[:3] for t in todo], rules, build, self.workers)
        if not build:
            # Results without incidents must not be served to a later load() from the cache.
            results.update((t[0], result) for t, (_, result) in zip(todo, fresh))
            return [results[str(p)] for p in files]
        for (abs_path, _, _, stamp), (dig, result) in zip(todo, fresh):
            cached = self._cache.get(abs_path)
            if cached and cached[1] == dig:   # touched but not changed
                result = cached[2]
            self._cache[abs_path] = (stamp, dig, result)
            results[abs_path] = result
        for gone in set(self._cache) - set(results):
            del self._cache[gone]
        return [results[str(p)] for p in files]


@dataclass
class Checked:
    """What `pmkb validate` reports: the diagnostics, and how many incidents are valid."""
    diagnostics: list[Diagnostic]
    valid: int


class FileNames:
    """A file's path relative to incidents_dir, as shown in diagnostics, and its cache stamp.

    Path.resolve() costs a system call per folder level; for a plain file that discover()
    found below the (already resolved) incidents folder, resolving changes nothing, so the
    names come from the string itself. Links and anything unusual take the general way."""

    def __init__(self, settings: Settings):
        self.settings = settings
        inc = settings.incidents_dir
        self.prefix = None
        if inc.is_absolute() and inc.resolve() == inc:
            shown_dir = settings.shown(inc)
            if not os.path.isabs(shown_dir):
                self.prefix = str(inc) + os.sep
                self.shown_prefix = "" if shown_dir == "." else shown_dir + "/"

    def of(self, path: Path, abs_path: str) -> tuple[str, str, tuple[int, int]]:
        prefix = self.prefix
        if prefix is not None and abs_path.startswith(prefix) and (os.sep + ".") not in abs_path[len(prefix) - 1:]:
            try:
                st = os.lstat(abs_path)
            except OSError:
                st = None
            if st is not None and not stat.S_ISLNK(st.st_mode):
                rel = abs_path[len(prefix):]
                if os.sep != "/":
                    rel = rel.replace(os.sep, "/")
                return rel, self.shown_prefix + rel, (st.st_mtime_ns, st.st_size)
        try:
            st = path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = (0, 0)
        return _rel(self.settings, path), self.settings.shown(path), stamp


def _rel(settings: Settings, path: Path) -> str:
    try:
        return _resolved(path).relative_to(settings.incidents_dir).as_posix()
    except ValueError:
        return path.name


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):   # a link loop: compared as written
        return path.absolute()


def read_assets(settings: Settings, files: list[Path]) -> tuple[list[Asset], list[Diagnostic]]:
    """The files that are published beside the incidents; every other one a diagnostic."""
    assets, diags = [], []
    root = settings.incidents_dir

    def problem(path: Path, message: str) -> None:
        diags.append(Diagnostic(settings.shown(path), 1, 1, "error", message))

    for path in files:
        linked = path.is_symlink()
        if linked:
            try:
                real = Path(os.path.realpath(path, strict=True))
            except (OSError, RuntimeError) as exc:
                loop = isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP
                problem(path, "this file is a symbolic link that loops (it points, in the end, at itself); fix or remove it"
                        if loop else "this file is a link to a file that does not exist")
                continue
            if real.is_dir():
                problem(path, "this folder is a link; linked folders are not followed, so nothing in it would be "
                              "published: copy the files in instead")
                continue
            if not real.is_relative_to(root):
                # A link pointing out of the knowledge base would publish whatever it points at.
                problem(path, "this file is a link to a place outside the incidents folder; copy the file in instead")
                continue
        else:
            real = path
        unreadable = can_read(real)
        if unreadable is not None:
            # MkDocs would copy it: a pipe hangs the build, an unreadable file ends it in a traceback
            problem(path, unreadable)
            continue
        assets.append(Asset(path.relative_to(root).as_posix(), real))
    return assets, diags


def _asset_clashes(settings: Settings, results: list[FileResult], assets: list[Asset]) -> list[Diagnostic]:
    """An asset published where a generated page lands (the index, an incident's page)."""
    pages = {"index.html": "the incident index"}
    pages.update((f"{r.id.lower()}/index.html", f"the page of {r.id}") for r in results if r.id)
    root = settings.incidents_dir
    return [Diagnostic(settings.shown(root / a.path), 1, 1, "error",
                       f"this file would replace {pages[a.path]} in the site (both are incidents/{a.path}); rename it")
            for a in assets if a.path in pages]


class KnowledgeBaseError(Exception):
    """The knowledge base cannot be read at all (no taxonomy, no incidents folder)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(d.text() for d in diagnostics))
        self.diagnostics = diagnostics


class NoIncidentsFolder(KnowledgeBaseError):
    """Nothing to validate: the command could not run (exit 2), unlike a file with errors."""


def load(settings: Settings, workers: int | None = None) -> KnowledgeBase:
    return Loader(workers).load(settings)
