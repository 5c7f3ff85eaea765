"""The background job runner (pmkb.adapters.background): the same items whether forked or inline,
in any order of asking, and a failing or vanished child is an error, never a hang."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from pmkb.adapters import background
from pmkb.adapters.background import Background, BackgroundError

pytestmark = pytest.mark.skipif(not background.can_fork(), reason="needs os.fork")


def squares(n: int):
    def job():
        for k in range(n):
            yield (f"k{k}", k * k, {"text": "x" * (k % 7)})
    return job


@pytest.mark.parametrize("inline", [False, True])
def test_items_in_any_order(inline):
    n = background.BATCH * 3 + 7          # several batch files and a short last one
    bg = Background(squares(n), inline=inline)
    try:
        order = [f"k{k}" for k in range(n)]
        order = order[n // 2:] + order[:n // 2][::-1]   # ask out of order: earlier batches are kept
        for key in order:
            item = bg.get(key)
            k = int(key[1:])
            assert item == (key, k * k, {"text": "x" * (k % 7)})
        assert bg.get("k0") is None        # handed out once
        assert bg.get("nope") is None      # not in the job at all: no waiting forever
    finally:
        bg.close()


def test_flush_hands_over_what_is_made_before_a_long_step(tmp_path):
    # The child waits, after FLUSH, until the parent has had "a": without the flush "a"
    # would sit in an unfinished batch and the child would give up waiting.
    go = tmp_path / "go"

    def job():
        yield ("a", 1)
        yield background.FLUSH
        deadline = time.monotonic() + 30
        while not go.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the parent never had 'a'")
            time.sleep(0.01)
        yield ("b", 2)
    bg = Background(job)
    try:
        assert bg.get("a") == ("a", 1)
        go.touch()
        assert bg.get("b") == ("b", 2)
    finally:
        bg.close()


def test_forked_job_runs_beside_the_caller():
    def job():
        yield ("pid", os.getpid())
    bg = Background(job)
    try:
        if background.usable_cpus() >= 2:
            assert bg.get("pid")[1] != os.getpid()
        else:
            assert bg.get("pid")[1] == os.getpid()   # one CPU: run inline, nothing to gain from a child
    finally:
        bg.close()


@pytest.mark.skipif(not hasattr(os, "nice"), reason="needs os.nice")
def test_children_give_way_to_the_build(tmp_path):
    """The build is the critical path: forked children run at a lower priority."""
    own = os.nice(0)
    expected = min(own + background.NICENESS, 19)

    def job():
        yield ("nice", os.nice(0))
    bg = Background(job)
    try:
        if background.usable_cpus() >= 2:
            assert bg.get("nice")[1] == expected
        else:
            assert bg.get("nice")[1] == own   # inline: the build's own priority, unchanged
    finally:
        bg.close()
    assert os.nice(0) == own   # the build's own priority is untouched


def test_a_failing_job_raises_with_its_traceback():
    def job():
        yield ("a", 1)
        raise ValueError("broken chart spec")
    bg = Background(job, inline=False)
    try:
        # the failure comes before the first batch is full, so even "a" never arrives
        with pytest.raises(BackgroundError, match="broken chart spec"):
            bg.get("a")
    finally:
        bg.close()


def test_inline_job_errors_propagate_as_they_are():
    def job():
        raise KeyError("inline")
        yield
    bg = Background(job, inline=True)
    with pytest.raises(KeyError):
        bg.get("x")


@pytest.mark.skipif(background.usable_cpus() < 2, reason="one CPU: the job runs inline")
def test_a_killed_child_is_an_error_not_a_hang():
    def job():
        time.sleep(60)
        yield ("late", 1)
    bg = Background(job)
    try:
        os.kill(bg._pid, signal.SIGKILL)
        start = time.monotonic()
        with pytest.raises(BackgroundError, match="ended without finishing"):
            bg.get("late")
        assert time.monotonic() - start < 10
    finally:
        bg.close()


@pytest.mark.skipif(background.usable_cpus() < 2, reason="one CPU: the job runs inline")
def test_close_stops_the_child_and_removes_its_files():
    def job():
        for k in range(10**9):
            yield (k, "y" * 100)
    bg = Background(job)
    folder, pid = bg._dir, bg._pid
    bg.get(0)
    bg.close()
    assert not folder.exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)      # reaped: no zombie left behind


@pytest.mark.skipif(background.usable_cpus() < 2, reason="one CPU: the job runs inline")
def test_an_orphaned_job_stops_and_cleans_up(tmp_path):
    """When the build process dies (Ctrl-C), its job notices and removes its files."""
    script = tmp_path / "orphan.py"
    script.write_text(
        "import os, sys, time\n"
        "from pmkb.adapters.background import Background\n"
        "def job():\n"
        "    for k in range(10**6):\n"
        "        time.sleep(0.001)\n"
        "        yield (k,)\n"
        "bg = Background(job)\n"
        "print(bg._dir, flush=True)\n"
        "os._exit(0)\n", encoding="utf-8")
    import subprocess
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TMPDIR": str(tmp_path)}).stdout.strip()
    folder = Path(out)
    deadline = time.monotonic() + 20
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not folder.exists()
