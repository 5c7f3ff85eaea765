"""The previewed files: what each one's page shows now (`PageState`), and on disk, when
they changed, when an editor has finished writing them, their bytes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ...incidents.diagnostics import Diagnostic
from ...incidents.model import Incident
from ...incidents.validate import FileResult
from ...knowledge.graph import Related
from ...knowledge.similar import Match
from ...settings import Settings


@dataclass
class PageState:
    """One previewed file: what its page shows now."""
    path: Path                               # absolute
    rel: str                                 # relative to incidents_dir, or the file name when outside
    shown: str                               # as diagnostics show it
    stamp: tuple[int, int] | None = None     # (mtime_ns, size) when last read
    incident: Incident | None = None         # the last good incident (full: body and front matter)
    data: bytes = b""                        # the last good file's bytes
    result: FileResult | None = None         # the check of the file as it is now
    current: bytes = b""                     # the file's bytes as it is now
    diagnostics: list[Diagnostic] = field(default_factory=list)   # of the file as it is now
    stale: bool = False                      # the file as it is now has errors: the page is the last good one
    html: str | None = None                  # the last good page's article
    toc: list[dict] = field(default_factory=list)
    title: str = ""
    similar: list[Match] = field(default_factory=list)
    related: list[Related] = field(default_factory=list)
    seconds: float = 0.0                     # what the last update took
    draft_id: str | None = None              # the id as far as it can be read, valid or not
    slugs: set[str] = field(default_factory=set)   # every address the page has had: old ones redirect
    refreshed: bool = True                   # False for an incident shown on demand, not watched

    @property
    def slug(self) -> str | None:
        if self.incident is not None:
            return self.incident.slug
        return self.draft_id.lower() if self.draft_id else None


def file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def settle(paths: list[Path], step: float = 0.03, limit: float = 0.5) -> None:
    """Wait until the files stop changing: an editor that truncates a file and then writes
    it would otherwise be caught half-way, and the page would flash an error."""
    before = [file_stamp(p) for p in paths]
    end = time.monotonic() + limit
    while time.monotonic() < end:
        time.sleep(step)
        now = [file_stamp(p) for p in paths]
        if now == before:
            return
        before = now


def read_bytes(abs_path: str) -> bytes | None:
    try:
        with open(abs_path, "rb") as f:
            return f.read()
    except OSError:
        return None


def rel_path(settings: Settings, path: Path) -> str:
    try:
        return path.resolve().relative_to(settings.incidents_dir).as_posix()
    except ValueError:
        return path.name
