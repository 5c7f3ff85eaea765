"""Helpers for tests that check one incident file against the shipped taxonomy and schema."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from pmkb import Rules, check_file, load_checker, load_taxonomy, zone

ROOT = Path(__file__).resolve().parent.parent


@cache
def rules() -> Rules:
    return Rules(load_taxonomy(ROOT / "schema" / "taxonomy.yml"), load_checker(), zone("UTC"))


def check(text: str):
    return check_file(text.encode("utf-8"), "2025/x.md", "incidents/2025/x.md", rules())


def pos(text: str, needle: str) -> tuple[int, int]:
    """(line, column), 1-based, of the first occurrence of `needle` in the file's text."""
    i = text.index(needle)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def one_error(text: str):
    """The only error of a file (and its incident must not have been built)."""
    result = check(text)
    assert result.incident is None
    found = [d for d in result.diagnostics if d.is_error]
    assert len(found) == 1, [d.text() for d in result.diagnostics]
    assert found[0].path == "incidents/2025/x.md"
    return found[0]


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM interrupts a blocking open() (of a named pipe)."""
    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
