"""`search_index: pagefind`: the chunked search index, built and used in a real browser.

A small knowledge base is built with the theme's search plugin removed, so Pagefind is the
only index. The build must leave Pagefind's bundle and the `find/` page; in Debian's
Chromium, `find/` must find an incident by its id and by a word of its body, and the result
must open the incident. Pagefind's binary comes from PyPI (`pagefind[bin]`, in the test
extras): without it the module is skipped, except in CI, where that is a failure; the same
holds for Chromium and the browser tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from conftest import KB, incident_text
from sitehelpers import browser_unavailable, recorded_page, CHROMIUM, build_site, chromium, parse_tree, serve

TIMEOUT_MS = 10_000
IN_CI = os.environ.get("CI") == "true"

# One word per incident, in its body only: none is a prefix of another or of any other
# text on the site, so a search for it can match that incident alone.
WORDS = {
    "INC-2025-001": "marzipan",
    "INC-2025-002": "tarantula",
    "INC-2025-003": "obsidian",
    "INC-2025-004": "zeppelin",
    "INC-2025-005": "quokka",
}
FILLER = ("The scoring service returned stale predictions after the feature pipeline stalled. "
          "On-call rolled back the deploy and the error rate recovered.")


def _pagefind_missing() -> str | None:
    try:
        done = subprocess.run([sys.executable, "-m", "pagefind", "--version"], capture_output=True, text=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"pagefind could not run: {exc}"
    if done.returncode != 0:
        return f"the pagefind binary is missing (pip install 'pagefind[bin]'): {(done.stderr or done.stdout).strip()[-300:]}"
    return None




if (_reason := _pagefind_missing()) is not None:
    if IN_CI:   # in CI the search option must be exercised, not silently passed over
        pytest.fail(f"{_reason}; the Pagefind tests must run in CI", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(site folder, incident id -> page address) of a five-incident knowledge base indexed by Pagefind only."""
    root = tmp_path_factory.mktemp("pagefind")
    kb = KB(root / "kb")
    config = kb.write_config(search_index="pagefind")
    text = config.read_text(encoding="utf-8")
    assert "  - search\n" in text
    config.write_text(text.replace("  - search\n", ""), encoding="utf-8")
    for n, (id_, word) in enumerate(WORDS.items(), 1):
        body = f"## What happened\n\n{FILLER}\n\nThe {word} runbook step was skipped.\n"
        kb.add(f"{id_}.md", incident_text(id_, title=f"Scoring outage number {n}", started=f"2025-06-0{n} 10:00",
                                          body=body))
    loaded = kb.load()
    assert not loaded.errors and len(loaded.incidents) == len(WORDS)
    site = root / "site"
    build_site(kb.root, site)
    return site, {i.id: i.url for i in loaded.incidents}


def test_build_leaves_the_pagefind_bundle_and_the_find_page(built):
    site, urls = built
    assert (site / "pagefind" / "pagefind-ui.js").is_file()
    entry = json.loads((site / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    # every incident page went into the index (plus the other pages of the site)
    assert sum(lang["page_count"] for lang in entry["languages"].values()) >= len(urls)
    find = site / "find" / "index.html"
    assert find.is_file()
    tree = parse_tree(find.read_text(encoding="utf-8"))
    assert tree.find(id="pmkb-find") is not None
    # a page kept out of search (`search: exclude`, as the service and tag pages are) is not marked for Pagefind
    assert "data-pagefind-body" not in find.read_text(encoding="utf-8")
    assert [s.attrs["src"] for s in tree.find_all("script") if "pagefind" in (s.attrs.get("src") or "")] \
        == ["../pagefind/pagefind-ui.js"]
    # with the theme's search plugin removed, Pagefind is the only index
    assert not (site / "search" / "search_index.json").exists()


def test_incident_pages_mark_their_body_for_pagefind(built):
    site, urls = built
    for id_, url in urls.items():
        tree = parse_tree((site / url / "index.html").read_text(encoding="utf-8"))
        marked = [e for e in tree.iter() if "data-pagefind-body" in e.attrs]
        assert len(marked) == 1, id_
        body = marked[0]
        assert body.tag == "article"
        # the marked part holds the write-up, and not the navigation around it
        assert WORDS[id_] in body.text() and id_ in body.text()
        assert body.find("nav", cls="md-nav") is None


def test_trend_and_ledger_pages_are_not_marked_for_pagefind(built):
    # search is for incidents: pages whose meta says `search: exclude` are left unmarked
    site, _ = built
    for page in ("trends/index.html", "actions/index.html", "actions/overdue.html", "find/index.html"):
        path = site / page if (site / page).exists() else site / page.replace(".html", "/index.html")
        assert "data-pagefind-body" not in path.read_text(encoding="utf-8"), page


# --- in the browser ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    reason = browser_unavailable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason}; the browser tests must run in CI", pytrace=False)
        pytest.skip(reason)
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def base_url(built):
    with serve(built[0]) as url:
        yield url


@pytest.fixture
def page(browser, base_url):
    """A fresh page that records console errors and requests; checked after the test."""
    with recorded_page(browser, base_url, TIMEOUT_MS) as (pg, requests):
        yield pg
    # the search did load Pagefind's index from this site (not only the page)
    assert any("/pagefind/" in u and not u.endswith((".js", ".css")) for u in requests)


def find(pg, base_url: str, query: str) -> list[str]:
    """Search on the `find/` page; the result addresses, best first."""
    response = pg.goto(base_url + "find/")
    assert response is not None and response.ok
    box = pg.locator(".pagefind-ui__search-input")
    box.fill(query)   # Pagefind's UI searches on input events, which fill() sends
    pg.locator(".pagefind-ui__result").first.wait_for()
    # results are for this query once the message above them names it
    pg.wait_for_function("q => (document.querySelector('.pagefind-ui__message') || {}).textContent?.includes(q)",
                         arg=query)
    hrefs = pg.eval_on_selector_all(".pagefind-ui__result a.pagefind-ui__result-link", "els => els.map(e => e.href)")
    # a page's sub-results (its sections) link to anchors of that page: one address each
    return list(dict.fromkeys(h.split("#")[0].split("?")[0] for h in hrefs))


def test_find_an_incident_by_id_and_open_it(page, base_url, built):
    _, urls = built
    # every id, since the listing pages mention every id too and could outrank the incident
    for id_ in WORDS:
        hrefs = find(page, base_url, id_)
        assert hrefs and hrefs[0] == base_url + urls[id_], (id_, hrefs)
    id_ = "INC-2025-003"
    find(page, base_url, id_)
    page.locator(".pagefind-ui__result a.pagefind-ui__result-link").first.click()
    page.wait_for_url(re.compile(re.escape(base_url + urls[id_]) + r"([?#].*)?$"))
    assert id_ in page.locator("article h1").first.inner_text()


def test_find_an_incident_by_a_word_of_its_body(page, base_url, built):
    _, urls = built
    id_, word = "INC-2025-004", WORDS["INC-2025-004"]
    hrefs = find(page, base_url, word)
    assert hrefs == [base_url + urls[id_]], hrefs
    page.locator(".pagefind-ui__result a.pagefind-ui__result-link").first.click()
    page.wait_for_url(re.compile(re.escape(base_url + urls[id_]) + r"([?#].*)?$"))
    assert id_ in page.locator("article h1").first.inner_text()

