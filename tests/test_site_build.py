"""Real `mkdocs build`s of small knowledge bases: what the built site holds (SPEC sections 1, 5, 7).

One knowledge base, built once for the module, carries every case (hostile text, assets,
related incidents, time zones, drafts, a warning); a second, broken one checks that the
build fails listing every error. Builds are subprocesses, as a user or CI runs them.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import KB, ROOT, incident_text
from sitehelpers import BuildFailed, Element, broken_refs, build_site, html_pages, page_path, parse_tree, resolve_ref, tiny_png

SCRIPT = "<script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(1)>'
NASTY = SCRIPT + ATTR
SC, MA, CAP, PB = "data/schema-change", "monitoring/missing-alert", "infrastructure/capacity", "data/pipeline-bug"
REPO = "https://github.com/example-org/kb"
COMPUTED = {"url", "categories", "time_to_detect", "time_to_diagnose", "time_to_mitigate", "time_to_resolve",
            "recurs", "recurrence_of", "related", "failed_fixes"}
UTC_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


# (file below incidents/, id, started as written, that instant in UTC, extra front matter)
INCIDENTS = [
    ("2025/xss.md", "INC-2025-010", "2025-06-01 10:00", "2025-06-01T08:00:00Z", f"""
        summary: {q(NASTY)}
        detected: 2025-06-01 10:30
        resolved: "2025-06-01T12:00:00+02:00"
        impact: {q(NASTY)}
        trigger: {q(NASTY)}
        services: [fraud-scoring-api]
        team: risk-ml
        authors: [Dana Ruiz, Ola Nowak]
        models: [{{name: fraud-gbm, version: "7.2"}}]
        dimensions:
          data: {{contribution: high, evidence: [{q(NASTY)}]}}
        root_causes: [{{category: {PB}, description: {q(NASTY)}}}]
        timeline: [{{at: "2025-06-01 10:10", event: {q(NASTY)}, kind: deploy}}]
        action_items:
          - {{title: {q(NASTY)}, type: prevention, owner: risk-ml, due: 2025-07-01, status: open}}
        x-slack: {{channel: "#fraud", pinned: true}}
        """),
    # a YAML timestamp (seconds given) without offset, in winter: CET is UTC+1
    ("2024/old.md", "INC-2024-001", "2024-01-15 10:00:30", "2024-01-15T09:00:30Z", ""),
    ("2025/b.md", "INC-2025-001", "2025-03-10 10:00", "2025-03-10T09:00:00Z", f"""
        services: [ledger]
        models: [{{name: risk, version: "2"}}]
        datasets: [{{name: payments}}]
        root_causes:
          - {{category: {SC}, description: one}}
          - {{category: {MA}, description: two}}
          - {{category: {SC}, description: the same category again}}
        """),
    ("2025/c.md", "INC-2025-002", "2025-03-11 10:00", "2025-03-11T09:00:00Z", f"""
        root_causes: [{{category: {SC}, description: x}}]
        related: [INC-2024-001]
        """),
    ("2025/d.md", "INC-2025-003", "2025-03-09 10:00", "2025-03-09T09:00:00Z",
     f"services: [ledger]\nroot_causes: [{{category: {SC}, description: x}}]"),
    ("2025/e.md", "INC-2025-004", "2024-06-01 10:00", "2024-06-01T08:00:00Z",
     f"models: [{{name: risk, version: '1'}}]\nroot_causes: [{{category: {MA}, description: x}}]"),
    ("2025/g.md", "INC-2025-005", "2024-05-01 10:00", "2024-05-01T08:00:00Z", f"""
        datasets: [{{name: payments, version: v1}}]
        root_causes: [{{category: {SC}, description: x}}, {{category: {MA}, description: y}}]
        action_items:
          - {{title: Contract tests, type: prevention, owner: data, due: 2024-05-20, status: done, completed: 2024-06-01,
              addresses: [{SC}]}}
        """),
    ("2025/h.md", "INC-2025-006", "2025-04-01T10:00:00+02:00", "2025-04-01T08:00:00Z",
     "related: [INC-2025-004, INC-2024-001, INC-2025-002]"),
    # two incidents that started at the same instant, written differently: the smaller id is earlier
    ("2025/a.md", "INC-2025-021", "2025-05-01 12:00", "2025-05-01T10:00:00Z", f"""
        detected: 2025-05-01 12:05
        resolved: 2025-05-01 13:00
        services: [search]
        root_causes: [{{category: {CAP}, description: x}}]
        """),
    ("2025/z.md", "INC-2025-020", "2025-05-01T10:00:00Z", "2025-05-01T10:00:00Z", ""),
]
STATUS = {"INC-2025-010": "final", "INC-2025-005": "review", "INC-2025-021": "final"}
TITLES = {**{i[1]: f"Something broke in {i[0]}" for i in INCIDENTS}, "INC-2025-010": NASTY}
BODIES = {"INC-2025-010": "The whiteboard: ![whiteboard](board.png) and the graph: ![graph](img/sub.png).\n\n"
                          "It looked like [the old one](../2024/old.md#timeline).\n"}
# Files that are not incidents: templates and anything hidden. Valid, so only the rule keeps them out.
EXCLUDED = {"_templates/ml.md": "INC-2099-001", "2025/_draft.md": "INC-2099-002", ".hidden/x.md": "INC-2099-003",
            "2025/.wip.md": "INC-2099-004"}
EXPECTED_WARNING = "incidents/2025/a.md"   # final without a summary


@dataclass
class Built:
    root: Path
    site: Path
    output: str
    loaded: object     # the core's KnowledgeBase, for cross-checks

    def page(self, url: str):
        return parse_tree(page_path(self.site, url).read_text(encoding="utf-8"))

    def incidents_json(self) -> list[dict]:
        return json.loads((self.site / "incidents.json").read_text(encoding="utf-8"))["incidents"]


def make_kb(root: Path) -> KB:
    kb = KB(root)
    config = kb.write_config(timezone="Europe/Berlin", related_limit=2)
    text = config.read_text(encoding="utf-8").replace("  font: false\n", "  font: false\n  features: [content.action.edit]\n")
    config.write_text(text + f"repo_url: {REPO}\nedit_uri: edit/main/docs/\n", encoding="utf-8")
    for rel, id_, started, _utc, extra in INCIDENTS:
        kb.add(rel, incident_text(id_, title=TITLES[id_], status=STATUS.get(id_, "draft"),
                                  started=started, extra=extra, body=BODIES.get(id_, f"Body of {id_}.\n")))
    kb.add("2025/board.png", tiny_png())
    kb.add("2025/img/sub.png", tiny_png(5, 4))
    for rel, id_ in EXCLUDED.items():
        kb.add(rel, incident_text(id_, title="Not an incident"))
    return kb


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    base = tmp_path_factory.mktemp("site-build")
    kb = make_kb(base / "kb")
    result = build_site(kb.root, base / "site", strict=False)
    return Built(kb.root, base / "site", result.stdout + result.stderr, kb.load())


def test_one_page_per_incident_and_nothing_else(built):
    pages = sorted(p.parent.name for p in (built.site / "incidents").glob("*/index.html"))
    assert pages == sorted(i[1].lower() for i in INCIDENTS)
    everything = "".join(p.read_text(encoding="utf-8", errors="replace") for p in built.site.rglob("*")
                         if p.is_file() and p.suffix in (".html", ".json", ".xml"))
    for id_ in EXCLUDED.values():
        assert id_ not in everything, f"{id_} comes from an excluded file but reached the site"
    assert not list(built.site.rglob("_templates")) and not list(built.site.rglob(".hidden"))


def test_every_internal_link_resolves(built):
    assert broken_refs(built.site) == []
    # and MkDocs itself found nothing to warn about except the one intended warning
    warnings = [line for line in built.output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and EXPECTED_WARNING in warnings[0], built.output
    # nor, at INFO, about the generated pages' links (the ledgers once linked page addresses
    # in Markdown, which MkDocs reported on every build)
    assert "unrecognized relative link" not in built.output, built.output


def test_hostile_text_is_escaped_everywhere(built):
    pages = html_pages(built.site)
    for page in pages:
        raw = page.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in raw, page
        assert "<img src=x" not in raw.lower() and "onerror=alert(1)>" not in raw, page
        assert "&amp;lt;script" not in raw, f"{page}: escaped twice"
        tree = parse_tree(raw)
        assert not [s for s in tree.find_all("script") if "alert(1)" in s.text()], page
        assert not tree.find_all("img", src="x"), page
    index = (built.site / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "<script>alert" not in index and "<img src=x" not in index   # Material shows titles as HTML

    page = built.page("incidents/inc-2025-010/")
    # shown as the very text the author wrote: escaped once, not interpreted, not mangled
    assert page.find("title").text().startswith(f"INC-2025-010: {NASTY}")
    assert page.find("h1").text() == f"INC-2025-010 {NASTY}"
    header_topics = [e.text().strip() for e in page.find_all(cls="md-header__topic")]
    assert f"INC-2025-010: {NASTY}" in header_topics
    for cls in ("pmkb-summary", "pmkb-events", "pmkb-causes", "pmkb-dimensions", "pmkb-actions", "pmkb-facts"):
        assert NASTY in page.find(cls=cls).text(), cls
    assert page.find("meta", name="description").attrs["content"] == NASTY
    assert NASTY in built.page("incidents/").find(cls="pmkb-index").text()
    assert NASTY in built.page(f"categories/{PB}/").find(cls="pmkb-index").text()


def test_assets_beside_an_incident_are_published_and_linked(built):
    page_file = page_path(built.site, "incidents/inc-2025-010/")
    page = built.page("incidents/inc-2025-010/")
    imgs = {img.attrs["alt"]: img.attrs["src"] for img in page.find("article").find_all("img")}
    assert set(imgs) == {"whiteboard", "graph"}
    for alt, src in imgs.items():
        target = resolve_ref(built.site, page_file, src)
        assert target is not None and target.is_file(), (alt, src)
    assert resolve_ref(built.site, page_file, imgs["whiteboard"]).read_bytes() == tiny_png()
    assert resolve_ref(built.site, page_file, imgs["graph"]).read_bytes() == tiny_png(5, 4)
    link = [a for a in page.find("article").find_all("a") if a.text() == "the old one"][0]
    assert link.attrs["href"].endswith("#timeline")
    assert resolve_ref(built.site, page_file, link.attrs["href"]) == page_path(built.site, "incidents/inc-2024-001/")


def test_a_broken_knowledge_base_fails_listing_every_error(kb, tmp_path):
    kb.add("ok.md", incident_text("INC-2025-001"))
    kb.add("a.md", incident_text("INC-2025-002", severity="SEV9", extra="titel: typo"))
    kb.add("deep/b.md", incident_text("INC-2025-003", started="2025-06-01 10:00", extra="""
        detected: 2025-05-01 10:00
        root_causes: [{category: data/no-such-category, description: x}]
        """))
    kb.add("c.md", "no front matter at all\n")
    kb.add("d.md", incident_text("INC-2025-001", title="Same id as ok.md"))
    expected = kb.load().errors
    assert {d.path for d in expected} >= {"incidents/a.md", "incidents/deep/b.md", "incidents/c.md"}
    assert len(expected) >= 6

    result = build_site(kb.root, tmp_path / "site", strict=False, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for d in expected:
        assert re.search(rf"{re.escape(d.path)}:{d.line}:{d.column}: error: ", output), d.text()
        assert d.text() in output
    assert "Traceback" not in output


@pytest.mark.parametrize("one_cpu", [False, True])
def test_a_chart_the_trends_page_does_not_show_is_not_made(kb, tmp_path, one_cpu):
    """The trends page names its charts before it is written (it is made beside MkDocs);
    with no recurring category it shows no category chart, and the site has no such file."""
    kb.write_config()
    kb.add("a.md", incident_text("INC-2025-001", extra=f"root_causes: [{{category: {SC}, description: x}}]"))
    kb.add("b.md", incident_text("INC-2025-002", started="2025-06-01 10:00",
                                 extra=f"root_causes: [{{category: {MA}, description: y}}]"))
    build_site(kb.root, tmp_path / "site", one_cpu=one_cpu)
    charts = sorted(p.name for p in (tmp_path / "site" / "trends" / "charts").iterdir())
    assert "all-categories.svg" not in charts and "all-incidents.svg" in charts
    # nor, with no duration, detection source or dimension recorded, charts of empty series
    assert charts == ["all-incidents.svg", "all-recurrence.svg"]
    assert broken_refs(tmp_path / "site") == []


def test_warnings_fail_only_a_strict_build(built, tmp_path):
    warning = list(built.loaded.warnings)
    assert [d.path for d in warning] == [EXPECTED_WARNING] and "summary" in warning[0].message
    assert warning[0].text() in built.output          # the plain build passed and said so
    with pytest.raises(BuildFailed) as failed:
        build_site(built.root, tmp_path / "strict", strict=True)
    assert warning[0].text() in str(failed.value)


def test_incidents_json_follows_the_spec(built):
    records = built.incidents_json()
    utc = {i[1]: i[3] for i in INCIDENTS}
    assert [r["id"] for r in records] == sorted(utc, key=lambda id_: (utc[id_], id_))
    assert [r["id"] for r in records].index("INC-2025-020") < [r["id"] for r in records].index("INC-2025-021")
    files = {i[1]: i[0] for i in INCIDENTS}
    for r in records:
        source = (built.root / "incidents" / files[r["id"]]).read_text(encoding="utf-8")
        given = yaml.safe_load(source.split("---\n")[1])
        assert set(r) == set(given) | COMPUTED, r["id"]
        assert r["started"] == utc[r["id"]]
        for key in ("started", "detected", "mitigated", "resolved"):
            if key in r:
                assert UTC_STAMP.match(r[key]), (r["id"], key, r[key])
        for event in r.get("timeline", []):
            assert UTC_STAMP.match(event["at"])
        for item in r.get("action_items", []):
            assert DATE.match(item["due"]) and DATE.match(item.get("completed", "2000-01-01"))
        assert r["url"] == f"incidents/{r['id'].lower()}/"
        assert (built.site / r["url"] / "index.html").is_file()
        assert r["categories"] == list(dict.fromkeys(rc["category"] for rc in given.get("root_causes", [])))
        for key in ("title", "summary", "impact", "trigger", "services", "models", "dimensions"):
            if key in given:
                assert r[key] == given[key], (r["id"], key)

    by_id = {r["id"]: r for r in records}
    x = by_id["INC-2025-010"]
    assert x["x-slack"] == {"channel": "#fraud", "pinned": True}
    assert x["detected"] == "2025-06-01T08:30:00Z" and x["resolved"] == "2025-06-01T10:00:00Z"
    assert x["timeline"][0]["at"] == "2025-06-01T08:10:00Z"
    assert x["action_items"][0]["due"] == "2025-07-01"
    assert (x["time_to_detect"], x["time_to_resolve"], x["time_to_mitigate"], x["time_to_diagnose"]) == (30, 120, None, None)
    assert by_id["INC-2025-005"]["action_items"][0]["completed"] == "2024-06-01"
    assert by_id["INC-2025-001"]["categories"] == [SC, MA]
    empty = by_id["INC-2024-001"]
    assert {k: empty[k] for k in COMPUTED - {"url"}} == {
        "categories": [], "time_to_detect": None, "time_to_diagnose": None, "time_to_mitigate": None,
        "time_to_resolve": None, "recurs": [], "recurrence_of": [], "related": [], "failed_fixes": []}


def test_incidents_json_recurrence_and_failed_fixes(built):
    b = {r["id"]: r for r in built.incidents_json()}["INC-2025-001"]
    # Within 365 days and on a shared system: G (2024-05-01, data set payments) had both its
    # categories, E (2024-06-01, model risk) the missing alert, and D the day before (service
    # ledger) the schema change. C (2025-03-11) has the schema change too but names no system.
    assert b["recurs"] == [SC, MA]
    assert b["recurrence_of"] == ["INC-2025-005", "INC-2025-004", "INC-2025-003"]
    assert {r["id"]: r for r in built.incidents_json()}["INC-2025-002"]["recurs"] == []
    # G's done item addressing schema changes was completed 2024-06-01; B is the first later
    # incident on G's data set with a schema change, 282 days later: it did not hold, and is
    # reported there only
    assert b["failed_fixes"] == [{"incident": "INC-2025-005", "action": 0, "title": "Contract tests", "categories": [SC]}]
    assert sum(len(r["failed_fixes"]) for r in built.incidents_json()) == 1


def test_schema_is_published(built):
    assert (built.site / "schema" / "incident.schema.json").read_bytes() == (ROOT / "schema" / "incident.schema.json").read_bytes()


def _tokens(text: str) -> set[str]:
    r"""Words as the site's search sees them: markup separates, then Material's separator
    `[\s\-]+` splits, and lunr's trimmer strips punctuation at both ends."""
    words = re.split(r"[\s\-]+", html.unescape(re.sub(r"<[^>]+>", " ", text)).lower())
    return {re.sub(r"^\W+|\W+$", "", w) for w in words} - {""}


