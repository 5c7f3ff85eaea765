"""Reading and checking many incident files: in forked worker processes when there are
enough to pay for starting them, in this process otherwise. The one place pmkb runs work
in other processes while it reads a knowledge base."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from ..incidents.diagnostics import Diagnostic
from ..incidents.validate import FileResult, Rules, check_file, digest
from ..reading.files import FileProblem, read_bounded
from ..reading.frontmatter import MAX_BYTES

PARALLEL_THRESHOLD = 400  # below this, starting workers costs more than it saves

Job = tuple[str, str, str]    # (absolute path, path relative to incidents_dir, path as shown)


def check_files(jobs: list[Job], rules: Rules, build: bool, workers: int) -> list[tuple[str, FileResult]]:
    """(digest, result) of each file, in the order of `jobs`. Forked workers only: a worker
    that must import pmkb afresh and receive the rules pickled costs more than it saves, so
    where fork is missing everything is checked here."""
    if len(jobs) >= PARALLEL_THRESHOLD and workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        return _check_in_parallel(jobs, rules, build, workers)
    return [read_and_check(a, r, s, rules, build) for a, r, s in jobs]


# What forked workers inherit instead of receiving it pickled: (jobs, rules, build).
_WORKER_STATE: tuple[list[Job], Rules, bool] | None = None


def _check_range(span: tuple[int, int]) -> list[tuple[str, FileResult]]:
    assert _WORKER_STATE is not None
    jobs, rules, build = _WORKER_STATE
    return [read_and_check(*job, rules, build) for job in jobs[span[0]:span[1]]]


def _check_in_parallel(jobs: list[Job], rules: Rules, build: bool,
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
