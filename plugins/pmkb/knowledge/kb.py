"""The knowledge base: every incident file read, checked across files, and ordered.

Loading is the one place that touches the file system. Results are cached by file
content, so a `mkdocs serve` rebuild after editing one incident re-checks only that file.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import stat
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..incidents.diagnostics import Diagnostic, sort_key
from ..incidents.model import Incident
from ..incidents.schema import load_checker
from ..incidents.suggest import did_you_mean
from ..incidents.taxonomy import Taxonomy, TaxonomyError, load_taxonomy
from ..incidents.validate import FileResult, Rules, check_file, digest
from ..reading.frontmatter import MAX_BYTES
from ..settings import Settings
from .facets import FACETS, name_variants

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
    """(incident files, asset files), sorted, below incidents_dir."""
    md: list[Path] = []
    other: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(incidents_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(("_", ".")))
        # os.walk does not enter linked folders; list them so _assets reports them instead of
        # their content vanishing from the site without a word
        linked = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        if linked:
            other.extend(Path(dirpath) / d for d in linked)
            dirnames[:] = [d for d in dirnames if d not in linked]
        folder = Path(dirpath)  # once per folder: making a Path from a string is the slow part
        for name in sorted(filenames):
            if name.startswith(("_", ".")):
                continue
            (md if name.endswith(".md") else other).append(folder / name)
    return md, other


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
        if not settings.incidents_dir.is_dir():
            raise NoIncidentsFolder([Diagnostic(settings.shown(settings.incidents_dir), 1, 1, "error",
                                                "the incidents folder does not exist; create it or fix 'incidents_dir' in mkdocs.yml")])
        rules = self.rules(settings)
        rules_key = (settings.taxonomy.read_bytes(), settings.timezone)
        if rules_key != self._rules_key:
            self._cache.clear()
            self._rules_key = rules_key
        md_files, other = discover(settings.incidents_dir)
        extra = [p for p in (only or []) if p.resolve() not in {m.resolve() for m in md_files}]
        with _gc_paused():
            results = self._check_all(settings, rules, md_files + extra, build)
        assets, asset_diags = _assets(settings, other)
        diags = _cross_file(results) + asset_diags
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
        # os.open/os.read rather than open(): a third of the cost for small files. And asking
        # for what is there: a read of MAX_BYTES + 1 allocates 1 MiB for every 7 KB file.
        fd = os.open(abs_path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            size = os.fstat(fd).st_size
            if size > MAX_BYTES:
                return "", FileResult(rel, shown, None, [D(shown, 1, 1, "error", f"the file is {size:,} bytes; an incident file may be at most 1 MiB (move logs and dumps into a linked asset)")])
            data = os.read(fd, size + 1)
            while len(data) != size and len(data) <= MAX_BYTES:  # it grew meanwhile, or a short read
                more = os.read(fd, MAX_BYTES + 1 - len(data))
                if not more:
                    break
                data += more
        finally:
            os.close(fd)
    except OSError as exc:
        return "", FileResult(rel, shown, None, [D(shown, 1, 1, "error", f"cannot read the file: {exc.strerror or exc}")])
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
        return path.resolve().relative_to(settings.incidents_dir).as_posix()
    except ValueError:
        return path.name


def _assets(settings: Settings, files: list[Path]) -> tuple[list[Asset], list[Diagnostic]]:
    assets, diags = [], []
    root = settings.incidents_dir
    for path in files:
        real = path.resolve()
        if real.is_dir():
            diags.append(Diagnostic(settings.shown(path), 1, 1, "error",
                                    "this folder is a link; linked folders are not followed, so nothing in it would be "
                                    "published: copy the files in instead"))
            continue
        if not real.exists():
            diags.append(Diagnostic(settings.shown(path), 1, 1, "error", "this file is a link to a file that does not exist"))
            continue
        if not real.is_relative_to(root):
            # A link pointing out of the knowledge base would publish whatever it points at.
            diags.append(Diagnostic(settings.shown(path), 1, 1, "error",
                                    "this file is a link to a place outside the incidents folder; copy the file in instead"))
            continue
        assets.append(Asset(path.relative_to(root).as_posix(), real))
    return assets, diags


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
