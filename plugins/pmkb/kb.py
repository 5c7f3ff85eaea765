"""The knowledge base: every incident file read, checked across files, and ordered.

Loading is the one place that touches the file system. Results are cached by file
content, so a `mkdocs serve` rebuild after editing one incident re-checks only that file.
"""

from __future__ import annotations

import errno
import gc
import multiprocessing
import os
import stat
from contextlib import contextmanager
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .diagnostics import Diagnostic, sort_key
from .facets import FACETS, name_variants
from .files import FileProblem, can_read, folder_problem, read_bounded, walk
from .frontmatter import MAX_BYTES
from .model import Incident
from .schema import load_checker
from .settings import Settings
from .suggest import did_you_mean
from .taxonomy import Taxonomy, TaxonomyError, load_taxonomy
from .validate import FileResult, Rules, check_file, digest

PARALLEL_THRESHOLD = 400  # below this, starting workers costs more than it saves


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


def is_excluded(rel_parts: Iterable[str]) -> bool:
    """Templates and drafts: any path part starting with '_' or '.' stays out of the site."""
    return any(p.startswith(("_", ".")) for p in rel_parts)


def discover(incidents_dir: Path) -> tuple[list[Path], list[Path]]:
    """(incident files, other files), sorted, below incidents_dir; what cannot be read is left
    out here (`walk` reports it, for the loader)."""
    found = walk(incidents_dir)
    return found.incidents, found.others


class Loader:
    """Loads knowledge bases, keeping per-file results between loads (for `mkdocs serve`)."""

    def __init__(self, workers: int | None = None):
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
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
        with _gc_paused():
            results = self._check_all(settings, rules, md_files + extra, build)
        assets, asset_diags = _assets(settings, found.others)
        diags = _cross_file(results) + _span_warnings(results) + asset_diags
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
        names = _Names(settings)
        for path in files:
            abs_path = str(path)
            rel, shown, stamp = names.of(path, abs_path)
            cached = self._cache.get(abs_path)
            if cached and cached[0] == stamp:
                results[abs_path] = cached[2]
            else:
                todo.append((abs_path, rel, shown, stamp))
        self.checked_last = len(todo)
        jobs = [t[:3] for t in todo]
        if len(todo) >= PARALLEL_THRESHOLD and self.workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            fresh = _check_in_parallel(jobs, rules, build, self.workers)
        else:
            fresh = [_read_and_check(a, r, s, rules, build) for a, r, s in jobs]
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


# What forked workers inherit instead of receiving it pickled: (jobs, rules, build).
_WORKER_STATE: tuple[list[tuple[str, str, str]], Rules, bool] | None = None


def _check_range(span: tuple[int, int]) -> list[tuple[str, FileResult]]:
    assert _WORKER_STATE is not None
    jobs, rules, build = _WORKER_STATE
    return [_read_and_check(*job, rules, build) for job in jobs[span[0]:span[1]]]


