"""`pmkb serve PATH...`: the preview of a few incident pages against the whole knowledge base.

The page must say what the site's page says (related incidents, recurrence, fixes that did
not hold: compared with the whole knowledge base's figures), show the file's diagnostics
as `pmkb validate` prints them while keeping the last good page, and start from its
on-disk cache without re-checking unchanged files. The browser test edits a file under an
open page and watches the page follow.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, incident_text
from pmkb import Loader, SiteContext, load_settings, related_for
from pmkb.adapters.preview.cache import CACHE_FILE, cache_dir
from pmkb.adapters.preview.server import parse_address, render_page, start_server
from pmkb.adapters.preview.session import Preview
from pmkb.cli import main
from pmkb.knowledge.similar import read_incident_like, similar
from pmkb.pages.incident_page import incident_fragments
from sitehelpers import browser_unavailable, chromium, recorded_page


@pytest.fixture
def example(tmp_path, monkeypatch):
    """A copy of the repository's knowledge base, with its cache in the temporary folder."""
    root = tmp_path / "kb"
    for folder in ("incidents", "schema"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    monkeypatch.setenv("PMKB_CACHE_DIR", str(tmp_path / "cache"))
    return root


def _preview(root: Path, *rels: str, use_cache: bool = True) -> Preview:
    preview = Preview(load_settings(root / "mkdocs.yml"), [root / r for r in rels], root / "mkdocs.yml")
    loaded = preview.load(use_cache=use_cache)
    if loaded.cache_writer is not None:
        loaded.cache_writer.close()
    preview.loaded = loaded
    return preview


def _fragments_of_site(root: Path, incident_id: str):
    kb = Loader(workers=1).load(load_settings(root / "mkdocs.yml"))
    ctx = SiteContext(today=date.today(), heading_link="¶", extra={"metrics_page": None})
    return kb, incident_fragments(kb, kb.by_id[incident_id], related_for(kb)[incident_id], ctx)[0]


def _no_ids(html: str) -> str:
    return re.sub(r'(id="|href="#)[^"]*"', "", html)


def test_the_page_says_what_the_whole_knowledge_base_says(example):
    """Related incidents, recurrence notes and the fixes that did not hold, for every
    incident of the example that has them, are those of a load of the whole knowledge base
    (the preview works them out on the incidents that bear on each)."""
    settings = load_settings(example / "mkdocs.yml")
    kb = Loader(workers=1).load(settings)
    checked = 0
    for inc in kb.incidents:
        if not inc.categories:
            continue
        rel = f"incidents/{inc.source.path}"
        preview = _preview(example, rel)
        page = preview.pages[0]
        _, fragments = _fragments_of_site(example, inc.id)
        assert page.html is not None and not page.stale
        for name, html in fragments.items():
            # heading ids may be numbered apart from the author's headings of the same name
            assert _no_ids(html) in _no_ids(page.html), (inc.id, name)
        data = (example / rel).read_bytes()
        expected = [m.incident.id for m in similar(kb, read_incident_like(data, example / rel), 10)]
        assert [m.incident.id for m in page.similar] == expected, inc.id
        checked += 1
        if checked == 6:
            break
    assert checked == 6


def test_a_broken_save_keeps_the_last_good_page_under_its_diagnostics(example):
    rel = "incidents/2025/inc-2025-006.md"
    path = example / rel
    preview = _preview(example, rel)
    page = preview.pages[0]
    good_title = page.title
    assert "INC-2025-006" in good_title and not page.diagnostics

    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("severity: SEV2", "severity: SEV9", 1).replace("\nstatus:", "\nstatuss:", 1),
                    encoding="utf-8")
    assert preview.poll()
    validate = Loader(workers=1).check(load_settings(example / "mkdocs.yml"), only=[path])
    expected = [d.text() for d in validate.diagnostics]
    assert expected and [d.text() for d in page.diagnostics] == expected
    html = render_page(preview, page)
    from markupsafe import escape
    for line in expected:
        assert str(escape(line)) in html
    assert page.stale and page.title == good_title and "data-pmkb-page" in html   # the last good page, under the notice

    path.write_text(re.sub(r"^title: .*$", 'title: "Renamed while previewing"', original, count=1, flags=re.M),
                    encoding="utf-8")
    assert preview.poll()
    html = render_page(preview, page)
    assert not page.diagnostics and not page.stale and "data-pmkb-diagnostics" not in html
    assert "Renamed while previewing" in html
    assert not preview.poll()   # nothing changed since


