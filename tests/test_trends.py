"""The trend pages, trends.json and the recurrence notes of incident and category pages."""

from __future__ import annotations

import json
import textwrap
import posixpath
import re
from datetime import date
from urllib.parse import unquote

import pytest

from conftest import incident_text
from pmkb import recurrence_notes as notes
from pmkb import trends as tr
from pmkb.facet_pages import facet_pages
from pmkb.htmlutil import page_url
from pmkb.metrics import trends
from pmkb.metrics import _MEMO
from pmkb.pages import ChartFile, LaterFile, SiteContext, category_src, fill, filled, incident_src

X, Y = "data/schema-change", "monitoring/missing-alert"
CTX = SiteContext(today=date(2025, 12, 31))
NASTY = '<script>alert(1)</script> *bold* | [x](y)'


def add(kb, inc_id, started, cats=(), extra="", severity="SEV3"):
    lines = [textwrap.dedent(extra).strip()] if extra.strip() else []
    if cats:
        lines.append("root_causes:\n" + "".join(f"  - {{category: {c}, description: d}}\n" for c in cats))
    kb.add(f"{inc_id.lower()}.md", incident_text(inc_id, started=started, severity=severity, extra="\n".join(lines)))


def sample(kb):
    add(kb, "INC-2025-001", "2025-01-10 10:00", (X,), extra=f"""
        detected: 2025-01-10 10:30
        resolved: 2025-01-10 14:00
        detection: alert
        services: [fraud-api, {json.dumps(NASTY)}]
        team: risk-ml
        action_items:
          - {{title: {json.dumps(NASTY)}, type: prevention, owner: risk-ml, due: 2025-02-01, status: done, completed: 2025-01-20}}
        dimensions:
          data: {{contribution: high}}
        """)
    add(kb, "INC-2025-002", "2025-03-05 10:00", (X, Y), extra="""
        detected: 2025-03-05 11:00
        resolved: 2025-03-06 10:00
        detection: customer
        services: [fraud-api]
        team: risk-ml
        """, severity="SEV1")
    add(kb, "INC-2025-003", "2025-08-01 10:00", (Y,), extra="services: [search]")
    k = kb.load()
    assert not k.errors, [d.text() for d in k.errors]
    return k


def links_resolve(pages, files, extra_targets=()):
    """Every relative link of the pages (Markdown links and images, and hrefs in HTML
    fragments) leads to a page, a file, or one of extra_targets (src_uris)."""
    srcs = {p.src_uri for p in pages} | set(files) | set(extra_targets)
    urls = {page_url(s): s for s in srcs if s.endswith(".md")}
    bad = []
    for p in pages:
        base = posixpath.dirname(p.src_uri)
        body = re.sub(r"\A---\n.*?\n---\n", "", p.markdown, flags=re.S)      # the page's meta is not Markdown
        for target in re.findall(r"(?<!\\)\]\(([^)\s]+)\)", body):   # not an escaped \](
            if "://" in target:
                continue
            path = posixpath.normpath(posixpath.join(base, unquote(target.split("#")[0])))
            if path not in srcs:
                bad.append((p.src_uri, target))
        here = page_url(p.src_uri)
        for frag in p.fragments.values():
            for href in re.findall(r'href="([^"]+)"', frag):
                if "://" in href:
                    continue
                path = posixpath.normpath(posixpath.join(here, unquote(href.split("#")[0]))).lstrip("/")
                if path + "/" not in urls and path not in srcs:     # a page, or a file such as trends.json
                    bad.append((p.src_uri, href))
    return bad


def made(k, ctx=CTX):
    """The trend pages with their `make` run, and the files made: dest_uri -> bytes
    (trends.json) or chart spec (None for a chart not shown)."""
    pages, files = tr.trends_site(k, ctx)
    pages = [filled(p) for p in pages]
    return pages, {f.dest_uri: f.make() if isinstance(f, LaterFile) else f.spec() for f in files}


def html_of(page):
    return fill(page.markdown, page.fragments)


def test_trends_site_pages_files_and_links(kb):
    k = sample(kb)
    pages, files = tr.trends_site(k, CTX)
    # Every page and file is made apart (beside MkDocs, by the site build): the figures,
    # the recurrence relation among them, are not worked out until then.
    assert all(p.deferred for p in pages) and all(isinstance(f, (LaterFile, ChartFile)) for f in files)
    assert not _MEMO.get(id(k), (None, {}))[1]
    pages, dests = made(k)
    by_src = {p.src_uri: p for p in pages}
    assert by_src["trends/index.md"].in_nav
    # services and teams have pages of their own (facet_pages.py), which the trends page links to
    assert not [src for src in by_src if src.startswith(("trends/services/", "trends/teams/"))]
    assert json.loads(dests["trends.json"]) == json.loads(json.dumps(trends(k)))
    charts = [d for d in dests if d.startswith("trends/charts/")]
    assert charts == [f"trends/charts/all-{name}.svg" for name in tr.FULL_CHARTS]
    assert all(isinstance(dests[d], dict) for d in charts)
    # every chart is shown, with alt text, and every shown chart exists
    shown = {posixpath.normpath(posixpath.join(page_url(p.src_uri), m))
             for p in pages for m in re.findall(r'<img alt="[^"]+" src="([^"]+\.svg)"', html_of(p))}
    assert shown == set(charts)
    targets = [incident_src(i.id) for i in k.incidents] + [category_src(c) for c in k.taxonomy.categories]
    targets += ["metrics.md", "incidents/index.md", "actions/index.md"]
    targets += [p.src_uri for p in facet_pages(k, CTX)]
    assert links_resolve(pages, dests, targets) == []