def _check_in_parallel(jobs: list[tuple[str, str, str]], rules: Rules, build: bool,
                       workers: int) -> list[tuple[str, FileResult]]:
    """Check the files in `workers - 1` forked processes and this one.

    This process takes its share too instead of only waiting: what it checks itself
    never has to be pickled, sent and unpickled, which for an Incident costs about a
    third as much as checking the file. Work is handed out in chunks, the workers taking them
    from the front and this process from the back, so a slow side gets fewer."""
    global _WORKER_STATE
    n = len(jobs)
    size = max(25, min(100, n // (workers * 10)))  # small chunks: neither side waits long for the other at the end
    spans = [(i, min(i + size, n)) for i in range(0, n, size)]
    done: list[list[tuple[str, FileResult]] | None] = [None] * len(spans)
    _WORKER_STATE = (jobs, rules, build)
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers - 1, mp_context=ctx) as pool:
            pending: dict[Future, int] = {}
            front, back = 0, len(spans)
            broken = False
            while front < back:
                while not broken and len(pending) < 3 * (workers - 1) and front < back:
                    try:
                        pending[pool.submit(_check_range, spans[front])] = front
                    except BrokenProcessPool:  # a worker died: this process does the rest
                        broken = True
                        break
                    front += 1
                if front < back:
                    back -= 1
                    done[back] = _check_range(spans[back])
                for fut in [f for f in pending if f.done()]:
                    i = pending.pop(fut)
                    done[i] = _outcome(fut, spans[i])
            for fut, i in pending.items():
                done[i] = _outcome(fut, spans[i])
    finally:
        _WORKER_STATE = None
    return [r for chunk in done for r in chunk]  # type: ignore[union-attr]


def _outcome(fut: Future, span: tuple[int, int]) -> list[tuple[str, FileResult]]:
    try:
        return fut.result()
    except BrokenProcessPool:
        # A worker died (killed, out of memory): check its chunk here rather than fail.
        return _check_range(span)


def _read_and_check(abs_path: str, rel: str, shown: str, rules: Rules, build: bool = True) -> tuple[str, FileResult]:
    D = Diagnostic
    try:
        data = read_bounded(abs_path, MAX_BYTES)
    except FileProblem as exc:
        message = str(exc) if exc.size is None else (
            f"the file is {exc.size:,} bytes; an incident file may be at most 1 MiB (move logs and dumps into a linked asset)")
        return "", FileResult(rel, shown, None, [D(shown, 1, 1, "error", message)])
    try:
        dig = digest(data) if build else ""  # the digest keys the cache, which validation does not fill
        return dig, check_file(data, rel, shown, rules, build, dig)
    except Exception as exc:  # noqa: BLE001 - a bug of ours must still name the file, never hide it
        return "", FileResult(rel, shown, None, [D(shown, 1, 1, "error", f"internal error while checking this file ({type(exc).__name__}: {exc}); please report it")])


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while files are checked.

    Checking makes millions of small objects (YAML nodes, values, incidents) and no
    reference cycles; each collection re-scans every object still alive, so with the
    collector running a load of 10,000 incidents spends about half its time in it.
    Forked workers inherit the paused state."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Names:
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


def _assets(settings: Settings, files: list[Path]) -> tuple[list[Asset], list[Diagnostic]]:
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


# Incidents whose start lies this far from all the others are reported: a typo year (0202 for
# 2022) passes every check of its own file, and then stretches every trend over centuries.
SPAN_GAP_DAYS = 3653   # ten years


def _span_warnings(results: list[FileResult]) -> list[Diagnostic]:
    """A warning for each start date outside the knowledge base's main span.

    The starts are split where two neighbours lie more than SPAN_GAP_DAYS apart; the largest
    run (the latest, of equal ones) is the knowledge base's span, and every start outside it
    a likely typo."""
    dated = sorted((r.started, r.shown, r) for r in results if r.started is not None)
    if len(dated) < 2:
        return []
    runs: list[list[FileResult]] = [[dated[0][2]]]
    for (before, _, _), (after, _, r) in zip(dated, dated[1:]):
        if (after - before).days > SPAN_GAP_DAYS:
            runs.append([])
        runs[-1].append(r)
    if len(runs) == 1:
        return []
    main = max(range(len(runs)), key=lambda k: (len(runs[k]), k))
    first, last = runs[main][0].started, runs[main][-1].started
    assert first is not None and last is not None
    out = []
    for k, run in enumerate(runs):
        if k == main:
            continue
        for r in run:
            assert r.started is not None
            years = abs((r.started - (first if r.started < first else last)).days) // 365
            out.append(Diagnostic(r.shown, *r.started_at, "warning",
                                  f"started: {r.started.year:04d} is {years:,} years away from the other incidents "
                                  f"({first.year}-{last.year}); is the year a typo? (it also stretches the monthly trends)"))
    return out


def _asset_clashes(settings: Settings, results: list[FileResult], assets: list[Asset]) -> list[Diagnostic]:
    """An asset published where a generated page lands (the index, an incident's page)."""
    pages = {"index.html": "the incident index"}
    pages.update((f"{r.id.lower()}/index.html", f"the page of {r.id}") for r in results if r.id)
    root = settings.incidents_dir
    return [Diagnostic(settings.shown(root / a.path), 1, 1, "error",
                       f"this file would replace {pages[a.path]} in the site (both are incidents/{a.path}); rename it")
            for a in assets if a.path in pages]


def _cross_file(results: list[FileResult]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    first: dict[str, FileResult] = {}
    ids = set()
    for r in results:
        if r.id is None:
            continue
        ids.add(r.id)
        other = first.get(r.id)
        if other is None:
            first[r.id] = r
            continue
        diags.append(Diagnostic(r.shown, r.id_line, 1, "error",
                                f"id '{r.id}' is already used by {other.shown} (line {other.id_line}); ids must be unique, "
                                "pick the next free one (pmkb new does)"))
        diags.append(Diagnostic(other.shown, other.id_line, 1, "error",
                                f"id '{r.id}' is also used by {r.shown} (line {r.id_line}); ids must be unique"))
    for r in results:
        for rid, line, col in r.related:
            if rid not in ids:
                diags.append(Diagnostic(r.shown, line, col, "error",
                                        f"related: no incident has the id '{rid}'{did_you_mean(rid, ids)}"))
    return diags + _name_variants(results)


def _name_variants(results: list[FileResult]) -> list[Diagnostic]:
    """A warning at every spelling of a name that other files write differently only by
    case or punctuation (GitHub / Github, DataDog / data-dog): recurrence, the trends and
    the name's page would count them as two."""
    uses: dict[str, dict[str, int]] = {k: {} for k in FACETS}
    for r in results:
        for kind, value in {(k, v) for k, v, _, _ in r.names}:
            uses[kind][value] = uses[kind].get(value, 0) + 1
    variants = name_variants(uses)
    diags = []
    for r in results:
        for kind, value, line, col in r.names:
            v = variants.get((kind, value))
            if v is None:
                continue
            facet = FACETS[kind]
            diags.append(Diagnostic(r.shown, line, col, "warning",
                                    f"{facet.field}: '{value}' differs from '{v.usual}' ({v.uses} incident"
                                    f"{'s' if v.uses != 1 else ''}) only by case or punctuation (did you mean "
                                    f"'{v.usual}'?); write the {facet.noun} the same way everywhere, or recurrence "
                                    f"and the trends count two {facet.plural}"))
    return diags


class KnowledgeBaseError(Exception):
    """The knowledge base cannot be read at all (no taxonomy, no incidents folder)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(d.text() for d in diagnostics))
        self.diagnostics = diagnostics


class NoIncidentsFolder(KnowledgeBaseError):
    """Nothing to validate: the command could not run (exit 2), unlike a file with errors."""


def load(settings: Settings, workers: int | None = None) -> KnowledgeBase:
    return Loader(workers).load(settings)
