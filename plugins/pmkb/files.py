"""What below `incidents_dir` is an incident file, what is an asset, and what is neither.

The one place that looks at the file system of the knowledge base, so that the command
line and the site decide alike. Everything found is one of three things: an incident
file (`*.md`), an asset (any other regular file), or a problem naming its path (a
folder that cannot be read, a named pipe, a link that loops or leads nowhere, a Markdown
file under another extension...). Nothing is skipped without a word, except what the
contract keeps out of the site (names starting with `_` or `.`).

Reads are bounded and never block: files are opened with O_NONBLOCK and must be regular
files once open (a named pipe opened for reading would otherwise wait for a writer
forever, and `/dev/zero` never ends).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

# MkDocs renders these as pages: beside an incident, such a file would become a page of
# its own (and may replace the incident's). Only `.md` (lower case) is an incident.
MARKDOWN_SUFFIXES = (".markdown", ".mdown", ".mkdn", ".mkd", ".md")
INCIDENT_SUFFIX = ".md"
# Deeper folders are reported, not walked: their paths outgrow what file systems allow in
# the built site long before, and no knowledge base is organised 64 levels deep.
MAX_DEPTH = 64

# A name with a control character (a line break) breaks every one-line diagnostic and address
# it is in; one that is not UTF-8 (read with surrogate escapes) cannot be written to a page.
_ODD_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

_KIND = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
         stat.S_IFDIR: "a folder",
         stat.S_IFBLK: "a block device"}


class FileProblem(Exception):
    """A file that cannot be read as one: the message says why, for a diagnostic. `size` is
    set when the file is only too large."""

    def __init__(self, message: str, size: int | None = None):
        super().__init__(message)
        self.size = size


def is_excluded_name(name: str) -> bool:
    """Templates and drafts: a path part starting with '_' or '.' stays out of the site."""
    return name.startswith(("_", "."))


def what_is(mode: int) -> str:
    return _KIND.get(stat.S_IFMT(mode), "something other than a file")


def read_bounded(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    Raises FileProblem for anything else: a pipe, a device, a folder, a link loop, a file
    that cannot be opened, one larger than `limit` (read at most `limit + 1` bytes, so a
    file that grows while read, or lies about its size, costs no more)."""
    try:
        # O_NONBLOCK: opening a named pipe for reading must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise FileProblem(_open_problem(exc, what)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(f"this {what} is {what_is(st.st_mode)}, not a regular file; "
                              "replace it with a file or remove it")
        if st.st_size > limit:
            raise FileProblem(f"the {what} is {st.st_size:,} bytes; at most {limit:,} are read", st.st_size)
        # asking for what is there: a read of limit + 1 allocates that much for every small file
        data = os.read(fd, st.st_size + 1)
        while len(data) != st.st_size and len(data) <= limit:   # it grew meanwhile, or a short read
            more = os.read(fd, limit + 1 - len(data))
            if not more:
                break
            data += more
        if len(data) > limit:
            raise FileProblem(f"the {what} grew past {limit:,} bytes while it was read", len(data))
        return data
    except OSError as exc:
        raise FileProblem(f"cannot read the {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _open_problem(exc: OSError, what: str) -> str:
    if exc.errno == errno.ELOOP:
        return f"cannot read the {what}: it is a symbolic link that loops (points, in the end, at itself); fix or remove it"
    if exc.errno == errno.ENOENT:
        return f"cannot read the {what}: it does not exist (a link to nothing?)"
    return f"cannot read the {what}: {exc.strerror or exc}"


def can_read(path: str | os.PathLike) -> str | None:
    """None when `path` opens as a regular file for reading; else what is wrong with it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        return _open_problem(exc, "file")
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if not stat.S_ISREG(mode):
        return f"this file is {what_is(mode)}; only regular files are published, replace it with a file or remove it"
    return None


@dataclass
class Found:
    """What a walk of the incidents folder found, each list in path order."""
    incidents: list[Path] = field(default_factory=list)     # *.md files (or links to files)
    others: list[Path] = field(default_factory=list)        # every other file, and links to anything
    problems: list[tuple[Path, str]] = field(default_factory=list)


def _scandir(path: str) -> list[os.DirEntry]:
    with os.scandir(path) as it:
        return list(it)


def walk(root: Path) -> Found:
    """Every incident file, asset candidate and problem below `root`.

    Iterative (folders nested a thousand deep do not exhaust the stack), and every folder
    that cannot be listed is a problem, not a silent gap."""
    found = Found()
    stack: list[tuple[str, int]] = [(str(root), 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = _scandir(folder)
        except OSError as exc:
            found.problems.append((Path(folder), _folder_problem(exc)))
            continue
        base = Path(folder)
        subfolders = []
        for entry in sorted(entries, key=lambda e: e.name):
            name = entry.name
            if is_excluded_name(name):
                continue
            if _ODD_NAME.search(name):
                found.problems.append((base / name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                                       .encode("unicode_escape").decode("ascii"),
                                       "this name holds a control character or bytes that are not UTF-8; rename it "
                                       "(it would be part of a page address)"))
                continue
            try:
                if entry.is_symlink():
                    # links are looked at by what they point to, in kb (loops, outside, folders)
                    (found.incidents if name.endswith(INCIDENT_SUFFIX) else found.others).append(base / name)
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file(follow_symlinks=False)
                mode = 0 if (is_dir or is_file) else entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                found.problems.append((base / name, f"cannot read this entry: {exc.strerror or exc}"))
                continue
            if is_dir:
                if depth + 1 >= MAX_DEPTH:
                    found.problems.append((base / name, f"folders nest more than {MAX_DEPTH} levels deep here; "
                                                        "nothing below is read: flatten the folders"))
                else:
                    subfolders.append(entry.path)
            elif not is_file:
                found.problems.append((base / name, f"this entry is {what_is(mode)}; only files can be incidents "
                                                    "or assets: replace it with a file or remove it"))
            elif name.endswith(INCIDENT_SUFFIX):
                found.incidents.append(base / name)
            elif name.lower().endswith(MARKDOWN_SUFFIXES):
                found.problems.append((base / name, "a Markdown file that is not named '*.md' is neither an incident "
                                                    "nor a plain file (MkDocs would make a page of it): rename it to "
                                                    "'.md' to make it an incident, or start its name with '_' to keep "
                                                    "it out of the site"))
            else:
                found.others.append(base / name)
        # depth first, in name order: pushed in reverse so the first name is walked first
        stack.extend((sub, depth + 1) for sub in reversed(subfolders))
    found.incidents.sort()
    found.others.sort()
    return found


def _folder_problem(exc: OSError) -> str:
    return (f"cannot read this folder ({exc.strerror or exc}); the incidents in it would be missing from "
            "the site: make it readable, or start its name with '_' to keep it out on purpose")


def folder_problem(path: Path) -> str | None:
    """None when `path` is a folder that can be listed; else what is wrong (for incidents_dir)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link that loops; point 'incidents_dir' in mkdocs.yml at a folder"
        if exc.errno == errno.ENOENT:
            return "does not exist; create it or fix 'incidents_dir' in mkdocs.yml"
        return f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISDIR(st.st_mode):
        kind = "a file" if stat.S_ISREG(st.st_mode) else what_is(st.st_mode)
        return f"is {kind}, not a folder; point 'incidents_dir' in mkdocs.yml at the folder of the incident files"
    try:
        _scandir(str(path))
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None
