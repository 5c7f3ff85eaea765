"""Services, teams, models, data sets and tags: their addresses and pages, the linked chips
of incident pages, the warning about names spelled two ways, and the `links` field."""

from __future__ import annotations

import json
import posixpath
import re
from datetime import date
from urllib.parse import unquote

from conftest import incident_text
from pmkb.exports import incident_record
from pmkb.facet_pages import facet_pages
from pmkb.facets import addresses, facet_index, name_key, page_src
from pmkb.graph import related_for
from pmkb.htmlutil import page_url
from pmkb.incident_page import incident_fragments, incident_page
from pmkb.links import link_index
from pmkb.pages import SiteContext, fill, filled, incident_src

CTX = SiteContext(today=date(2025, 12, 31))
NASTY = '<b>x</b> & "q"'
X, Y, Z = "data/schema-change", "monitoring/missing-alert", "deployment/bad-config"


def _add(kb, inc_id, started, *, cats=(X,), extra="", severity="SEV3", status="final", body="Body.\n"):
    lines = [extra.strip()] if extra.strip() else []
    lines.append("root_causes:\n" + "".join(f"  - {{category: {c}, description: why {c}}}\n" for c in cats))
    lines.append("summary: s\ndetected: " + started + "\nresolved: " + started)
    kb.add(f"{inc_id.lower()}.md", incident_text(inc_id, started=started, severity=severity, status=status,
                                                 extra="\n".join(lines), body=body))


def test_addresses_are_lower_case_safe_and_unique():
    a = addresses(["GitHub", "Github", "a b", "a-b", "Ωmega", "../etc", "risk.decisions", ".hidden", "index"])
    assert a["GitHub"] == a["Github"] == "github"          # one page for names equal but for case
    assert a["a b"] != a["a-b"] and a["a b"].startswith("a-b-") and a["a-b"].startswith("a-b-")
    assert a["risk.decisions"] == "risk.decisions" and a["../etc"] == "etc" and a[".hidden"] == "hidden"
    assert a["index"] == "index"                            # a folder of its own: services/index/index.md
    for v in a.values():
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", v) and ".." not in v
    assert page_src("models", "fraud-gbm") == "models/fraud-gbm/index.md"
    assert name_key("DataDog") == name_key("data-dog") == name_key("Data_Dog") == "datadog"


def test_names_spelled_two_ways_are_warned_about_with_did_you_mean(kb):
    for n, svc in enumerate(["GitHub", "GitHub", "Github"], 1):
        kb.add(f"inc-{n}.md", incident_text(f"INC-2025-00{n}", extra=f"services: [{svc}]\nteam: risk-ml"))
    kb.add("inc-4.md", incident_text("INC-2025-004", extra="team: Risk_ML\nmodels:\n  - {name: fraud-gbm, version: '1'}"))
    kb.add("inc-5.md", incident_text("INC-2025-005", extra="models:\n  - {name: Fraud-GBM, version: '2'}\ntags: [data-quality]"))
    kb.add("inc-6.md", incident_text("INC-2025-006", extra="tags: [data_quality, data-quality]"))
    loaded = kb.load()
    assert not loaded.errors
    warnings = {(d.path.rsplit("/", 1)[-1], d.line): d.message for d in loaded.warnings}
    svc = warnings[("inc-3.md", 7)]   # the line of the value
    assert "services: 'Github' differs from 'GitHub' (2 incidents) only by case or punctuation" in svc
    assert "(did you mean 'GitHub'?)" in svc
    assert "team: 'Risk_ML'" in warnings[("inc-4.md", 7)] and "did you mean 'risk-ml'" in warnings[("inc-4.md", 7)]
    # a tie (one incident each) goes to the first spelling in sort order
    assert warnings[("inc-4.md", 9)].startswith("models: 'fraud-gbm' differs from 'Fraud-GBM' (1 incident)")
    assert any("tags: 'data_quality'" in m and "did you mean 'data-quality'" in m for m in warnings.values())
    # the usual spelling itself is not warned about
    assert not [m for m in warnings.values() if m.startswith("services: 'GitHub'")]
    # one page for both spellings of the service, naming the other spelling
    pages = {p.src_uri: filled(p) for p in facet_pages(loaded, CTX)}
    page = pages["services/github/index.md"]
    assert "Also written as <code>Github</code>" in fill(page.markdown, page.fragments)
    assert fill(page.markdown, page.fragments).count("INC-2025-00") == 3