def test_front_matter_text_is_escaped_everywhere(kb):
    k = sample(kb)
    pages, _ = made(k)
    for p in pages:
        for text in (html_of(p), *p.search_text.values(), *(t for hs in p.headings.values() for _, t, _ in hs)):
            assert "<script>" not in text, p.src_uri
    # the service's own page: facet_pages.py (tests/test_facets.py)


def test_durations_show_n_median_p90_and_warn_on_small_n(kb):
    k = sample(kb)
    pages, _ = made(k)
    index = next(p for p in pages if p.src_uri == "trends/index.md")
    html = html_of(index)
    assert "<th>Quarter</th>" in html or ">Quarter</th>" in html
    for head in (">n</th>", ">mean</th>", ">median</th>", ">p90</th>"):
        assert head in html
    # 2025-Q1 has two detected incidents, 30 and 60 minutes: a row in grey, not a warning box per table
    assert ('<td>2025-Q1</td><td style="text-align:right"><span class="pmkb-weak" title="fewer than 5 incidents">2'
            '</span></td>') in html
    assert "45 min" in html
    assert "incidents have a time to detect in" not in html      # no warning box per duration table
    sections = ("Planning summary", "Details", "Incidents per quarter", "Time to detect, mitigate and resolve per quarter",
                "Recurrence rate per quarter", "Most recurring root-cause categories", "Fix hold rate by action type",
                "Detection sources",
                "Failure dimensions over time", "Time to resolve by severity", "By service", "By team")
    for section in sections:
        assert re.search(rf'<h2 id="[a-z-]+">{section}<', html), section
    # the table of contents gets the headings with the ids Markdown gave them, h3 under h2
    heads = index.headings["body"]
    assert heads[0] == ("trends", "Trends", 1)
    assert [t for _, t, level in heads if level == 2] == list(sections)
    assert ("time-to-detect-mitigate-and-resolve-per-quarter", "Time to detect, mitigate and resolve per quarter", 2) in heads
    assert ("time-to-detect", "Time to detect", 3) in heads
    assert all(f'id="{hid}"' in html for hid, _, _ in heads)
    # search never sees the tables or charts, and the page is left out of the index altogether
    text = index.search_text["body"]
    assert "<table" not in text and "<img" not in text
    assert "search:\n  exclude: true\n" in index.markdown.split("---")[1]


def test_detection_shares(kb):
    k = sample(kb)
    index = made(k)[0][0]
    assert ("Found by <strong>our alerts and monitors</strong>: 33% (1 of 3); by <strong>customers</strong>: 33% (1)"
            in html_of(index))
    assert tr.detection_class("model-monitor") == "our alerts and monitors"
    assert tr.detection_class("customer") == "customers" and tr.detection_class(None) == "not recorded"
    assert tr.detection_class("audit") == "other"


def test_empty_knowledge_base(kb):
    k = kb.load()
    pages, files = made(k)
    assert [p.src_uri for p in pages] == ["trends/index.md"]
    assert "No incidents yet" in html_of(pages[0])
    assert list(files) == ["trends.json"]
    assert notes.category_notes(k, X, CTX).startswith("<p>No incident")
    assert notes.incident_notes(k, "INC-2025-404", CTX) == ""


def test_metrics_link_can_be_turned_off(kb):
    k = sample(kb)
    pages, _ = made(k, SiteContext(today=date(2025, 12, 31), extra={"metrics_page": None}))
    assert all("metrics" not in html_of(p) for p in pages)
    pages, _ = made(k)
    assert all('<a href="../../../metrics/">metric definitions</a>' in html_of(p) for p in pages[1:])


