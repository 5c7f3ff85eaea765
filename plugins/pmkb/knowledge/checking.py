"""Reading and checking many incident files: in forked worker processes as well as this
one when there are enough to pay for starting them (pmkb.workers), here otherwise."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from ..incidents.diagnostics import Diagnostic
from ..incidents.validate import FileResult, Rules, check_file, digest
from ..reading.files import FileProblem, read_bounded
from ..reading.frontmatter import MAX_BYTES
from ..workers import run_all

PARALLEL_THRESHOLD = 400  # below this, starting workers costs more than it saves (measured: a sixth saved at 500 and 1,000 files)

Job = tuple[str, str, str]    # (absolute path, path relative to incidents_dir, path as shown)


def check_files(jobs: list[Job], rules: Rules, build: bool, workers: int) -> list[tuple[str, FileResult]]:
    """(digest, result) of each file, in the order of `jobs`.

    In chunks shared between this process and forked workers: what this process checks
    itself is never pickled, sent and unpickled, which for an Incident costs about a sixth
    as much as checking the file (incidents.model.Constructed). Small chunks, so that neither side waits long for the
    other at the end."""
    if len(jobs) < PARALLEL_THRESHOLD or workers < 2:
        return [read_and_check(a, r, s, rules, build) for a, r, s in jobs]
    n = len(jobs)
    size = max(25, min(100, n // (workers * 10)))
    chunks = [partial(_check_chunk, jobs[i:i + size], rules, build) for i in range(0, n, size)]
    return [r for chunk in run_all(chunks, workers) for r in chunk]


def _check_chunk(jobs: list[Job], rules: Rules, build: bool) -> list[tuple[str, FileResult]]:
    return [read_and_check(*job, rules, build) for job in jobs]


def read_and_check(abs_path: str, rel: str, shown: str, rules: Rules, build: bool = True) -> tuple[str, FileResult]:
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
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while files are checked (and, in the adapters,
    while a site's pages are made): the one way pmkb handles the collector.

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