def test_checks_across_files_are_those_of_validate(example):
    rel = "incidents/2025/inc-2025-006.md"
    path = example / rel
    preview = _preview(example, rel)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("id: INC-2025-006", "id: INC-2025-007", 1).replace("related: [", "related: [INC-2099-001, ", 1),
                    encoding="utf-8")
    assert preview.poll()
    expected = [d.text() for d in Loader(workers=1).check(load_settings(example / "mkdocs.yml"), only=[path]).diagnostics]
    got = [d.text() for d in preview.pages[0].diagnostics]
    assert got == expected
    assert any("also used by" in t for t in got) and any("INC-2099-001" in t for t in got)


def test_the_cache_skips_unchanged_files_and_is_safe_to_delete(example):
    rel = "incidents/2025/inc-2025-006.md"
    cold = _preview(example, rel)
    cache = cache_dir(cold.settings) / CACHE_FILE
    assert cold.loaded.checked == cold.loaded.files > 20 and cache.is_file()

    warm = _preview(example, rel)
    assert warm.loaded.checked == 0 and warm.pages[0].html == cold.pages[0].html

    other = example / "incidents/2024/inc-2024-001.md"
    other.write_text(other.read_text(encoding="utf-8").replace("title:", "title: Changed -", 1), encoding="utf-8")
    again = _preview(example, rel)
    assert again.loaded.checked == 1
    assert again.base and any(i.title.startswith("Changed -") for i in again.base)

    cache.write_bytes(b"not a pickle")
    broken = _preview(example, rel)
    assert broken.loaded.checked == broken.loaded.files and broken.pages[0].html == again.pages[0].html
    shutil.rmtree(cache.parent)
    gone = _preview(example, rel)
    assert gone.loaded.checked == gone.loaded.files and gone.pages[0].html == again.pages[0].html


def test_a_new_postmortem_not_valid_yet_and_outside_the_incidents_folder(kb, monkeypatch, tmp_path):
    monkeypatch.setenv("PMKB_CACHE_DIR", str(tmp_path / "cache"))
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    draft = kb.root / "draft.md"
    draft.write_text(incident_text("INC-2025-002", severity="SEV99"), encoding="utf-8")
    preview = _preview(kb.root, "draft.md")
    page = preview.pages[0]
    assert page.html is None and page.slug == "inc-2025-002"
    assert any("SEV99" in d.message for d in page.diagnostics)
    html = render_page(preview, page)
    assert "No version of this file has been valid yet" in html
    draft.write_text(incident_text("INC-2025-002"), encoding="utf-8")
    assert preview.poll() and page.html is not None and not page.diagnostics


def test_command_line_refuses_what_it_cannot_serve(kb, monkeypatch):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    monkeypatch.chdir(kb.root)
    result = CliRunner().invoke(main, ["serve", "incidents/2025/nope.md"])
    assert result.exit_code == 2 and "no such file" in result.output
    result = CliRunner().invoke(main, ["serve", "incidents/2025/a.md", "-a", "localhost"])
    assert result.exit_code == 2 and "HOST:PORT" in result.output
    assert parse_address("[::1]:8001") == ("::1", 8001)


