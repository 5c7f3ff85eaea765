"""Helpers for tests that build a real site and look at it: build with MkDocs, serve the
result on 127.0.0.1, open it in Debian's Chromium, and read the built HTML.

Kept free of pytest fixtures so any test module can use them as plain functions.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import posixpath
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


class BuildFailed(AssertionError):
    """`mkdocs build` exited non-zero; the message carries its whole output."""

    def __init__(self, result: subprocess.CompletedProcess):
        self.result = result
        super().__init__(f"mkdocs build exited {result.returncode}:\n{result.stdout}{result.stderr}")


def build_site(kb_root: Path, out_dir: Path, strict: bool = True, check: bool = True,
               env: dict[str, str] | None = None, one_cpu: bool = False) -> subprocess.CompletedProcess:
    """Run `mkdocs build` on kb_root/mkdocs.yml into out_dir, in a fresh interpreter (so
    the plugin sees a clean process, as in CI). With check, a failed build raises
    BuildFailed with the output; without, the caller inspects returncode/stdout/stderr.
    `one_cpu` pins the build to one CPU, where pmkb renders everything in one process."""
    cmd = [sys.executable, "-m", "mkdocs", "build", "--clean",
           "-f", str(Path(kb_root) / "mkdocs.yml"), "-d", str(out_dir)]
    if strict:
        cmd.append("--strict")
    full_env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1", **(env or {})}
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_cpu else None
    result = subprocess.run(cmd, cwd=kb_root, env=full_env, capture_output=True, text=True, timeout=300,
                            preexec_fn=pin)
    if check and result.returncode != 0:
        raise BuildFailed(result)
    return result


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve a built site on 127.0.0.1 on a free port; yields the base URL ending in '/'."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (Debian's, not a downloaded one) driven by Playwright."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- reading the built HTML -------------------------------------------------------------

def html_pages(site: Path) -> list[Path]:
    return sorted(p for p in Path(site).rglob("*.html"))


def page_path(site: Path, url: str) -> Path:
    """The file of a site address such as 'incidents/inc-2025-001/'."""
    path = Path(site) / url
    return path / "index.html" if url.endswith("/") or url == "" else path


def resolve_ref(site: Path, page: Path, ref: str) -> Path | None:
    """The file a relative href/src of `page` points at, or None for external, absolute
    and fragment-only references (which a static site cannot check)."""
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc or ref.startswith(("#", "/")) or not parts.path:
        return None
    rel_page = page.relative_to(site).as_posix()
    target = posixpath.normpath(posixpath.join(posixpath.dirname(rel_page), unquote(parts.path)))
    path = Path(site) / target
    if parts.path.endswith("/") or path.is_dir():
        path = path / "index.html"
    return path


def broken_refs(site: Path) -> list[str]:
    """Every internal href/src of every built page that points at no file, as 'page: ref'."""
    site = Path(site)
    broken = []
    for page in html_pages(site):
        for el in parse_tree(page.read_text(encoding="utf-8")).iter():
            for attr in ("href", "src"):
                ref = el.attrs.get(attr)
                target = resolve_ref(site, page, ref) if ref else None
                if target is None:
                    continue
                if not target.resolve().is_relative_to(site.resolve()) or not target.is_file():
                    broken.append(f"{page.relative_to(site)}: <{el.tag} {attr}> {ref}")
    return broken


# --- a small element tree, for assertions about where things are on a page ----------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
         "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: "Element | None" = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def iter(self) -> Iterator["Element"]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list["Element"]:
        return [e for e in self.iter() if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
                and all(e.attrs.get(k) == v for k, v in attrs.items())]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> "Element | None":
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    def text(self, skip=lambda e: False) -> str:
        """The text content (entities decoded), leaving out elements for which skip is true."""
        out = []
        for child in self.children:
            if isinstance(child, str):
                out.append(child)
            elif not skip(child):
                out.append(child.text(skip))
        return "".join(out)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, dict(attrs), self.current)
        self.current.children.append(el)
        if tag not in _VOID:
            self.current = el

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Element(tag, dict(attrs), self.current))

    def handle_endtag(self, tag: str) -> None:
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:   # a stray end tag closes nothing
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse_tree(text: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def tiny_png(width: int = 3, height: int = 2, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A valid PNG of one colour, so a browser can decode it (naturalWidth > 0)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@contextlib.contextmanager
def recorded_page(browser, base_url: str, timeout_ms: int) -> Iterator[tuple[object, list[str]]]:
    """A fresh page recording console errors and requests: (page, requested URLs).

    On a clean exit it asserts that the page logged no error and that no request left the
    site's host (nothing at view time may reach the network)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        pg.set_default_timeout(timeout_ms)
        errors: list[str] = []
        requests: list[str] = []
        pg.on("console", lambda msg: errors.append(f"{msg.type}: {msg.text} ({pg.url})") if msg.type == "error" else None)
        pg.on("pageerror", lambda exc: errors.append(f"page error: {exc} ({pg.url})"))
        pg.on("request", lambda req: requests.append(req.url))
        yield pg, requests
    finally:
        context.close()
    assert errors == []
    host = urlsplit(base_url).netloc
    outside = [u for u in requests if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != host]
    assert outside == [], "requests that left 127.0.0.1"


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None