def _sample(kb):
    extra1 = f"""services: [fraud-api, {json.dumps(NASTY)}]
team: risk-ml
models:
  - {{name: fraud-gbm, version: "3.10"}}
datasets:
  - {{name: risk.decisions, version: "2025-01-01"}}
tags: [fraud]
links:
  - {{title: "Incident channel #inc-1", url: "https://chat.example.com/inc-1"}}
  - {{title: {json.dumps(NASTY)}, url: "http://status.example.com/x?a=1&b=2"}}
action_items:
  - {{title: Add a null-rate alert, type: detection, owner: risk-ml, due: 2025-02-01, status: open}}
  - {{title: Done thing, type: prevention, owner: risk-ml, due: 2025-02-01, status: done, completed: 2025-01-20}}"""
    _add(kb, "INC-2025-001", "2025-01-10 10:00", extra=extra1, severity="SEV2",
         body="## Root causes\n\nIn our words.\n\n## Lessons\n\nText.\n")
    _add(kb, "INC-2025-002", "2025-03-05 10:00", cats=(X, Y), severity="SEV1",
         extra="services: [fraud-api]\nmodels:\n  - {name: fraud-gbm, version: '3.11'}\nrelated: [INC-2025-001]")
    _add(kb, "INC-2025-003", "2025-08-01 10:00", cats=(Y,), extra="services: [search]\ntags: [fraud]")
    loaded = kb.load()
    assert not loaded.errors, [d.text() for d in loaded.errors]
    return loaded


def _html(page):
    return fill(page.markdown, page.fragments)


def _resolves(from_src: str, href: str, srcs: set[str]) -> str | None:
    """The src_uri a relative href of a page leads to, if it is one of `srcs`."""
    path = posixpath.normpath(posixpath.join(page_url(from_src), unquote(href.split("?")[0].split("#")[0])))
    for s in srcs:
        if page_url(s).rstrip("/") == path.rstrip("/"):
            return s
    return None


def test_every_value_has_a_page_listing_its_incidents_newest_first(kb):
    k = _sample(kb)
    pages = {p.src_uri: filled(p) for p in facet_pages(k, CTX)}
    index = facet_index(k.incidents)
    nasty = index.src("services", NASTY)
    kinds = {f"{kind}/index.md" for kind in ("services", "teams", "models", "datasets", "tags")}
    assert set(pages) == {"services/fraud-api/index.md", "services/search/index.md", nasty, "teams/risk-ml/index.md",
                          "models/fraud-gbm/index.md", "datasets/risk.decisions/index.md", "tags/fraud/index.md"} | kinds
    # services/ lists every service, most incidents first, with its last date and open items
    listing = _html(pages["services/index.md"])
    assert "search:\n  exclude: true" in pages["services/index.md"].markdown
    assert listing.index("fraud-api</a>") < listing.index("search</a>")
    assert "<td style=\"text-align:right\">2</td><td>2025-03-05</td>" in listing
    model = pages["models/fraud-gbm/index.md"]
    html = _html(model)
    assert model.title == "Model fraud-gbm" and "search:\n  exclude: true" in model.markdown
    # one summary line, then the incidents, newest first, with severity, date, version and root causes
    summary = model.fragments["summary"]
    assert summary.count("<p") == 1
    assert "<strong>2 incidents</strong> (1 SEV1, 1 SEV2), 2025-01-10 to 2025-03-05" in summary
    assert "1 open action item" in summary and "1 overdue" in summary
    listing = model.fragments["incidents"]
    assert listing.index("INC-2025-002") < listing.index("INC-2025-001")
    assert "SEV1" in listing and "2025-03-05" in listing and "version 3.11" in listing and "version 3.10" in listing
    assert "Upstream schema change" in listing and "Missing alert" in listing
    assert html.index("## Incidents") < html.index("## Open action items") < html.index("## Figures")
    assert "Add a null-rate alert" in model.fragments["actions"] and "Done thing" not in model.fragments["actions"]
    assert "overdue" in model.fragments["actions"]
    # two incidents are too few for figures: one sentence, no table
    assert "<table" not in model.fragments["figures"] and "from 5 incidents on" in model.fragments["figures"]
    # a page without open items has no such section
    assert "## Open action items" not in pages["services/search/index.md"].markdown
    # every link of every page leads to a page of the site
    srcs = set(pages) | {incident_src(i.id) for i in k.incidents} | {f"categories/{c}/index.md" for c in k.taxonomy.categories}
    srcs |= {"trends/index.md", "incidents/index.md"}
    for src, page in pages.items():
        for href in re.findall(r'href="([^"]+)"', _html(page)):
            assert _resolves(src, href, srcs), (src, href)
    # front-matter text is escaped: in the title MkDocs prints, the heading and the lists
    p = pages[nasty]
    assert "<b>" not in p.title and "<b>" not in _html(p) and "&lt;b&gt;x&lt;/b&gt;" in _html(p)


