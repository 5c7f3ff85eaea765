"""The one way pmkb runs work in other processes (pmkb.workers): the same results with a
pool of forked workers as without one, in any order of asking; a failing task is an error
with its traceback, a dead worker's task is done here, never a hang; workers give way to
the process that waits for them and do not outlive it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial

import pytest

from conftest import ROOT
from pmkb import workers
from pmkb.workers import Ahead, pool, run_all

forking = pytest.mark.skipif(not workers.can_fork(), reason="needs fork with no other thread running")


def square(k: int) -> int:
    return k * k


def pid_of(_: int) -> int:
    return os.getpid()


def keyed(ks: range) -> dict[str, tuple[int, int]]:
    return {f"k{k}": (k, os.getpid()) for k in ks}


def tasks_of(n: int, per: int = 3):
    return [([f"k{k}" for k in range(a, min(a + per, n))], partial(keyed, range(a, min(a + per, n))))
            for a in range(0, n, per)]


@pytest.mark.parametrize("n_workers", [1, 2, 3])
def test_run_all_gives_every_result_in_order(n_workers):
    assert run_all([partial(square, k) for k in range(50)], n_workers) == [k * k for k in range(50)]


@forking
def test_run_all_shares_the_work_with_forked_workers():
    pids = run_all([partial(pid_of, k) for k in range(40)], 2)
    assert os.getpid() in pids                       # this process takes its share from the back
    assert set(pids) - {os.getpid()}                 # and a worker took some from the front
    assert pids[-1] == os.getpid()


@pytest.mark.parametrize("n_workers", [0, 1, 2])
def test_ahead_hands_out_each_item_once_in_any_order(n_workers):
    n = 20
    ahead = Ahead(tasks_of(n), n_workers)
    try:
        order = [f"k{k}" for k in range(n)]
        order = order[n // 2:] + order[:n // 2][::-1]    # ask out of order: what came with an item is kept
        made = {key: ahead.get(key) for key in order}
        assert {key: value[0] for key, value in made.items()} == {f"k{k}": k for k in range(n)}
        if n_workers and workers.can_fork():
            assert all(pid != os.getpid() for _, pid in made.values())
        elif not n_workers:
            assert all(pid == os.getpid() for _, pid in made.values())
        with pytest.raises(KeyError):
            ahead.get("k0")            # handed out once
        with pytest.raises(KeyError):
            ahead.get("nope")          # made by no task: an error at once, no waiting
    finally:
        ahead.close()


def failing() -> dict:
    raise ValueError("broken chart spec")


@pytest.mark.parametrize("n_workers", [0, 1])
def test_a_failing_task_raises_its_error_with_the_workers_traceback(n_workers):
    ahead = Ahead([(["k0"], partial(keyed, range(1))), (["b"], failing)], n_workers)
    try:
        ahead.get("k0")
        with pytest.raises(ValueError, match="broken chart spec") as caught:
            ahead.get("b")
        if n_workers and workers.can_fork():
            assert "in failing" in str(caught.value.__cause__)    # the traceback from the worker
    finally:
        ahead.close()


def suicide() -> dict:
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


def here_or_dead() -> dict:
    # in a worker: the worker dies; in the caller (after the pool broke): a result
    if os.getpid() != MAIN_PID:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"x": "made here"}


MAIN_PID = os.getpid()


@forking
def test_a_killed_worker_is_no_hang_its_task_is_done_here():
    ahead = Ahead([(["x"], here_or_dead)], 1)
    try:
        start = time.monotonic()
        assert ahead.get("x") == "made here"
        assert time.monotonic() - start < 20
    finally:
        ahead.close()


def nice_of() -> dict:
    return {"nice": os.nice(0)}


@forking
@pytest.mark.skipif(not hasattr(os, "nice"), reason="needs os.nice")
def test_workers_give_way_and_the_caller_keeps_its_priority():
    own = os.nice(0)
    ahead = Ahead([(["nice"], nice_of)], 1, nice=10)
    try:
        assert ahead.get("nice") == min(own + 10, 19)
    finally:
        ahead.close()
    assert os.nice(0) == own


def test_no_pool_while_another_thread_runs():
    """Forking beside threads (`mkdocs serve`, the preview) is unsafe: the work is done here."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not workers.can_fork()
        assert pool([partial(square, 2)], 2) is None
        assert run_all([partial(pid_of, k) for k in range(10)], 4) == [os.getpid()] * 10
    finally:
        stop.set()
        thread.join()


@forking
def test_close_drops_what_no_worker_started():
    ahead = Ahead([([f"k{k}"], partial(_slow, k)) for k in range(200)], 1)
    ahead.get("k0")
    start = time.monotonic()
    ahead.close()
    assert time.monotonic() - start < 5       # not 200 x 0.05 s


def _slow(k: int) -> dict:
    time.sleep(0.05)
    return {f"k{k}": k}


@forking
def test_workers_do_not_outlive_a_killed_caller(tmp_path):
    script = tmp_path / "orphan.py"
    script.write_text(
        "import os, sys, time\n"
        "from functools import partial\n"
        "from pmkb.workers import Ahead\n"
        "def slow(k):\n"
        "    time.sleep(0.2)\n"
        "    return {str(k): os.getpid()}\n"
        "ahead = Ahead([((str(k),), partial(slow, k)) for k in range(100)], 1)\n"
        "print(ahead.get('0'), flush=True)\n"
        "os._exit(0)\n", encoding="utf-8")
    temp = tmp_path / "temp"
    temp.mkdir()
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=ROOT,
                         check=True, env={**os.environ, "TMPDIR": str(temp)}).stdout
    worker = int(out.strip())
    deadline = time.monotonic() + 20
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker)
    assert list(temp.iterdir()) == []      # the results nobody will read are gone with it


@forking
def test_results_are_handed_over_in_files_that_close_removes(tmp_path, monkeypatch):
    monkeypatch.setattr(workers.tempfile, "tempdir", str(tmp_path))
    with pool([partial(square, k) for k in range(6)], 1) as helpers:
        helpers.submit_all()
        assert helpers.result(0) == 0 and helpers.result(1) == 1
        (folder,) = tmp_path.iterdir()
        assert not any(p.name in {"0.pickle", "1.pickle"} for p in folder.iterdir())   # read, then removed
    assert list(tmp_path.iterdir()) == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie left for init to reap counts as gone
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
