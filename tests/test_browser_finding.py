"""Finding past incidents, in a real browser: a fact chip leads to its page, a filtered and
sorted index address shows the same view after a reload (and in another tab), and a
search for a service lists the incidents that name it first.

Uses the example site of test_browser.py (its fixtures and helpers; the module builds
it once), Debian's Chromium, and 127.0.0.1 only.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

from test_browser import TIMEOUT_MS, base_url, browser, example, open_page, page, search  # noqa: F401 - fixtures
from sitehelpers import recorded_page


def _rows(pg) -> list[str]:
    """Ids of the index rows shown, in the order shown."""
    return pg.eval_on_selector_all(".pmkb-index tbody tr",
                                   "rows => rows.filter(r => !r.hidden).map(r => r.cells[0].innerText.trim())")


def test_a_chip_leads_to_its_page(page, base_url, example):
    kb, _ = example
    inc = max((i for i in kb.incidents if i.models), key=lambda i: i.order_key)
    model = inc.models[0].name
    open_page(page, base_url, inc.url)
    page.locator("dl.pmkb-facts a.pmkb-chip", has_text=model).first.click()
    page.wait_for_url(re.compile(re.escape(base_url) + r"models/[a-z0-9._-]+/$"))
    assert model in page.locator("article h1").first.inner_text()
    listed = page.eval_on_selector_all("ul.pmkb-facet-list:first-of-type > li > a:first-child", "els => els.map(e => e.innerText)")
    wanted = sorted((i for i in kb.incidents if model in {m.name for m in i.models}), key=lambda i: i.order_key, reverse=True)
    assert listed[:len(wanted)] == [i.id for i in wanted]     # every incident of the model, newest first
    # and from there back to the incident
    page.locator("ul.pmkb-facet-list a", has_text=inc.id).first.click()
    page.wait_for_url(base_url + inc.url)

    # a service chip and a tag chip lead to their pages too
    svc_inc = next(i for i in kb.incidents if i.services and i.tags)
    for selector, value, kind in (("dl.pmkb-facts a.pmkb-chip", svc_inc.services[0], "services"),
                                  (".pmkb-badges a.pmkb-tag", "#" + svc_inc.tags[0], "tags")):
        open_page(page, base_url, svc_inc.url)
        page.locator(selector, has_text=value).first.click()
        page.wait_for_url(re.compile(re.escape(base_url + kind) + r"/[a-z0-9._-]+/$"))
        assert value.lstrip("#") in page.locator("article h1").first.inner_text()
        assert svc_inc.id in page.locator("ul.pmkb-facet-list").first.inner_text()


def test_a_filtered_index_address_reloads_to_the_same_view(page, browser, base_url, example):
    kb, _ = example
    open_page(page, base_url, "incidents/")
    form = page.locator("form[data-pmkb-filter]")
    form.wait_for(state="visible")
    counts = Counter(s for i in kb.incidents for s in i.services)
    service = max(counts, key=lambda s: (counts[s], s))
    form.locator("select[data-key=svc]").select_option(service)
    mine = [i for i in kb.incidents if service in i.services]
    # a word of a title, typed in the text filter
    word = max(re.findall(r"[a-z]{5,}", mine[0].title.lower()), key=len)
    form.locator("input[data-key=text]").fill(word)
    page.locator("th[data-sort=sev] button").click()
    shown = _rows(page)
    expected = [i for i in mine if word in (i.title + " " + " ".join(i.services) + " " + " ".join(i.tags)
                                            + " " + " ".join(m.name for m in i.models) + " " + (i.team or "")
                                            + " " + " ".join(i.categories) + " " + i.id + " " + i.status).lower()]
    rank = kb.taxonomy.severity_rank
    assert shown and sorted(shown) == sorted(i.id for i in expected)
    assert [rank[kb.by_id[s].severity] for s in shown] == sorted(rank[kb.by_id[s].severity] for s in shown)
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"svc": [service], "text": [word], "sort": ["sev"], "dir": ["asc"]}

    page.reload()
    page.locator("form[data-pmkb-filter]").wait_for(state="visible")
    assert _rows(page) == shown
    assert page.locator("select[data-key=svc]").input_value() == service
    assert page.locator("input[data-key=text]").input_value() == word
    assert page.locator("th[data-sort=sev]").get_attribute("aria-sort") == "ascending"
    assert page.locator("form output").inner_text() == f"{len(shown)} of {len(kb.incidents)} shown"

    # shared: the address alone, in a fresh tab, gives the same view
    with recorded_page(browser, base_url, TIMEOUT_MS) as (other, _):
        other.goto(page.url)
        other.locator("form[data-pmkb-filter]").wait_for(state="visible")
        assert _rows(other) == shown

    # sorting again turns the order round; Clear gives back the whole list, newest first
    page.locator("th[data-sort=sev] button").click()
    assert parse_qs(urlsplit(page.url).query)["dir"] == ["desc"]
    page.locator("[data-pmkb-clear]").click()
    assert urlsplit(page.url).query == ""
    newest = [i.id for i in sorted(kb.incidents, key=lambda i: i.order_key, reverse=True)]
    assert _rows(page) == newest


def test_a_model_filter_and_a_link_from_a_model_page(page, base_url, example):
    kb, _ = example
    counts = Counter(m.name for i in kb.incidents for m in {m.name: m for m in i.models}.values())
    model = max(counts, key=lambda m: (counts[m], m))
    open_page(page, base_url, f"incidents/?model={model}")
    page.locator("form[data-pmkb-filter]").wait_for(state="visible")
    assert sorted(_rows(page)) == sorted(i.id for i in kb.incidents if model in {m.name for m in i.models})
    assert page.locator("select[data-key=model]").input_value() == model


def test_search_for_a_service_lists_its_incidents_first(page, base_url, example):
    kb, _ = example
    counts = Counter(s for i in kb.incidents for s in i.services)
    service = max((s for s in counts if "-" in s), key=lambda s: (counts[s], s))   # several words: the hard case
    mine = {i.url for i in kb.incidents if service in i.services}
    assert len(mine) >= 3
    open_page(page, base_url, "")
    hrefs = search(page, service)
    assert {h.removeprefix(base_url) for h in hrefs[:len(mine)]} == mine, hrefs
    # each result shows the incident's id, severity and date
    first = page.locator(".md-search-result__item").first.locator("h1").inner_text()
    inc = next(i for i in kb.incidents if i.url == hrefs[0].removeprefix(base_url))
    assert first.startswith(f"{inc.id} · {inc.severity} · {inc.started.astimezone(kb.settings.tz).date().isoformat()}")


def test_the_index_fits_a_phone(browser, base_url, example):
    """No sideways scrolling on a 390 px wide screen: neither the page nor the table."""
    with recorded_page(browser, base_url, TIMEOUT_MS) as (pg, _):
        pg.set_viewport_size({"width": 390, "height": 844})
        for url in ("incidents/", example[0].incidents[-1].url):
            open_page(pg, base_url, url)
            widths = pg.evaluate("""() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,
                ...Array.from(document.querySelectorAll('.md-typeset__scrollwrap, .md-typeset__table, .pmkb-index table'))
                  .map(e => e.scrollWidth - e.clientWidth)]""")
            assert widths[0] <= widths[1], (url, widths)
            assert max(widths[2:] or [0]) <= 1, (url, widths)
