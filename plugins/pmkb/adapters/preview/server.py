"""The HTTP side of `pmkb serve PATH...`: the previewed pages at their site addresses, the
stylesheets they need, and a long poll that tells an open page to reload.

Standard library only (`http.server`), on the loopback address unless told otherwise;
nothing on the pages comes from the network. Two threads watch the files: one stats the
previewed files ten times a second, one walks the rest of the knowledge base every few
seconds for changes made elsewhere (a `git pull`).
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import mimetypes
import posixpath
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ...pages.htmlutil import rel_url
from ...pages.page import incident_src
from ...pages.render import environment
from .cache import cache_dir
from .files import PageState
from .session import Preview

_ASSETS = Path(__file__).resolve().parents[2] / "pages" / "assets"
POLL_SECONDS = 0.1        # previewed files: a save shows within this, plus the page's making
RESCAN_SECONDS = 3.0      # the rest of the knowledge base
WAIT_SECONDS = 25.0
FAVICON = "/assets/images/favicon.png"       # a long poll's longest wait, below common proxy and browser time-outs


@lru_cache(maxsize=1)
def theme_stylesheets() -> dict[str, Path]:
    """Material's stylesheets from the installed theme, by the address the page asks for;
    empty when the theme is not installed (the page then has pmkb's own styles only)."""
    spec = importlib.util.find_spec("material")
    if spec is None or not spec.submodule_search_locations:
        return {}
    folder = Path(list(spec.submodule_search_locations)[0]) / "templates" / "assets" / "stylesheets"
    found = {}
    for prefix in ("main.", "palette."):
        for path in sorted(folder.glob(prefix + "*.min.css")):
            found[f"/assets/stylesheets/{path.name}"] = path
    return found


@lru_cache(maxsize=1)
def theme_favicon() -> Path | None:
    spec = importlib.util.find_spec("material")
    if spec is None or not spec.submodule_search_locations:
        return None
    icon = Path(list(spec.submodule_search_locations)[0]) / "templates" / "assets" / "images" / "favicon.png"
    return icon if icon.is_file() else None


@dataclass
class Server:
    preview: Preview
    httpd: http.server.ThreadingHTTPServer
    stop: threading.Event
    serving: bool = False

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host if ':' not in str(host) else f'[{host}]'}:{port}/"

    def watch(self) -> None:
        """Start watching the files (once the knowledge base is loaded)."""
        threading.Thread(target=_watch, args=(self.preview, self.stop), name="pmkb-watch", daemon=True).start()
        threading.Thread(target=_rescan, args=(self.preview, self.stop), name="pmkb-rescan", daemon=True).start()

    def serve_forever(self) -> None:
        self.serving = True
        try:
            self.httpd.serve_forever(poll_interval=0.25)
        finally:
            self.close()

    def close(self) -> None:
        self.stop.set()
        with self.preview.changed:
            self.preview.changed.notify_all()
        if self.serving:
            self.httpd.shutdown()   # returns at once when serve_forever has ended already
        self.httpd.server_close()


class _HTTPServer(http.server.ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], handler) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        # A page that reloads drops its long poll: not worth a traceback in the terminal.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def start_server(preview: Preview, host: str, port: int, watch: bool = True) -> Server:
    stylesheets = theme_stylesheets()
    stop = threading.Event()

    class Handler(_Handler):
        pass
    Handler.preview, Handler.stylesheets, Handler.stop = preview, stylesheets, stop
    httpd = _HTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    server = Server(preview, httpd, stop)
    if watch:
        server.watch()
    return server


def _watch(preview: Preview, stop: threading.Event) -> None:
    while not stop.wait(POLL_SECONDS):
        try:
            if preview.poll():
                for page in preview.pages:
                    _report(page)
        except Exception as exc:  # noqa: BLE001 - the watcher must outlive one bad save
            print(f"pmkb serve: internal error while updating: {type(exc).__name__}: {exc}", file=sys.stderr)