def test_search_index_holds_each_incident_with_its_facts(built):
    docs = json.loads((built.site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    for inc in built.loaded.incidents:
        mine = [d for d in docs if d["location"].split("#")[0] == inc.url]
        assert mine and mine[0]["location"] == inc.url, inc.id
        # severity and date in the result's title: the theme shows only matching paragraphs under it
        started = inc.started.astimezone(built.loaded.settings.tz).date().isoformat()
        assert html.unescape(mine[0]["title"]) == f"{inc.id} · {inc.severity} · {started}: {inc.title}"
        tokens = set().union(*(_tokens(d["title"] + " " + d["text"]) for d in mine))
        wanted = [inc.id, *inc.categories, *inc.services, *(m.name for m in inc.models), *inc.authors, inc.team or ""]
        for term in wanted:
            # every word of the term must be a token of its own, not glued to a label
            assert _tokens(term) <= tokens, (inc.id, term, _tokens(term) - tokens)
    x = [d for d in docs if d["location"].startswith("incidents/inc-2025-010/")]
    assert {"fraud", "scoring", "api", "gbm", "risk", "ml", "dana", "nowak"} <= set().union(*(_tokens(d["text"]) for d in x))


def _incident_hrefs(built: Built, page_file: Path, element) -> list[str]:
    out = []
    for a in element.find_all("a"):
        target = resolve_ref(built.site, page_file, a.attrs.get("href") or "#")
        if target is not None and target.parent.parent == built.site / "incidents":
            out.append(target.parent.name)
    return out


def test_incidents_are_not_in_the_navigation(built):
    ids = [i[1] for i in INCIDENTS]
    for page_file in html_pages(built.site):
        tree = parse_tree(page_file.read_text(encoding="utf-8"))
        for nav in tree.find_all("nav"):
            assert _incident_hrefs(built, page_file, nav) == [], page_file
        if page_file.parent.parent == built.site / "incidents":
            own = page_file.parent.name.upper()
            # outside the article nothing names another incident; inside, only links do
            outside = tree.text(skip=lambda e: e.tag == "article")
            article = tree.find("article")
            prose = article.text(skip=lambda e: e.tag == "a" or "pmkb-related" in e.classes)
            for other in ids:
                if other != own:
                    assert other not in outside and other.lower() not in outside, (page_file, other)
                    assert other not in prose, (page_file, other)


def test_related_incidents_explicit_first_then_rarest_shared(built):
    expected = {
        # two shared categories, then the one sharing the rarer category (missing-alert, 3
        # incidents) ahead of the closer-in-time ones sharing schema-change (4 incidents)
        "INC-2025-001": ["INC-2025-005", "INC-2025-004"],
        # explicit links are all shown, in the order given, even beyond related_limit
        "INC-2025-006": ["INC-2025-004", "INC-2024-001", "INC-2025-002"],
    }
    records = {r["id"]: r for r in built.incidents_json()}
    for id_, related in expected.items():
        assert records[id_]["related"] == related
    c = records["INC-2025-002"]["related"]
    assert c[0] == "INC-2024-001" and len(c) == 2 and c[1] in {"INC-2025-001", "INC-2025-003", "INC-2025-005"}
    for id_, r in records.items():
        assert id_ == "INC-2025-006" or len(r["related"]) <= 2     # related_limit: 2
        page_file = page_path(built.site, r["url"])
        tree = parse_tree(page_file.read_text(encoding="utf-8"))
        listing = tree.find("ul", cls="pmkb-related")
        shown = _incident_hrefs(built, page_file, listing) if listing is not None else []
        assert shown == [x.lower() for x in r["related"]], id_


def test_edit_link_opens_the_incident_file(built):
    edit = built.page("incidents/inc-2025-010/").find("a", rel="edit")
    assert edit is not None and edit.attrs["href"] == f"{REPO}/edit/main/incidents/2025/xss.md"
    home = built.page("").find("a", rel="edit")
    assert home.attrs["href"] == f"{REPO}/edit/main/docs/index.md"


def test_drafts_are_marked(built):
    for _rel, id_, *_ in INCIDENTS:
        note = built.page(f"incidents/{id_.lower()}/").find(cls="pmkb-draft-note")
        assert (note is not None) == (STATUS.get(id_, "draft") != "final"), id_


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs two CPUs to compare the forked build with the one-process build")
def test_background_rendering_gives_the_same_site(tmp_path):
    """With two CPUs, incident fragments, charts and incidents.json are made by forked
    workers beside MkDocs (pmkb.workers); on one CPU, in the build's own process. Same
    bytes either way, and the workers' folder is gone after the build."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"SOURCE_DATE_EPOCH": "1767225600", "TMPDIR": str(scratch)}
    build_site(ROOT, tmp_path / "forked", env=env)
    build_site(ROOT, tmp_path / "inline", env=env, one_cpu=True)
    def tree(root):
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    forked, inline = tree(tmp_path / "forked"), tree(tmp_path / "inline")
    assert forked.keys() == inline.keys()
    differ = [name for name in forked if forked[name] != inline[name]]
    assert differ == []
    assert any(name.startswith("incidents/inc-") for name in forked) and "incidents.json" in forked
    assert not list(scratch.iterdir()), "the workers' folder was left behind"


FAILING_FEED = """
import sys
import pmkb.pages.site as site
def broken_feed(*args, **kwargs):
    raise ValueError("the feed cannot be written")
site.feed_xml = broken_feed
from mkdocs.__main__ import cli
sys.exit(cli())
"""


@pytest.mark.parametrize("one_cpu", [False, True])
def test_a_failure_in_the_deferred_work_fails_the_build_saying_what(tmp_path, one_cpu):
    """A bug of ours in what is made beside MkDocs (here the feed) stops the build with
    the file it was making and the traceback, whether a worker or the build made it; no
    hang, and no folder of the workers left behind."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_cpu else None
    result = subprocess.run([sys.executable, "-c", FAILING_FEED, "build", "-q", "-d", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=pin,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "TMPDIR": str(scratch)})
    assert result.returncode != 0
    assert "making feed.xml failed" in result.stderr and "the feed cannot be written" in result.stderr
    assert "broken_feed" in result.stderr      # where it failed, from the worker's traceback
    assert not list(scratch.iterdir())


def test_search_index_holds_words_not_markup(built):
    """Incident pages are indexed by their words: action items and root causes with the
    page, the timeline, recurrence notes and related links not (engineering/decisions.md)."""
    docs = json.loads((built.site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    checked = 0
    for inc in built.loaded.incidents:
        mine = {d["location"]: d for d in docs if d["location"].split("#")[0] == inc.url}
        raw = " ".join(d["text"] for d in mine.values())
        words = _tokens(html.unescape(raw))
        for item in inc.action_items:
            assert _tokens(item.title) <= words, (inc.id, item.title)
            checked += 1
        for rc in inc.root_causes:
            assert _tokens(rc.description) <= words, (inc.id, rc.category)
        assert "<table" not in raw and "pmkb-" not in raw, inc.id
        # sections the index has no words for have no entry: a search for "recurrence"
        # must not list every incident
        assert not {f"{inc.url}#{hid}" for hid in ("failure-dimensions", "recurrence", "related-incidents")} & set(mine)
        # the sections the page generates have their own entries, under the ids the page uses
        page = built.page(inc.url)
        for location in mine:
            if "#" in location:
                assert page.find(id=location.split("#")[1]) is not None, location
    assert checked


def test_search_sees_words_whatever_the_order_of_plugins(tmp_path):
    """The page's generated HTML goes in after the search plugin indexed the page, even
    when mkdocs.yml lists postmortems before search (event priorities, not list order)."""
    kb = make_kb(tmp_path / "kb")
    config = kb.root / "mkdocs.yml"
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert settings["plugins"][0] == "search"
    settings["plugins"] = settings["plugins"][1:] + ["search"]
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    build_site(kb.root, tmp_path / "site", strict=False)
    docs = json.loads((tmp_path / "site" / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    entries = [d for d in docs if d["location"].startswith("incidents/inc-")]
    # the notes are on the page, not in the index; the action items are
    assert entries and not [d for d in entries if d["location"].endswith("#recurrence")]
    assert [d for d in entries if d["location"].endswith("#action-items") and d["text"]]


def test_trend_pages_list_their_sections_and_stay_out_of_search(built):
    """Trend pages are HTML put in after Markdown (trends._Writer): the theme's table of
    contents still lists their sections with h3 under h2, "skip to content" still leads to
    the h1, and the search index, which is for incidents, has no entry of them."""
    docs = json.loads((built.site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    for url in ("trends/",):    # (service and team pages: tests/test_facets.py)
        page = built.page(url)
        h1 = page.find("h1")
        assert page.find("a", cls="md-skip").attrs["href"] == f"#{h1.attrs['id']}"
        toc = page.find("nav", cls="md-nav--secondary")
        top = [li.find("a").attrs["href"] for li in toc.find("ul").children if isinstance(li, Element) and li.tag == "li"]
        first = ["#incidents-per-quarter", "#time-to-detect-mitigate-and-resolve-per-quarter"]
        if url == "trends/":    # the planning summary, then the details
            first = ["#planning-summary", "#details"] + first
        assert top[:len(first)] == first, top
        nested = toc.find("a", href="#time-to-detect-mitigate-and-resolve-per-quarter").parent.find("ul")
        # one h3 per duration that some incident of the page recorded, in this order
        order = ["#time-to-detect", "#time-to-mitigate", "#time-to-resolve", "#time-to-diagnose"]
        hrefs = [a.attrs["href"] for a in nested.find_all("a")]
        assert hrefs == [x for x in order if x in hrefs] and {"#time-to-detect", "#time-to-resolve"} <= set(hrefs)
        for a in toc.find_all("a"):   # every entry leads to a heading of the page
            assert page.find(id=a.attrs["href"][1:]) is not None, (url, a.attrs["href"])
        assert [d for d in docs if d["location"].split("#")[0] == url] == []
    assert not [d for d in docs if d["location"].startswith(("trends/", "actions/"))]


SERVE = r"""
import gc, json, sys
from pathlib import Path
from mkdocs.config import load_config
from mkdocs.commands.build import build
target, out = Path(sys.argv[1]), sys.argv[2]
config = load_config("mkdocs.yml", site_dir=out)
config.plugins.on_startup(command="serve", dirty=False)   # as `mkdocs serve` does, once
build(config)
first = gc.isenabled()
target.write_text(target.read_text(encoding="utf-8") + "\nAdded while previewing.\n", encoding="utf-8")
build(load_config("mkdocs.yml", site_dir=out))   # what a serve rebuild runs, with the same plugin object
print(json.dumps([first, gc.isenabled()]))
"""


def test_a_serve_rebuild_shows_the_edit(kb, tmp_path):
    """`mkdocs serve` keeps the plugin between builds (its loader re-reads only changed
    files) and runs everything in its own process: a rebuild shows an edited incident, and
    the garbage collector is on again after each build (the plugin pauses it while loading)."""
    kb.write_config()
    kb.add("a.md", incident_text("INC-2025-001", extra=f"root_causes: [{{category: {SC}, description: x}}]"))
    kb.add("b.md", incident_text("INC-2025-002", started="2025-06-01 10:00",
                                 extra=f"root_causes: [{{category: {SC}, description: y}}]"))
    result = subprocess.run([sys.executable, "-c", SERVE, str(kb.root / "incidents" / "a.md"), str(tmp_path / "site")],
                            cwd=kb.root, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [True, True]
    page = (tmp_path / "site" / "incidents" / "inc-2025-001" / "index.html").read_text(encoding="utf-8")
    assert "Added while previewing." in page


def test_generated_sections_are_listed_when_the_body_starts_with_an_h1(kb, tmp_path):
    """The theme lists only what is under a page's first h1. A draft without failure
    dimensions or root causes whose body starts with `# Heading` still lists its generated
    sections (action items, recurrence) in the table of contents."""
    kb.write_config()
    item = "action_items: [{title: Add an alert, type: detection, owner: sre, due: 2025-07-01, status: open}]"
    kb.add("a.md", incident_text("INC-2025-001", status="draft", extra=item, body="# Background\n\n## Details\n\nText.\n"))
    build_site(kb.root, tmp_path / "site")
    page = parse_tree((tmp_path / "site" / "incidents" / "inc-2025-001" / "index.html").read_text(encoding="utf-8"))
    toc = page.find("nav", cls="md-nav--secondary")
    hrefs = [a.attrs["href"] for a in toc.find_all("a")]
    assert hrefs == ["#details", "#action-items", "#recurrence"], hrefs
