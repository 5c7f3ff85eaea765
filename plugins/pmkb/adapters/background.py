"""Run a job beside the build: a generator of (key, ...) tuples in a forked process.

A site build is single-threaded (MkDocs renders one page after another), so the second
core of a machine sits idle. The incident pages' fragments do not depend on anything
MkDocs does, so a forked child renders them while the parent goes on, and the parent picks
each one up when MkDocs reaches that page.

The child writes batches to numbered files in a private temporary folder, each renamed
into place when complete; the parent reads them in order as it needs them. Files, not a
pipe: a pipe holds 64 KiB, and a child blocked on a full pipe until the parent first asks
would run in step with the parent instead of ahead of it. The child inherits everything
by fork (no pickling of the job or the knowledge base), and is never joined by a thread.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..pages.page import FLUSH

BATCH = 50          # items per file: few files, and the first batch is ready early
_LATENCY = 0.05     # seconds at most that a made item waits for its batch to fill up
_POLL = 0.005       # seconds between looks for the next batch while the child works on it
# How much a child gives way to the build (os.nice). The build renders one page after
# another and every page waits for it, while a child's work is ahead of need: when the
# child, another child and the build want the two cores of a small machine, the build
# should be the one that runs.
NICENESS = 10




class BackgroundError(RuntimeError):
    """The job failed in the child; the message holds its traceback."""


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "darwin"   # macOS: fork after threads is unsafe


def usable_cpus() -> int:
    """CPUs this process may run on (a container or `taskset` may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Background:
    """Results of `job()` keyed by each item's first element, computed in a child process
    (or here, on the first `get`, where fork is unavailable, only one CPU is usable, or
    `inline` is set)."""

    def __init__(self, job: Callable[[], Iterable[tuple]], *, inline: bool = False):
        self._results: dict[Any, tuple] = {}
        self._next = 0
        self._inline_job: Callable[[], Iterable[tuple]] | None = None
        self._pid = 0
        self._dir: Path | None = None
        if inline or not can_fork() or usable_cpus() < 2:
            self._inline_job = job
            return
        self._dir = Path(tempfile.mkdtemp(prefix="pmkb-bg-"))
        self._parent = os.getpid()
        pid = os.fork()
        if pid == 0:   # the child: run the job, write its batches, and leave without cleanup
            code = 0
            try:
                _give_way()
                self._run_child(job)
            except BaseException:
                code = 1
                _write(self._dir / "error", traceback.format_exc().encode("utf-8", "replace"))
            finally:
                os._exit(code)
        self._pid = pid

    def _run_child(self, job: Callable[[], Iterable[tuple]]) -> None:
        assert self._dir is not None
        batch: list[tuple] = []
        n, started = 0, 0.0
        for item in job():
            if item is not FLUSH:
                if not batch:
                    started = time.monotonic()
                batch.append(item)
            if batch and (item is FLUSH or len(batch) == BATCH or time.monotonic() - started > _LATENCY):
                if os.getppid() != self._parent:
                    # the build was killed (Ctrl-C): nobody will read or remove the results
                    shutil.rmtree(self._dir, ignore_errors=True)
                    return
                _write(self._dir / f"{n}.pickle", pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
                batch, n = [], n + 1
        if batch:
            _write(self._dir / f"{n}.pickle", pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
            n += 1
        _write(self._dir / "done", str(n).encode())

    def get(self, key: Any) -> tuple | None:
        """The item for `key` (removed from memory once handed out), or None when the job
        has no such item. Waits for the child while the item may still come."""
        if key in self._results:
            return self._results.pop(key)
        if self._inline_job is not None:
            for item in self._inline_job():
                if item is not FLUSH:
                    self._results[item[0]] = item
            self._inline_job = None
            return self._results.pop(key, None)
        while self._dir is not None:
            if not self._load_next():
                return None
            if key in self._results:
                return self._results.pop(key)
        return None

    def _load_next(self) -> bool:
        """Read the next batch, waiting for it; False when there are no more."""
        assert self._dir is not None
        path = self._dir / f"{self._next}.pickle"
        while not path.exists():
            if (self._dir / "error").exists():
                raise BackgroundError((self._dir / "error").read_text(encoding="utf-8"))
            done = self._dir / "done"
            if done.exists() and int(done.read_text()) <= self._next:
                return False
            if self._pid and _exited(self._pid) and not path.exists() and not done.exists():
                self._pid = 0
                if not (self._dir / "error").exists():
                    raise BackgroundError("the background job ended without finishing")
                continue
            time.sleep(_POLL)
        with open(path, "rb") as f:
            for item in pickle.load(f):
                self._results[item[0]] = item
        path.unlink()
        self._next += 1
        return True

    def close(self) -> None:
        """Stop the child if it still runs, and remove its files."""
        if self._pid:
            _kill(self._pid)
            self._pid = 0
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._results.clear()


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)   # readers see the whole file or none of it


def _kill(pid: int) -> None:
    """Stop a child and reap it, so that no zombie is left."""
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    _exited(pid, wait=True)


def _exited(pid: int, wait: bool = False) -> bool:
    try:
        done, _ = os.waitpid(pid, 0 if wait else os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def _give_way() -> None:
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):   # no nice here, or not allowed: run as we are
        pass