def _rescan(preview: Preview, stop: threading.Event) -> None:
    while not stop.wait(RESCAN_SECONDS):
        try:
            if preview.rescan():
                print("pmkb serve: other incident files changed; the preview took them in", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001
            print(f"pmkb serve: internal error while rescanning: {type(exc).__name__}: {exc}", file=sys.stderr)


def _report(page: PageState) -> None:
    """The terminal's line for a save: the diagnostics, as `pmkb validate` prints them."""
    for d in page.diagnostics:
        print(d.text(), file=sys.stderr)
    state = "has errors; the preview keeps its last good page" if page.stale else f"updated in {page.seconds:.2f} s"
    print(f"pmkb serve: {page.shown} {state}", file=sys.stderr)


class _Handler(http.server.BaseHTTPRequestHandler):
    preview: Preview
    stylesheets: dict[str, Path]
    stop: threading.Event
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        if path == "/_preview/wait":
            return self._wait(parse_qs(parts.query))
        if path == "/":
            return self._index()
        if path in self.stylesheets:
            return self._file(self.stylesheets[path])
        if path in ("/favicon.ico", FAVICON) and theme_favicon() is not None:
            return self._file(theme_favicon())  # type: ignore[arg-type]
        if path.startswith("/assets/pmkb/") and posixpath.basename(path) in ("pmkb.css", "pmkb.js"):
            return self._file(_ASSETS / posixpath.basename(path))
        parts_ = [p for p in path.split("/") if p]
        if len(parts_) == 2 and parts_[0] == "incidents" and path.endswith("/"):
            return self._incident(parts_[1])
        if len(parts_) == 2 and parts_[0] == "incidents" and not path.endswith("/") and "." not in parts_[1]:
            return self._redirect(path + "/")
        if parts_ and parts_[0] == "incidents":
            return self._asset(parts_[1:])
        self._send(404, _not_here(self.preview, path), "text/html; charset=utf-8")

    # --- routes ------------------------------------------------------------------------------

    def _wait(self, query: dict[str, list[str]]) -> None:
        try:
            seen = int(query.get("v", ["-1"])[0])
        except ValueError:
            seen = -1
        deadline = time.monotonic() + WAIT_SECONDS
        version = self.preview.version
        while version == seen and not self.stop.is_set() and time.monotonic() < deadline:
            version = self.preview.wait(seen, min(1.0, deadline - time.monotonic()))
        self._send(200, json.dumps({"version": version}).encode(), "application/json", cache=False)

    def _index(self) -> None:
        pages = self.preview.pages
        if len(pages) == 1 and pages[0].slug and pages[0].html is not None:
            return self._redirect(f"/incidents/{pages[0].slug}/")
        listed = [{"href": f"/incidents/{p.slug}/" if p.slug else None, "label": p.title or p.draft_id or p.shown,
                   "shown": p.shown, "errors": sum(d.is_error for d in p.diagnostics)} for p in pages]
        self._send(200, render_note(self.preview, "Previewed incidents", pages=listed).encode(),
                   "text/html; charset=utf-8", cache=False)

    def _incident(self, slug: str) -> None:
        preview = self.preview
        with preview.lock:
            page = preview.page_for(slug)
            if page is None:
                moved = next((p for p in preview.pages if slug in p.slugs), None)
                if moved is not None and moved.slug:
                    return self._redirect(f"/incidents/{moved.slug}/")
                page = preview.other_page(slug)
            if page is None:
                return self._send(404, _not_here(preview, f"/incidents/{slug}/"), "text/html; charset=utf-8")
            html = render_page(preview, page)
        self._send(200, html.encode(), "text/html; charset=utf-8", cache=False)

    def _asset(self, rel_parts: list[str]) -> None:
        """Files beside the incidents (pictures), where the site puts them."""
        root = self.preview.settings.incidents_dir
        target = (root / "/".join(rel_parts)).resolve()
        if not target.is_relative_to(root) or not target.is_file() or any(p.startswith((".", "_")) for p in rel_parts):
            return self._send(404, _not_here(self.preview, "/incidents/" + "/".join(rel_parts)),
                              "text/html; charset=utf-8")
        self._file(target)

    # --- replies -------------------------------------------------------------------------------

    def _file(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError:
            return self._send(404, b"not found", "text/plain")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript",):
            kind += "; charset=utf-8"
        self._send(200, data, kind)

    def _redirect(self, to: str) -> None:
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes, kind: str, cache: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=300" if cache and status == 200 else "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET


def _not_here(preview: Preview, path: str) -> bytes:
    return render_note(preview, "Not in this preview", path=path).encode()


def _look(preview: Preview) -> dict:
    """What every page of the preview takes from the site: name, colours, stylesheets."""
    return {"site_name": preview.config["site_name"], "primary": preview.config["primary"],
            "accent": preview.config["accent"], "stylesheets": [*theme_stylesheets(), "/assets/pmkb/pmkb.css"],
            "favicon": FAVICON if theme_favicon() is not None else "data:,"}


def render_note(preview: Preview, heading: str, path: str | None = None, pages: list[dict] | None = None) -> str:
    return environment().get_template("preview_note.html.j2").render(
        heading=heading, path=path, pages=pages or [], version=preview.version if pages else None, **_look(preview))


def render_page(preview: Preview, page: PageState) -> str:
    """The whole HTML page of one previewed incident, as it stands."""
    kb_count = len(preview.base) + sum(1 for p in preview.pages if p.incident is not None)
    src = incident_src(page.incident.id) if page.incident is not None else "incidents/x/index.md"
    similar = [{"match": m, "href": rel_url(src, incident_src(m.incident.id))} for m in page.similar]
    others = [{"href": f"/incidents/{p.slug}/", "label": p.incident.id} for p in preview.pages
              if p.incident is not None]
    return environment().get_template("preview.html.j2").render(
        title=page.title or page.shown, shown=page.shown, stale=page.stale,
        made=_took(page.seconds) if page.html is not None else None, incident_count=kb_count, others=others,
        toc=(page.toc + ([{"id": "similar-past-incidents", "title": "Similar past incidents", "level": 2, "html": False}]
                         if page.similar else [])) if page.html is not None else [], notes=preview.notes,
        errors=[d for d in page.diagnostics if d.is_error], warnings=[d for d in page.diagnostics if not d.is_error],
        refreshed=page.refreshed, has_page=page.html is not None, article=page.html or "", similar=similar, version=preview.version, **_look(preview))


def _took(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def serve(server: Server) -> None:
    """Run the preview until interrupted."""
    preview = server.preview
    server.watch()
    for page in preview.pages:
        if page.diagnostics:
            _report(page)
    listing = ", ".join(f"{server.url}incidents/{p.slug}/" if p.slug else f"{p.shown} (not valid yet)"
                        for p in preview.pages)
    print(f"pmkb serve: previewing {listing}; Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def parse_address(address: str) -> tuple[str, int]:
    """HOST:PORT as `mkdocs serve -a` takes it (an IPv6 host in brackets)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"'{address}' is not HOST:PORT (e.g. 127.0.0.1:8000)")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def run(settings, config_file: Path, paths: list[Path], address: str) -> int:
    """`pmkb serve PATH...`: exit 2 when it could not start, 0 when stopped."""
    from ...knowledge.kb import KnowledgeBaseError
    try:
        host, port = parse_address(address)
    except ValueError as exc:
        print(f"pmkb: {exc}", file=sys.stderr)
        return 2
    # Stopped by a service manager or `kill`: as on Ctrl-C, the server closes on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    preview = Preview(settings, paths, config_file)
    try:   # listening first: a port in use is said at once, not after reading the knowledge base
        server = start_server(preview, host, port, watch=False)
    except OSError as exc:
        print(f"pmkb: cannot listen on {address}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"pmkb serve: reading the knowledge base ({settings.shown(settings.incidents_dir)})", file=sys.stderr, flush=True)
    try:
        loaded = preview.load()
    except KnowledgeBaseError as exc:
        server.close()
        print("".join(f"pmkb: {d.text()}\n" for d in exc.diagnostics), file=sys.stderr, end="")
        return 2
    cached = loaded.files - loaded.checked
    print(f"pmkb serve: {loaded.files:,} other incident files read in {loaded.seconds:.1f} s ({cached:,} from the cache "
          f"in {settings.shown(cache_dir(settings))}, which is always safe to delete)", file=sys.stderr, flush=True)
    writer = loaded.cache_writer
    if writer is not None:
        # Let the worker go once the cache is written: an idle fork of a large preview would
        # hold on to memory the preview changes later.
        threading.Thread(target=writer.close, name="pmkb-cache-writer", daemon=True).start()
    try:
        serve(server)
    finally:
        if writer is not None:   # a cache half written is no use: let it finish
            writer.close()
    return 0