def test_incident_recurrence_notes(kb):
    k = sample(kb)
    note = notes.incident_notes(k, "INC-2025-002", CTX)
    # which earlier incident it recurs, on which shared system
    assert ('<p>This incident <strong>recurs</strong> <a href="../../categories/data/schema-change/">Upstream schema '
            "change</a>: an earlier incident within 365 days on the same service, model or data set had it too") in note
    assert ('<li><a href="../inc-2025-001/">INC-2025-001</a> (2025-01-10, 54 days earlier): '
            '<a href="../../categories/data/schema-change/">Upstream schema change</a> on fraud-api</li>') in note
    # the fix that did not hold here, in plain terms: no alarm box, no owner
    assert ("(prevention, from <a href=\"../inc-2025-001/\">INC-2025-001</a>)</small>: done 2025-01-20; "
            '<a href="../../categories/data/schema-change/">data/schema-change</a> came back on fraud-api '
            "44 days later.</li>") in note
    assert "admonition" not in note and "risk-ml" not in note
    assert "*bold*" in note and "<script>" not in note and "&lt;script&gt;" in note
    first = notes.incident_notes(k, "INC-2025-001", CTX)
    assert "Not a recurrence" in first
    assert "<strong>Recurred later</strong>" in first and '<a href="../inc-2025-002/">INC-2025-002</a> (2025-03-05, 54 days later)' in first
    assert "did not hold: <a" in first and 'at <a href="../inc-2025-002/">INC-2025-002</a>.' in first
    # INC-2025-003 has Y like INC-2025-002, but on another service: not a recurrence
    third = notes.incident_notes(k, "INC-2025-003", CTX)
    assert third.startswith("<p>Not a recurrence: no earlier incident within 365 days on the same service")
    assert "Recurred later" not in third and "Fixes" not in third
    # a freshly loaded knowledge base (a `mkdocs serve` rebuild) gets its own, equal, figures
    assert notes.incident_notes(kb.load(), "INC-2025-002", CTX) == note
    # without directory URLs the links name the HTML files
    assert 'href="../inc-2025-001/index.html"' in notes.incident_notes(k, "INC-2025-002", CTX, directory_urls=False)


def test_incident_notes_fix_states_and_scope(kb):
    add(kb, "INC-2024-001", "2024-01-10 10:00", (X,), extra="""
        models: [{name: churn, version: '1'}]
        action_items:
          - {title: held one, type: detection, owner: o, due: 2024-02-01, status: done, completed: 2024-01-20}
          - {title: new one, type: process, owner: o, due: 2025-12-01, status: done, completed: 2025-12-01}
        """)
    add(kb, "INC-2025-001", "2025-03-01 10:00", (X,), extra="services: [other]")
    add(kb, "INC-2025-002", "2025-04-01 10:00", (Y,))
    k = kb.load()
    first = notes.incident_notes(k, "INC-2024-001", CTX)
    assert "“held one” <small>(detection)</small>: done 2024-01-20; held: nothing it addressed came back" in first
    assert ("“new one” <small>(process)</small>: done 2025-12-01; too early to tell: nothing it addressed has come "
            "back so far; the window closes 2026-12-01.") in first
    assert "names no service, model or data set" in notes.incident_notes(k, "INC-2025-002", CTX)
    kb.write_config(recurrence_scope="category", recurrence_window_days=500)
    k = kb.load()
    second = notes.incident_notes(k, "INC-2025-001", CTX)
    assert "within 500 days anywhere in the organisation had it too" in second
    assert "(2024-01-10, 416 days earlier): <a" in second and " on " not in second.split("</li>")[0].split("</a>")[-1]


def test_category_recurrence_notes(kb):
    k = sample(kb)
    note = notes.category_notes(k, X, CTX)
    assert note.startswith("<p><strong>2</strong> incidents had this root cause, from 2025-01-10 to 2025-03-05")
    assert "<strong>1</strong> recurred it: an earlier incident on the same service, model or data set" in note
    assert "recurrence rate 50%" in note
    assert "median 54 days" in note     # 2025-01-10 10:00 -> 2025-03-05 10:00
    assert '<a href="../../../incidents/inc-2025-002/">INC-2025-002</a>' in note
    assert "Fixes that did not hold: <strong>1</strong> done action item" in note
    assert "<p><strong>Fixes that did not hold in this category</strong>" in note
    assert "came back on fraud-api 44 days later</td>" in note
    assert "first occurrence" in note


@pytest.mark.parametrize("minutes, text", [(None, "–"), (0.5, "30 s"), (45, "45 min"), (90, "90 min"),
                                           (150, "2.5 h"), (47 * 60, "47 h"), (3 * 1440, "3 days"),
                                           (36 * 1440, "36 days")])
def test_human_minutes(minutes, text):
    assert tr.human_minutes(minutes) == text


def test_md_text_and_slugs():
    assert tr.md_text("a *b* _c_ [d](e) | `f`") == "a \\*b\\* \\_c\\_ \\[d\\](e) \\| \\`f\\`"
    assert tr.md_text("<i>&</i>\n\nnext") == "&lt;i&gt;&amp;&lt;/i&gt; next"
    s = tr.slugs(["Fraud API", "fraud-api", "index", "Ωmega", "../etc"])
    assert len(set(s.values())) == 5
    assert all(re.fullmatch(r"[a-z0-9-]+", v) for v in s.values())
    assert s["../etc"] == "etc" and s["index"] != "index"
    assert tr.slugs(["Fraud API"]) == {"Fraud API": "fraud-api"}


def test_rel_matches_posix_relpath():
    cases = [("trends/index.md", "incidents/inc-1/index.md"), ("trends/services/x.md", "trends/charts/x.svg"),
             ("incidents/a/index.md", "incidents/b/index.md"), ("actions/index.md", "metrics.md"),
             ("index.md", "trends/index.md"), ("categories/d/x/index.md", "categories/d/x/index.md")]
    for a, b in cases:
        assert tr.rel(a, b) == posixpath.relpath(b, posixpath.dirname(a) or ".")