@pytest.mark.browser
def test_the_open_page_follows_the_file(example):
    reason = browser_unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; the browser tests must run in CI", pytrace=False)
        pytest.skip(reason)
    rel = "incidents/2025/inc-2025-006.md"
    path = example / rel
    original = path.read_text(encoding="utf-8")
    preview = _preview(example, rel)
    server = start_server(preview, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with chromium() as browser, recorded_page(browser, server.url, 10_000) as (pg, _requests):
            response = pg.goto(server.url + "incidents/inc-2025-006/")
            assert response is not None and response.ok
            assert "INC-2025-006" in pg.locator("article h1").first.inner_text()
            assert pg.locator("ul.pmkb-related > li").count() > 0
            assert pg.locator("#similar-past-incidents").count() == 1
            # the theme's stylesheet is there: the header has the theme's colour
            assert pg.eval_on_selector(".md-header", "e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"

            path.write_text(re.sub(r"^title: .*$", 'title: "Edited in the preview"', original, count=1, flags=re.M),
                            encoding="utf-8")
            pg.wait_for_function("() => document.querySelector('article h1').innerText.includes('Edited in the preview')")

            path.write_text(original.replace("severity: SEV2", "severity: SEV9", 1), encoding="utf-8")
            notice = pg.locator("[data-pmkb-diagnostics]")
            notice.wait_for()
            assert re.search(r"incidents/2025/inc-2025-006\.md:\d+:\d+: error: severity: 'SEV9'", notice.inner_text())
            assert "INC-2025-006" in pg.locator("[data-pmkb-page] h1").first.inner_text()   # the last good page stays

            path.write_text(original, encoding="utf-8")
            pg.wait_for_function("() => !document.querySelector('[data-pmkb-diagnostics]')")
            assert "Edited in the preview" not in pg.locator("article h1").first.inner_text()
    finally:
        server.close()
        thread.join(5)


def test_changes_to_other_files_are_taken_in(example):
    rel = "incidents/2025/inc-2025-006.md"
    preview = _preview(example, rel)
    assert not preview.rescan()
    related = [r.id for r in preview.pages[0].related]
    assert related, "the example's incident has related incidents"
    other = example / f"incidents/{preview.knowledge_base().by_id[related[0]].source.path}"
    other.write_text(other.read_text(encoding="utf-8").replace("title:", "title: Retitled -", 1), encoding="utf-8")
    version = preview.version
    assert preview.rescan() and preview.version > version
    assert "Retitled -" in preview.pages[0].html
    (example / "schema" / "taxonomy.yml").write_text((example / "schema" / "taxonomy.yml").read_text(encoding="utf-8") + "\n",
                                                     encoding="utf-8")
    os.utime(example / "schema" / "taxonomy.yml", ns=(1, 1))
    assert preview.rescan() and any("start it again" in n for n in preview.notes)


def test_other_incidents_on_demand_and_a_note_for_the_rest(example):
    import urllib.error
    import urllib.request
    rel = "incidents/2025/inc-2025-006.md"
    preview = _preview(example, rel)
    server = start_server(preview, "127.0.0.1", 0, watch=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(server.url) as r:   # one file: the root leads to its page
            assert r.url.endswith("/incidents/inc-2025-006/")
        other = preview.pages[0].related[0].id
        with urllib.request.urlopen(server.url + f"incidents/{other.lower()}/") as r:
            html = r.read().decode()
        assert other in html and "not watched" in html
        with urllib.request.urlopen(server.url + "incidents/2025/inc-2025-006-whiteboard.png") as r:
            assert r.headers["Content-Type"] == "image/png"
        for missing in ("categories/data/schema-change/", "incidents/inc-1999-001/", "incidents/_templates/ml.md"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(server.url + missing)
            assert err.value.code == 404 and "Not in this preview" in err.value.read().decode()
    finally:
        server.close()
        thread.join(5)


def test_a_file_named_twice_is_previewed_once(example):
    rel = "incidents/2025/inc-2025-006.md"
    preview = _preview(example, rel, "incidents/2025/../2025/inc-2025-006.md")
    assert len(preview.pages) == 1 and not preview.pages[0].diagnostics


def test_several_files_each_at_its_address(example):
    import urllib.request
    preview = _preview(example, "incidents/2025/inc-2025-006.md", "incidents/2025/inc-2025-002.md")
    assert [p.slug for p in preview.pages] == ["inc-2025-006", "inc-2025-002"]
    assert all(p.html for p in preview.pages)
    server = start_server(preview, "127.0.0.1", 0, watch=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(server.url) as r:
            listing = r.read().decode()
        assert 'href="/incidents/inc-2025-006/"' in listing and 'href="/incidents/inc-2025-002/"' in listing
        with urllib.request.urlopen(server.url + "incidents/inc-2025-002/") as r:
            page = r.read().decode()
        assert "INC-2025-002" in page and 'href="/incidents/inc-2025-006/"' in page   # the bar links the other one
    finally:
        server.close()
        thread.join(5)


def test_the_cache_is_written_beside_the_preview_and_its_worker_then_leaves(example):
    """`pmkb serve PATH` serves at once, writes its cache in a forked worker, and lets the
    worker go once the cache is written; Ctrl-C stops it cleanly with the cache in place."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "pmkb.cli", "serve", "-a", f"127.0.0.1:{port}",
                             "incidents/2025/inc-2025-006.md"], cwd=example, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline, html = time.monotonic() + 60, ""
        while not html and time.monotonic() < deadline:
            try:
                html = urllib.request.urlopen(f"http://127.0.0.1:{port}/incidents/inc-2025-006/", timeout=5).read().decode()
            except OSError:
                time.sleep(0.2)
        assert "INC-2025-006" in html
        cache = cache_dir(load_settings(example / "mkdocs.yml")) / CACHE_FILE
        while time.monotonic() < deadline and (not cache.exists() or _children(proc.pid)):
            time.sleep(0.2)
        assert cache.exists() and _children(proc.pid) == []
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out


def _children(pid: int) -> list[str]:
    return subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
