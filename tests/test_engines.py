"""One knowledge base, three engines: `pmkb build --engine mkdocs|properdocs|zensical`.

The example knowledge base is built once with each engine (through the command line, in a
fresh process, as a user runs it); the sites must have the same page addresses (SPEC 5)
and the same exports, byte for byte. Then each is opened in Chromium: search by id opens
the incident, the trends charts load, no console error, no request leaving 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, incident_text
from sitehelpers import broken_refs, browser_unavailable, chromium, page_path, parse_tree, recorded_page, serve

ENGINES = ("mkdocs", "properdocs", "zensical")
# What every engine's site holds besides pages, identical across engines: the exports,
# the published schema, the charts and the graph's picture.
EXPORTS = ("incidents.json", "trends.json", "feed.xml", "schema/incident.schema.json", "graph/categories.svg")
TIMEOUT_MS = 15_000


def pmkb(*args: str, cwd: Path, check: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "pmkb.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"pmkb {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


def engine_available(engine: str) -> None:
    """Skip where the engine cannot be installed (Zensical needs Python 3.11); anywhere else
    a missing engine is a failure: the lock installs all three."""
    if engine == "zensical" and sys.version_info < (3, 11):
        pytest.skip("Zensical needs Python 3.11 or later")


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The repository's knowledge base, copied (others may be editing it) and built with
    each engine: {engine: site folder}, and the copy's root."""
    root = tmp_path_factory.mktemp("engines") / "kb"
    for folder in ("incidents", "docs", "schema"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    return root


_sites: dict[str, Path] = {}


def built(example: Path, engine: str) -> Path:
    engine_available(engine)
    if engine not in _sites:
        docs_before = sorted((p.relative_to(example).as_posix(), p.stat().st_mtime_ns)
                             for p in (example / "docs").rglob("*"))
        site = example.parent / f"site-{engine}"
        pmkb("build", "--engine", engine, "-d", str(site), cwd=example, check=True)
        # nothing generated lands in docs/, and no staging folder is left behind
        assert sorted((p.relative_to(example).as_posix(), p.stat().st_mtime_ns)
                      for p in (example / "docs").rglob("*")) == docs_before
        assert sorted(p.name for p in example.parent.iterdir() if p.name.startswith(".pmkb")) == []
        _sites[engine] = site
    return _sites[engine]


def page_addresses(site: Path) -> set[str]:
    """Every page's address, as SPEC 5 names them ('incidents/inc-2025-001/')."""
    return {p.relative_to(site).parent.as_posix() + "/" if p.name == "index.html" else p.relative_to(site).as_posix()
            for p in site.rglob("*.html") if p.name != "404.html"} - {"./"} | {""}


def nav_links(site: Path, url: str) -> list[str]:
    tree = parse_tree(page_path(site, url).read_text(encoding="utf-8"))
    return [a.attrs.get("href") or "" for nav in tree.find_all("nav") for a in nav.find_all("a")]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_builds_the_same_site(example, engine):
    from pmkb.knowledge.kb import Loader
    from pmkb.settings import load_settings

    kb = Loader(workers=1).load(load_settings(example / "mkdocs.yml"))
    site = built(example, engine)
    reference = built(example, "mkdocs")
    assert page_addresses(site) == page_addresses(reference)
    for inc in kb.incidents:
        html = page_path(site, inc.url).read_text(encoding="utf-8")
        assert f'<span class="pmkb-id">{inc.id}</span>' in html, inc.url
    for name in ("trends/", "categories/", "actions/", "graph/", "incidents/"):
        assert page_path(site, name).is_file(), name
    for export in EXPORTS:
        assert (site / export).read_bytes() == (reference / export).read_bytes(), export
    charts = sorted(p.relative_to(reference).as_posix() for p in (reference / "trends" / "charts").glob("*.svg"))
    assert charts and sorted(p.relative_to(site).as_posix() for p in (site / "trends" / "charts").glob("*.svg")) == charts
    # every link and picture of every page leads somewhere on the site
    assert broken_refs(site) == []
    # incidents stay out of the navigation (SPEC 5), whoever builds the site
    assert not [h for h in nav_links(site, "trends/") if re.search(r"incidents/inc-", h)]


def test_zensical_pages_link_edit_to_the_incident_file(example):
    site = built(example, "zensical")
    html = page_path(site, "incidents/inc-2025-006/").read_text(encoding="utf-8")
    edits = re.findall(r'<a href="([^"]*)"[^>]*rel="edit"', html)
    assert edits == ["https://github.com/example-org/postmortems/edit/main/incidents/2025/inc-2025-006.md"]
    # a generated page without a source file of its own has no edit button at all
    assert 'rel="edit"' not in page_path(site, "trends/").read_text(encoding="utf-8")
    assert 'rel="edit"' in page_path(site, "guide/").read_text(encoding="utf-8")
    # the feed is announced as the plugin announces it
    assert '<link rel="alternate feed" type="application/atom+xml"' in html


def test_a_missing_engine_is_an_error_not_an_empty_site(kb, monkeypatch):
    from click.testing import CliRunner

    from pmkb.adapters.engines import Engine
    from pmkb.cli import commands as cli

    kb.add("inc.md", incident_text())
    monkeypatch.chdir(kb.root)
    monkeypatch.setitem(cli.ENGINES, "zensical", Engine("zensical", "pmkb_no_such_engine", False, "pip install zensical"))
    result = CliRunner().invoke(cli.main, ["build", "--engine", "zensical"])
    assert result.exit_code == 2
    assert "zensical engine is not installed" in result.output and "pip install zensical" in result.output
    assert not (kb.root / "site").exists()


def test_unknown_engine_is_a_usage_error(kb):
    done = pmkb("build", "--engine", "hugo", cwd=kb.root)
    assert done.returncode == 2 and "hugo" in done.stderr


@pytest.mark.parametrize("engine", ["mkdocs", "zensical"])
def test_validation_errors_exit_1_with_every_error(kb, engine):
    engine_available(engine)
    kb.add("a.md", incident_text("INC-2025-001", severity="SEV9"))
    kb.add("b.md", incident_text("INC-2025-002", extra="colour: red\n"))
    done = pmkb("build", "--engine", engine, cwd=kb.root)
    assert done.returncode == 1, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "a.md:" in said and "b.md:" in said
    assert not (kb.root / "site" / "index.html").exists()


def test_zensical_strict_fails_on_warnings(kb):
    engine_available("zensical")
    # final without a summary, detected, resolved or services: warnings, no error
    kb.add("a.md", incident_text(status="final", extra="root_causes:\n  - {category: data/schema-change, description: x}\n"))
    done = pmkb("build", "--engine", "zensical", "--strict", cwd=kb.root)
    assert done.returncode == 1 and "warning" in done.stderr
    done = pmkb("build", "--engine", "zensical", cwd=kb.root)
    assert done.returncode == 0, done.stderr
    assert (kb.root / "site" / "incidents" / "inc-2025-001" / "index.html").is_file()


def test_zensical_refuses_a_docs_page_that_clashes(kb):
    engine_available("zensical")
    kb.add("a.md", incident_text())
    (kb.root / "docs" / "trends").mkdir()
    (kb.root / "docs" / "trends" / "index.md").write_text("# Mine\n", encoding="utf-8")
    done = pmkb("build", "--engine", "zensical", cwd=kb.root)
    assert done.returncode == 1 and "docs/trends/index.md clashes" in done.stderr


# --- the browser smoke test, against each engine's site ----------------------------------

@pytest.fixture(scope="module")
def browser():
    reason = browser_unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; the browser tests must run in CI", pytrace=False)
        pytest.skip(reason)
    with chromium() as b:
        yield b


def search_results(pg, engine: str, query: str):
    """Type the query into the engine's search box: the addresses of the results, best
    first, and the result links."""
    if engine == "zensical":
        pg.locator("button.md-search__button").click()
        box = pg.locator("input[role=combobox]")
        box.fill(query)
        results = pg.locator("[role=listbox] a[role=option]")
    else:   # Material for MkDocs, under MkDocs or ProperDocs
        box = pg.locator("input.md-search__input")
        box.click()
        pg.wait_for_function("() => !/Initializing/.test(document.querySelector('.md-search-result__meta').textContent)")
        box.fill(query)
        box.press("End")
        results = pg.locator(".md-search-result__item > a.md-search-result__link")
    results.first.wait_for()
    hrefs = results.evaluate_all("els => els.map(e => e.href)")
    return list(dict.fromkeys(h.split("?")[0].split("#")[0] for h in hrefs)), results


@pytest.mark.browser
@pytest.mark.parametrize("engine", ENGINES)
def test_search_by_id_opens_the_incident(example, browser, engine):
    from pmkb.knowledge.kb import Loader
    from pmkb.settings import load_settings

    site = built(example, engine)
    kb = Loader(workers=1).load(load_settings(example / "mkdocs.yml"))
    target = max(kb.incidents, key=lambda i: i.order_key)
    with serve(site) as base, recorded_page(browser, base, TIMEOUT_MS) as (pg, _):
        pg.goto(base)
        hrefs, results = search_results(pg, engine, target.id)
        assert hrefs[0] == base + target.url, hrefs[:3]
        results.first.click()
        pg.wait_for_url(re.compile(re.escape(base + target.url) + r"(\?h=.*)?$"))
        assert target.id in pg.locator("article h1").first.inner_text()


@pytest.mark.browser
@pytest.mark.parametrize("engine", ENGINES)
def test_trends_charts_and_pages_load_cleanly(example, browser, engine):
    site = built(example, engine)
    with serve(site) as base, recorded_page(browser, base, TIMEOUT_MS) as (pg, _):
        for url in ("trends/", "graph/", "incidents/inc-2025-006/", "actions/", "incidents/"):
            response = pg.goto(base + url)
            assert response is not None and response.ok, url
            pg.wait_for_load_state("networkidle")
            pg.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
            images = pg.eval_on_selector_all("article img", "els => els.map(e => [e.currentSrc, e.naturalWidth])")
            assert [src for src, width in images if width == 0] == [], url
            if url == "trends/":
                charts = [src for src, _ in images if "/trends/charts/" in src]
                assert len(charts) >= 5, images
        # the index's filter works: the plugin's script runs under every engine
        form = pg.locator("form[data-pmkb-filter]")
        form.wait_for(state="visible")
        assert re.fullmatch(r"(\d+) of \1 shown", form.locator("output").inner_text())


# --- the staging, piece by piece -----------------------------------------------------------

def test_fragment_headings_at_top_level_become_markdown_headings():
    from pmkb.adapters.staging_markdown import fragment_markdown

    fragment = ('<h2 id="action-items">Action items &amp; <code>fixes</code></h2>\n<table><tr><td>1</td></tr></table>\n'
                '<div class="x"><h3 id="inner">Inner</h3></div>\n<h2 id="more">More *stars* [x]</h2>text <b>after</b>')
    md = fragment_markdown(fragment, [("action-items", "Action items &amp; <code>fixes</code>", 2),
                                      ("inner", "Inner", 3), ("more", "More *stars* [x]", 2)])
    assert "## Action items &amp; fixes {#action-items}" in md
    assert r"## More \*stars\* \[x\] {#more}" in md
    assert '<div class="x"><h3 id="inner">Inner</h3></div>' in md        # nested: stays HTML
    assert "\n\n<table>" in md and "\n\n<div>text <b>after</b></div>" in md   # raw blocks, inline text wrapped


def test_derived_configuration_keeps_tags_and_adds_what_pages_need(tmp_path):
    import yaml

    from pmkb.adapters.staging_config import WriteTags, derived_config, read_config

    (tmp_path / "mkdocs.yml").write_text(
        "site_name: X\nsite_url: !ENV [SITE_URL, 'https://a.example/']\ntheme: {name: material, custom_dir: mine}\n"
        "plugins:\n  - search\n  - postmortems:\n      timezone: UTC\n"
        "markdown_extensions:\n  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "  - toc:\n      permalink: true\n", encoding="utf-8")
    config = read_config(tmp_path / "mkdocs.yml")
    out = derived_config(config, tmp_path, None)
    text = yaml.dump(out, Dumper=WriteTags, sort_keys=False)
    assert "site_url: !ENV" in text and "!!python/name:material.extensions.emoji.twemoji" in text
    assert out["plugins"] == ["search"] and out["docs_dir"] == "docs" and out["theme"]["custom_dir"] == "overrides"
    names = [next(iter(e)) if isinstance(e, dict) else e for e in out["markdown_extensions"]]
    assert names == ["pymdownx.emoji", "toc", "admonition", "tables", "attr_list"]
    assert out["extra_css"] == ["assets/pmkb/pmkb.css"] and out["extra_javascript"] == ["assets/pmkb/pmkb.js"]


def test_zensical_serve_previews_and_refreshes_on_save(kb):
    import random
    import signal
    import time
    import urllib.request

    engine_available("zensical")
    path = kb.add("a.md", incident_text(title="Before the edit"))
    port = random.randint(20000, 60000)
    env = {**os.environ, "NO_COLOR": "1"}
    child = subprocess.Popen([sys.executable, "-m", "pmkb.cli", "serve", "--engine", "zensical", "-a", f"127.0.0.1:{port}"],
                             cwd=kb.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def page_says(words: str, seconds: float = 60) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/incidents/inc-2025-001/", timeout=5) as r:
                    if words in r.read().decode("utf-8"):
                        return True
            except OSError:
                pass
            time.sleep(0.5)
        return False
    try:
        assert page_says("Before the edit")
        path.write_text(incident_text(title="After the edit"), encoding="utf-8")
        assert page_says("After the edit")
    finally:
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=30)
    folders = re.findall(r"Serving (\S+)/site", out)
    assert folders and not Path(folders[0]).exists(), out   # the staging folder is removed


def test_the_core_imports_no_site_engine():
    """Only pmkb.adapters.mkdocs may import MkDocs; the command line and the staging import
    no engine at all (each engine runs in a process of its own)."""
    code = ("import sys, pmkb.cli, pmkb.adapters.engines, pmkb.adapters.staging; "
            "print([m for m in sys.modules if m.split('.')[0] in ('mkdocs', 'properdocs', 'zensical', 'material')])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_html_links_of_a_non_index_page_are_written_from_its_source_folder():
    from pmkb.adapters.staging_markdown import source_relative

    html = '<a href="../../../incidents/inc-1/">x</a><img src="charts/a.svg"><a href="#top">t</a><a href="https://x.y/z">e</a>'
    assert source_relative(html, "trends/services/kafka.md", True) == (
        '<a href="../../incidents/inc-1/">x</a><img src="kafka/charts/a.svg"><a href="#top">t</a><a href="https://x.y/z">e</a>')
    assert source_relative(html, "trends/index.md", True) == html            # served from its own folder
    assert source_relative(html, "trends/services/kafka.md", False) == html   # kafka.html: the same folder
