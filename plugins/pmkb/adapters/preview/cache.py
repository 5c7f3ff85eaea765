"""The on-disk cache of `pmkb serve PATH...`: every incident file's check, keyed by content.

Checking 10,000 incident files takes seconds (engineering/performance.md); reading them and
hashing their bytes takes a fraction of one. The preview keeps, for each file, the result
of `validate.check_file` under the file's path and content digest, so a second start
re-checks only the files whose bytes changed since. The incidents kept are slim: no body
and no front matter, which only the previewed files' own pages need (those are read
again, always).

Where: `<knowledge base root>/.cache/pmkb/`, or the folder `PMKB_CACHE_DIR` names. One
file, `preview.pickle`, rewritten as a whole. Deleting it is always safe: the next start
is a cold one and writes it again. It is ignored, not trusted, when it was written by
other code (any change to pmkb's source files), for another taxonomy or time zone, or
when it cannot be read; and it is only ever read by the user who wrote it, from their
own knowledge base (pickle runs code from the file: never point PMKB_CACHE_DIR at a
folder others can write).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path

from ...incidents.validate import FileResult
from ...settings import Settings
from ...workers import Pool, pool

CACHE_ENV = "PMKB_CACHE_DIR"
CACHE_FILE = "preview.pickle"
_FORMAT = 1
_PACKAGE = Path(__file__).resolve().parents[2]   # all of pmkb: its code decides what a check gives

# rel path -> (content digest, result with a slim incident)
Entries = dict[str, tuple[str, FileResult]]


def cache_dir(settings: Settings) -> Path:
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else settings.root / ".cache" / "pmkb"


def cache_key(settings: Settings) -> str:
    """What the cached results depend on besides each file's bytes: pmkb's code (the
    checks and the classes pickled), the taxonomy, the time zone, Python's version."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{_FORMAT}|{sys.version_info[:2]}|{settings.timezone}|".encode())
    try:
        h.update(settings.taxonomy.read_bytes())
    except OSError:
        h.update(b"no taxonomy")
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def slim(result: FileResult) -> FileResult:
    """The result without what only the file's own page needs: the body and the front
    matter as written (a third of the memory, and of the time to read the cache)."""
    inc = result.incident
    if inc is None:
        return result
    return replace(result, incident=replace(inc, front_matter={}, source=replace(inc.source, body="")))


def read_cache(settings: Settings, key: str) -> Entries:
    """The cached entries, or none when there is no usable cache (never an error)."""
    path = cache_dir(settings) / CACHE_FILE
    try:
        with open(path, "rb") as f:
            stored = pickle.load(f)
        if isinstance(stored, dict) and stored.get("key") == key and isinstance(stored.get("entries"), dict):
            return stored["entries"]
    except Exception:  # noqa: BLE001 - a missing, truncated or foreign cache is simply not used
        pass
    return {}


def write_cache(settings: Settings, key: str, entries: Entries) -> Path | None:
    """Write the cache atomically (a temporary file renamed over the old one), so that a
    preview stopped half-way never leaves a broken cache behind. None when it could not be
    written (a read-only checkout): the preview works without it."""
    folder = cache_dir(settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".preview-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump({"key": key, "entries": entries}, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, folder / CACHE_FILE)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return None
    return folder / CACHE_FILE


def write_in_background(settings: Settings, key: str, entries: Entries) -> Pool | None:
    """Write the cache from a forked worker, so that the first page does not wait for it
    (pickling 10,000 results takes about a second). Returns the pool writing it (closing
    it waits for the cache to be written), or None when it was written here (no fork to be
    had). Ctrl-C, which stops the preview, does not stop the writing; stopped otherwise,
    the writer removes its half-written file."""
    writer = pool([partial(write_cache, settings, key, entries)], 1, nice=5, keep_on_interrupt=True)
    if writer is None:
        write_cache(settings, key, entries)
        return None
    writer.submit(0)
    return writer
