"""Property test (issue 14): random file-system shapes under incidents/ - named pipes,
links (to files, to folders, to themselves, to nothing), unreadable files and folders,
odd names - never raise, never hang, and every incident file is either published or
named by a diagnostic (itself or a folder above it).

Unreadable as root: root ignores file permissions through two capabilities. The test
lowers them from its effective set while the knowledge base loads (and raises them
again after), so `chmod 000` holds for root too; where that is not possible (no
capabilities to lower, another system), the unreadable shapes are left out, and the
test says so in its skip reason when nothing else remains.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkhelpers import time_limit
from conftest import KB, incident_text

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2
_CAP_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _libc():
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


@contextmanager
def held_to_permissions():
    """As root: without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH in the effective set for
    the duration (they stay permitted, so they come back). Not root: nothing to do."""
    if not IS_ROOT:
        yield
        return
    libc = _libc()
    head, data = _CapHeader(_CAP_VERSION_3, 0), (_CapData * 2)()
    if libc is None or libc.capget(ctypes.byref(head), data) != 0:
        raise OSError("capget failed")
    saved = data[0].effective
    data[0].effective &= ~((1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH))
    if libc.capset(ctypes.byref(head), data) != 0:
        raise OSError("capset failed")
    try:
        yield
    finally:
        data[0].effective = saved
        libc.capset(ctypes.byref(head), data)


def _can_hold_root() -> bool:
    if not IS_ROOT:
        return True
    probe = Path(tempfile.mkdtemp())
    try:
        (probe / "f").write_text("x")
        (probe / "f").chmod(0)
        try:
            with held_to_permissions():
                try:
                    (probe / "f").read_text()
                    return False
                except PermissionError:
                    return True
        except OSError:
            return False
    finally:
        (probe / "f").chmod(0o644)
        shutil.rmtree(probe)


UNREADABLE_WORKS = _can_hold_root()


FOLDERS = st.sampled_from(["2025", "a b", "ü", "_drafts", ".hidden", "x", "-", "inc-2025-001"])
STEMS = st.sampled_from(["inc", "a b", "ü", "_t", ".h", "-", "x.y", "index", "new\nline", "tab\there"])
SUFFIXES = st.sampled_from([".md", ".md", ".MD", ".markdown", ".png", ".txt", ".html", ""])
FILE_KINDS = ["incident", "broken", "asset", "fifo", "loop", "dangling", "link_file", "link_dir"]
if UNREADABLE_WORKS:
    FILE_KINDS += ["unreadable"]
DIR_KINDS = ["dir"] + (["unreadable_dir"] if UNREADABLE_WORKS else [])

ENTRY = st.tuples(st.lists(FOLDERS, max_size=3), STEMS, SUFFIXES, st.sampled_from(FILE_KINDS),
                  st.sampled_from(DIR_KINDS))


def _excluded(rel: Path) -> bool:
    return any(p.startswith(("_", ".")) for p in rel.parts)


def _make(root: Path, entries) -> tuple[dict[Path, str], set[Path], list[Path]]:
    """Write the shapes; return (incident files -> id, entries that must be reported,
    folders made unreadable)."""
    incidents: dict[Path, str] = {}
    must_report: set[Path] = set()
    locked: list[Path] = []
    made: set[Path] = set()
    for n, (folders, stem, suffix, kind, dir_kind) in enumerate(entries):
        folder = root.joinpath(*folders)
        rel = folder.relative_to(root) / f"{stem}{suffix}"
        path = root / rel
        if path in made or any(p in made for p in path.parents) or any(m.is_relative_to(path) for m in made):
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            continue
        if not folder.is_dir() or folder.resolve() != folder.absolute():   # not through a link
            continue
        made.add(path)
        iid = f"INC-2025-{n + 1:03d}"
        if kind == "incident":
            path.write_text(incident_text(iid), encoding="utf-8")
            if not _excluded(rel):
                if suffix == ".md":
                    incidents[path] = iid
                elif suffix.lower() in (".md", ".markdown"):
                    must_report.add(path)     # Markdown under another name: never silently not an incident
        elif kind == "broken":
            path.write_text("---\nid: [\n---\n", encoding="utf-8")
            if not _excluded(rel) and suffix.lower() in (".md", ".markdown"):
                must_report.add(path)
        elif kind == "asset":
            path.write_bytes(b"\x89PNG\r\n")
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "loop":
            path.symlink_to(path.name)
        elif kind == "dangling":
            path.symlink_to("nothing-here")
        elif kind == "link_file":
            target = root / "_target.md"
            if not target.exists():
                target.write_text(incident_text("INC-1999-001", started="1999-01-01 10:00"), encoding="utf-8")
            path.symlink_to(os.path.relpath(target, path.parent))
        elif kind == "link_dir":
            path.symlink_to(os.path.relpath(root, path.parent))
        elif kind == "unreadable":
            path.write_text(incident_text(iid), encoding="utf-8")
            path.chmod(0)
        if kind in ("fifo", "loop", "dangling", "link_dir", "unreadable") and not _excluded(rel):
            must_report.add(path)
        if dir_kind == "unreadable_dir" and folder != root and not _excluded(folder.relative_to(root)):
            locked.append(folder)
    return incidents, must_report, locked


def _named(shown: set[str], kb_root: Path, path: Path) -> bool:
    """A diagnostic names the path or a folder above it."""
    rel = path.relative_to(kb_root)
    for k in range(1, len(rel.parts) + 1):
        parts = rel.parts[:k]
        # a name with a line break is shown escaped (as one line)
        odd = Path(*parts[:-1], parts[-1].encode("unicode_escape").decode("ascii")).as_posix()
        if Path(*parts).as_posix() in shown or odd in shown:
            return True
    return False


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(ENTRY, min_size=1, max_size=12))
def test_random_file_system_shapes(tmp_path_factory, entries):
    base = tmp_path_factory.mktemp("shapes")
    kb = KB(base / "kb")
    root = kb.root / "incidents"
    incidents, must_report, locked = _make(root, entries)
    for folder in locked:
        folder.chmod(0)
    try:
        with time_limit(30), held_to_permissions():
            loaded = kb.load()     # no exception, no hang
    finally:
        for folder in locked:
            folder.chmod(0o755)
        for path in root.rglob("*"):
            if not path.is_symlink() and path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0:
                path.chmod(0o644)
    shown = {d.path for d in loaded.diagnostics}
    published = {i.id for i in loaded.incidents}
    for folder in locked:
        for path in list(incidents):
            if path.is_relative_to(folder):
                must_report.add(folder)
    for path, iid in incidents.items():
        assert iid in published or _named(shown, kb.root, path), (path, sorted(shown))
    for path in must_report:
        assert _named(shown, kb.root, path), (path, sorted(shown))
    # nothing published that was never written as an incident
    assert published <= set(incidents.values()) | {"INC-1999-001"}
    shutil.rmtree(base, ignore_errors=True)