def test_figures_appear_from_five_incidents(kb):
    for n in range(1, 7):
        _add(kb, f"INC-2025-00{n}", f"2025-0{n}-01 10:00", extra="services: [checkout]")
    k = kb.load()
    page = filled(next(p for p in facet_pages(k, CTX) if p.src_uri == "services/checkout/index.md"))
    figures = page.fragments["figures"]
    assert "<table" in figures and ">median</th>" in figures and ">p90</th>" in figures
    assert "Time to resolve" in figures and "Upstream schema change</a> (6)" in figures
    assert "trends page" in figures


def _incident_html(k, inc_id):
    inc = k.by_id[inc_id]
    page = incident_page(k, inc, link_index(k))
    fragments, search, headings = incident_fragments(k, inc, related_for(k)[inc_id], CTX)
    return page, fill(page.markdown, fragments), search, headings


def test_incident_chips_link_to_their_pages(kb):
    k = _sample(kb)
    srcs = {p.src_uri for p in facet_pages(k, CTX) if p.src_uri.count("/") == 2}   # not services/ and the like
    src = incident_src("INC-2025-001")
    _, html, _, _ = _incident_html(k, "INC-2025-001")
    chips = re.findall(r'<a class="pmkb-(?:chip|tag)" href="([^"]+)">(.*?)</a>', html)
    leads = {_resolves(src, href, srcs) for href, _ in chips}
    assert leads == srcs - {"services/search/index.md"}      # every fact of the incident, each to its page
    assert None not in leads
    assert any(text.startswith("fraud-gbm") and "v3.10" in text for _, text in chips)


def test_incident_page_order_and_one_heading_for_root_causes(kb):
    k = _sample(kb)
    _, html, search, headings = _incident_html(k, "INC-2025-002")
    order = ["pmkb-summary", "pmkb-facts", "Body.", 'id="action-items"' if "action-items" in html else "Body.",
             'id="related-incidents"', 'id="recurrence"']
    at = [html.index(mark) for mark in order]
    assert at == sorted(at), order
    assert "Root-cause categories" not in html and "<dt class=\"pmkb-wide\">Root causes</dt>" in html
    # the recurrence notes are folded under a one-line gist
    rec = html[html.index('id="recurrence"'):]
    assert re.search(r'<details class="pmkb-fold pmkb-recurrence \w+"><summary>Recurs 1 root-cause category', rec)
    assert [h[0] for h in headings["bottom"]] == ["related-incidents", "recurrence"]
    assert headings["top"] == []
    # the author's own "Root causes" section is the only heading of that name
    _, html1, _, _ = _incident_html(k, "INC-2025-001")
    assert len(re.findall(r"<h2[^>]*>Root causes", html1)) + html1.count("## Root causes") == 1
    assert html1.index("## Root causes") < html1.index('id="action-items"') < html1.index('id="recurrence"')
    # search: severity and date in the title of the result, root causes in the header's words
    assert '<h1 id="title">INC-2025-002 · SEV1 · 2025-03-05: Something broke</h1>' in search["top"]
    assert "Root cause: data/schema-change" in search["top"]


def test_links_are_shown_and_exported(kb):
    k = _sample(kb)
    _, html, _, _ = _incident_html(k, "INC-2025-001")
    assert '<a href="https://chat.example.com/inc-1" rel="noopener">Incident channel #inc-1</a>' in html
    assert '<a href="http://status.example.com/x?a=1&amp;b=2" rel="noopener">&lt;b&gt;x&lt;/b&gt; &amp; &#34;q&#34;</a>' in html
    inc = k.by_id["INC-2025-001"]
    record = incident_record(inc, [], None)
    assert record["links"] == [{"title": "Incident channel #inc-1", "url": "https://chat.example.com/inc-1"},
                               {"title": NASTY, "url": "http://status.example.com/x?a=1&b=2"}]
    _, html2, _, _ = _incident_html(k, "INC-2025-002")
    assert "<dt>Links</dt>" not in html2


def test_links_must_be_http_or_https(kb):
    bad = ["javascript:alert(1)", "file:///etc/passwd", "ftp://x.example.com/a", "https://a b", "mailto:a@b.c", "//x.com/a"]
    items = "".join(f"\n  - {{title: t, url: {json.dumps(u)}}}" for u in bad)
    kb.add("a.md", incident_text("INC-2025-001", extra="links:" + items + "\n  - {url: 'https://ok.example.com'}"))
    loaded = kb.load()
    messages = [d.message for d in loaded.errors]
    for i, url in enumerate(bad):
        assert any(m.startswith(f"links[{i}].url: '{url}' is not a web address") for m in messages), url
    assert f"links[{len(bad)}]: missing required field 'title'" in messages
    assert not loaded.incidents
