"""The Atom feed of final postmortems."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

from conftest import incident_text
from pmkb.pages.feed import feed_xml

ATOM = "{http://www.w3.org/2005/Atom}"
NASTY_TITLE = "<script>alert('x')</script> & <b>bold</b>"


@pytest.fixture
def kbase(kb):
    kb.add("a.md", incident_text("INC-2025-001", title="Oldest final", status="final", started="2025-01-05 10:00", extra="""
        summary: First one.
        detected: 2025-01-05 10:30
        resolved: 2025-06-20 08:00
        authors: [Dana Ruiz]
        root_causes:
          - {category: data/schema-change, description: x}
          - {category: monitoring/missing-alert, description: y}
        """))
    kb.add("b.md", incident_text("INC-2025-002", title=NASTY_TITLE, status="final", started="2025-03-01 10:00", extra="""
        summary: "Scores were <i>wrong</i> & nobody knew"
        detected: 2025-03-01 11:00
        resolved: 2025-03-02 10:00
        root_causes: [{category: model/bad-threshold, description: x}]
        """))
    # same start as 002: the larger id is the later one (SPEC order), so it comes first
    kb.add("c.md", incident_text("INC-2025-003", title="Same start, larger id", status="final", started="2025-03-01 10:00",
                                 extra="root_causes: [{category: infrastructure/capacity, description: x}]"))
    kb.add("d.md", incident_text("INC-2025-004", title="Still a draft", status="draft", started="2025-07-01 10:00"))
    kb.add("e.md", incident_text("INC-2025-005", title="Under review", status="review", started="2025-08-01 10:00"))
    loaded = kb.load()
    assert not loaded.errors
    return loaded


def parse(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == f"{ATOM}feed"
    return root


def entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{ATOM}entry")


def text(el: ET.Element, tag: str) -> str | None:
    found = el.find(f"{ATOM}{tag}")
    return None if found is None else found.text


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_final_only_newest_first(kbase):
    root = parse(feed_xml(kbase, "Test KB", "https://kb.example.com/"))
    ids = [text(e, "title").split(":")[0] for e in entries(root)]
    assert ids == ["INC-2025-003", "INC-2025-002", "INC-2025-001"]   # no draft, no review


def test_entry_fields(kbase):
    root = parse(feed_xml(kbase, "Test KB", "https://kb.example.com/"))
    by_id = {text(e, "title").split(":")[0]: e for e in entries(root)}
    oldest = by_id["INC-2025-001"]
    assert text(oldest, "id") == "https://kb.example.com/incidents/inc-2025-001/"
    assert oldest.find(f"{ATOM}link").get("href") == "https://kb.example.com/incidents/inc-2025-001/"
    assert stamp(text(oldest, "updated")) == stamp("2025-06-20T08:00:00+00:00")        # resolved
    assert stamp(text(by_id["INC-2025-003"], "updated")) == stamp("2025-03-01T10:00:00+00:00")  # no resolved: started
    assert text(oldest, "summary") == "First one."
    assert [c.get("term") for c in oldest.findall(f"{ATOM}category")] == ["data/schema-change", "monitoring/missing-alert"]
    assert [a.findtext(f"{ATOM}name") for a in oldest.findall(f"{ATOM}author")] == ["Dana Ruiz"]
    # the feed's own updated: the most recent entry update, never the clock
    assert stamp(text(root, "updated")) == max(stamp(text(e, "updated")) for e in entries(root))
    assert root.findtext(f"{ATOM}title").startswith("Test KB")
    assert root.find(f"{ATOM}author/{ATOM}name").text == "Test KB"


def test_html_in_text_is_escaped_not_interpreted(kbase):
    data = feed_xml(kbase, "Test <KB> & co", "https://kb.example.com/")
    assert b"<script>" not in data and b"<i>" not in data and b"<b>" not in data
    assert b"&lt;script&gt;" in data
    root = parse(data)
    entry = next(e for e in entries(root) if text(e, "title").startswith("INC-2025-002"))
    assert text(entry, "title") == f"INC-2025-002: {NASTY_TITLE}"
    assert text(entry, "summary") == "Scores were <i>wrong</i> & nobody knew"
    assert entry.find(f"{ATOM}summary").get("type") in (None, "text")   # plain text, not html
    assert root.findtext(f"{ATOM}title").startswith("Test <KB> & co")


def test_links_relative_without_site_url(kbase):
    root = parse(feed_xml(kbase, "Test KB", None))
    for entry in entries(root):
        href = entry.find(f"{ATOM}link").get("href")
        assert href.startswith("incidents/inc-2025-00") and href.endswith("/")
        assert "://" not in href
    assert len({text(e, "id") for e in entries(root)}) == 3   # ids stay unique


def test_site_url_without_trailing_slash(kbase):
    root = parse(feed_xml(kbase, "Test KB", "https://example.com/kb"))
    hrefs = [e.find(f"{ATOM}link").get("href") for e in entries(root)]
    assert hrefs[0] == "https://example.com/kb/incidents/inc-2025-003/"


def test_deterministic_and_stable_ids(kb, kbase):
    first = feed_xml(kbase, "Test KB", "https://kb.example.com/")
    assert feed_xml(kb.load(), "Test KB", "https://kb.example.com/") == first
    # A new final postmortem adds an entry; the existing entries keep their ids.
    kb.add("f.md", incident_text("INC-2025-006", title="Newer", status="final", started="2025-09-01 10:00",
                                 extra="root_causes: [{category: data/data-drift, description: x}]"))
    again = parse(feed_xml(kb.load(), "Test KB", "https://kb.example.com/"))
    old_ids = [text(e, "id") for e in entries(parse(first))]
    new_ids = [text(e, "id") for e in entries(again)]
    assert new_ids[1:] == old_ids and new_ids[0].endswith("/incidents/inc-2025-006/")


def test_empty_feed_is_valid_and_deterministic(kb):
    kb.add("d.md", incident_text("INC-2025-004", status="draft"))
    data = feed_xml(kb.load(), "Test KB", "https://kb.example.com/")
    root = parse(data)
    assert entries(root) == [] and text(root, "updated")
    assert data == feed_xml(kb.load(), "Test KB", "https://kb.example.com/")


def test_control_characters_do_not_break_the_feed(kb):
    kb.add("x.md", incident_text("INC-2025-001", title="x", status="final", extra="""
        summary: "bell \\a here"
        root_causes: [{category: data/data-drift, description: x}]
        """).replace("title: 'x'", 'title: "a\\x01b"'))
    loaded = kb.load()
    assert loaded.incidents and loaded.incidents[0].title == "a\x01b"
    entry = entries(parse(feed_xml(loaded, "Test KB", None)))[0]
    assert text(entry, "title").startswith("INC-2025-001: a") and text(entry, "title").endswith("b")
