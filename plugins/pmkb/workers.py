"""The one way pmkb runs work in other processes: a `concurrent.futures` pool of forked
workers, or none.

Three jobs use it, each only where measuring showed a gain beyond the noise
(engineering/performance.md): checking many incident files, the part of a site build that
MkDocs does not wait for (pages' tables, charts, exports), and writing the preview's
cache. Workers are forked, so they inherit the tasks, the knowledge base and the rules
instead of receiving them pickled: only a task's number goes out and its result comes
back. Where forking is not to be had (no `os.fork`, macOS, threads already running, one
usable CPU) there is no pool, and the caller does the work in its own process, in the same
order, with the same results.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# The tasks of each live pool, by pool number: set before its workers are forked, which
# is how they have them without pickling.
_TASKS: dict[int, Sequence[Callable[[], Any]]] = {}
_numbers = itertools.count()


def usable_cpus() -> int:
    """CPUs this process may run on (a container or `taskset` may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Forking is safe here: the platform has it, and no other thread runs (a thread may
    hold a lock the child would inherit locked; `mkdocs serve` and the preview run threads)."""
    return (hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1
            and "fork" in multiprocessing.get_all_start_methods())


class Pool(Generic[T]):
    """`tasks` (callables taking nothing) run by forked workers, each result fetched with
    `result(i)`. Made by `pool()`, which says when there is none to be had.

    A worker hands each result over in a file of the pool's private folder, and the pool's
    message says only which. Results are large (a few pages' tables, hundreds of checked
    incidents), and a pipe holds 64 KiB: through the pool's pipe, a worker would wait for
    this process to take each result in 64 KiB pieces, which the executor's thread does
    only when it gets a turn beside the busy main thread (every 5 ms at best), so the
    workers would run in step with this process instead of ahead of it."""

    def __init__(self, tasks: Sequence[Callable[[], T]], workers: int, nice: int, keep_on_interrupt: bool):
        self.tasks = tasks
        self._number = next(_numbers)
        self._folder = tempfile.mkdtemp(prefix="pmkb-workers-")
        _TASKS[self._number] = tasks
        try:
            self._executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                                 initializer=_start_worker,
                                                 initargs=(nice, keep_on_interrupt, self._folder))
        except BaseException:
            self._forget()
            raise
        self._futures: dict[int, Future] = {}

    def submit(self, i: int) -> None:
        """Hand task `i` to the workers (they take tasks in the order they are handed)."""
        try:
            self._futures[i] = self._executor.submit(_run, self._number, i, self._folder)
        except BrokenProcessPool:   # a worker died earlier: `result` runs it here
            pass

    def submit_all(self) -> None:
        for i in range(len(self.tasks)):
            self.submit(i)

    def result(self, i: int) -> T:
        """Task `i`'s result, waiting for it; run here when no worker has started it yet
        (it was never handed out, or is still queued) or its worker died. An exception the
        task raised in a worker is raised here, with the worker's traceback as its cause."""
        future = self._futures.pop(i, None)
        if future is None or future.cancel():
            return self.tasks[i]()
        try:
            path = future.result()
        except BrokenProcessPool:   # a worker was killed (out of memory, a signal): do it here
            return self.tasks[i]()
        with open(path, "rb") as f:
            result = pickle.load(f)
        os.unlink(path)
        return result

    def close(self) -> None:
        """Drop what no worker started and let the workers go; waits only for tasks running."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._futures.clear()
        self._forget()

    def _forget(self) -> None:
        _TASKS.pop(self._number, None)
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> Pool[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pool(tasks: Sequence[Callable[[], T]], workers: int, *, nice: int = 0,
         keep_on_interrupt: bool = False) -> Pool[T] | None:
    """A pool of `workers` forked processes for `tasks`, or None where forking is not
    safe or not possible (see `can_fork`). `nice` lowers the workers' priority, so that
    work done ahead of need gives way to the process that waits for it;
    `keep_on_interrupt` lets them finish when Ctrl-C stops the caller."""
    if workers < 1 or not tasks or not can_fork():
        return None
    try:
        return Pool(tasks, workers, nice, keep_on_interrupt)
    except (OSError, RuntimeError):   # no processes to be had (a sandbox, a limit)
        return None


def run_all(tasks: Sequence[Callable[[], T]], workers: int) -> list[T]:
    """Every task's result, in order, using `workers` processes in all: this one and
    `workers - 1` forked ones. The workers take tasks from the front and this process
    from the back, so that the side that turns out slower gets fewer, and what this
    process does itself is never pickled."""
    helpers = pool(tasks, workers - 1) if workers > 1 and len(tasks) > 1 else None
    if helpers is None:
        return [task() for task in tasks]
    with helpers:
        helpers.submit_all()
        return [helpers.result(i) for i in reversed(range(len(tasks)))][::-1]


class Ahead:
    """What keyed tasks make, made ahead of need by forked workers, in the order of the
    tasks, and handed out by key; without workers, each task runs here when one of its
    keys is first asked for. A task is (its keys, a callable returning {key: made})."""

    def __init__(self, tasks: Sequence[tuple[Sequence[str], Callable[[], dict[str, Any]]]], workers: int,
                 nice: int = 0):
        self._tasks = [run for _, run in tasks]
        self._keys = [tuple(keys) for keys, _ in tasks]
        self._where = {key: i for i, keys in enumerate(self._keys) for key in keys}
        self._made: dict[str, Any] = {}
        self._pool = pool(self._tasks, workers, nice=nice)
        if self._pool is not None:
            self._pool.submit_all()

    def get(self, key: str) -> Any:
        """What the tasks made for `key` (once: it is let go when handed out). KeyError when
        no task makes it, or it was handed out before."""
        if key not in self._made:
            i = self._where[key]
            made = self._pool.result(i) if self._pool is not None else self._tasks[i]()
            for k in self._keys[i]:
                self._where.pop(k, None)
            self._made.update(made)
        return self._made.pop(key)

    def close(self) -> None:
        """Stop: what no worker started is dropped, what runs is waited for."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self._made.clear()
        self._where.clear()


# Held by a worker while it runs a task (never taken in the process that forks workers).
_busy = threading.Lock()


def _run(number: int, i: int, folder: str) -> str:
    """Run task `i` of pool `number`; its result's file."""
    with _busy:
        result = _TASKS[number][i]()
        path = os.path.join(folder, f"{i}.pickle")
        with open(path, "wb") as f:
            pickle.dump(result, f, pickle.HIGHEST_PROTOCOL)
        return path


def _leave_with_parent(parent: int, folder: str) -> None:
    """A worker whose parent died (killed, `os._exit`) would wait for tasks forever: it
    leaves, once the task it runs, if any, is done (so that no file is left half written),
    and takes the results nobody will read with it."""
    while os.getppid() == parent:
        time.sleep(0.5)
    with _busy:
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(0)


def _start_worker(nice: int, keep_on_interrupt: bool, folder: str) -> None:
    # Stopped with SIGTERM, a worker unwinds as on an exception, so that what it was writing
    # is cleaned up by the writer's own `finally` (a half-written file removed).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    threading.Thread(target=_leave_with_parent, args=(os.getppid(), folder), daemon=True).start()
    if keep_on_interrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:
        try:
            os.nice(nice)
        except OSError:   # not allowed here: run as we are
            pass
