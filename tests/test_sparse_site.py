"""A knowledge base with sparse fields, as imported public postmortems are: no detection
times, one (unrated) severity, no services, no dimensions, decades apart. Its pages must
show no fabricated figure: no red "undetected" lifecycle without a detection time, no
chart for an empty series, no table of empty periods, no severity colour for "not rated"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import KB, incident_text
from sitehelpers import build_site

YEARS = (1996, 2003, 2011, 2017, 2019, 2021, 2022, 2023, 2024, 2024, 2025, 2025)


def sparse_kb(root: Path) -> KB:
    kb = KB(root)
    tax = kb.root / "schema" / "taxonomy.yml"
    text = tax.read_text(encoding="utf-8")
    # listed first, where the most severe would be: it must still not look severe
    tax.write_text(text.replace("severities:                      # most severe first\n",
                                "severities:                      # most severe first\n"
                                "  - {id: unrated, title: Not rated, unrated: true}\n", 1), encoding="utf-8")
    for n, year in enumerate(YEARS, 1):
        extra = "root_causes:\n  - {category: deployment/bad-config, description: a bad configuration was pushed}\n"
        if n % 2 == 0:
            extra += f"resolved: {year}-05-0{n % 9 + 1} 18:00\n"      # some record when it was resolved
        if n == 12:
            extra += "action_items:\n  - {title: Validate configs before push, type: prevention, owner: Ada, " \
                     "due: 2025-06-01, status: open}\n"
        kb.add(f"inc-{n:03d}.md", incident_text(f"INC-{year}-{n:03d}", severity="unrated",
                                                started=f"{year}-05-0{n % 9 + 1} 10:00", extra=extra))
    return kb


@pytest.fixture(scope="module")
def sparse_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sparse")
    kb = sparse_kb(root / "kb")
    (kb.root / "docs" / "index.md").write_text("# Home\n\n<!-- postmortems:figures -->\n", encoding="utf-8")
    out = root / "site"
    build_site(kb.root, out, env={"SOURCE_DATE_EPOCH": "1764000000"})    # 2025-11-24
    return out


def read(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def test_no_red_lifecycle_without_a_detection_time(sparse_site):
    pages = sorted((sparse_site / "incidents").glob("inc-*/index.html"))
    assert len(pages) == len(YEARS)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "pmkb-seg-undetected" not in html, page
        assert '<dt>Detected</dt> <dd><span class="pmkb-unknown">not recorded</span>' in html
        # an unrated severity is grey, never the most severe red
        assert 'class="pmkb-sev pmkb-sev-unrated"' in html and "pmkb-sev-1" not in html, page
        assert "– to detect" not in html and "<b>–</b>" not in html
    resolved = read(sparse_site, "incidents/inc-2003-002/index.html")
    # start to resolution: drawn grey, "detection time not recorded"
    assert 'class="pmkb-seg pmkb-seg-unknown"' in resolved and "detection time not recorded" in resolved
    assert "<b>8 h</b> to resolve" in resolved and "not recorded: time to detect, diagnose, mitigate" in resolved
    only_start = read(sparse_site, "incidents/inc-1996-001/index.html")
    assert "pmkb-seg" not in only_start and "Durations not recorded: only the start time is known." in only_start


def test_trends_show_no_empty_series(sparse_site):
    html = read(sparse_site, "trends/index.html")
    charts = set(re.findall(r'src="charts/(all-[a-z-]+)\.svg"', html))
    # no detection source, no dimension recorded: no chart, one sentence each
    assert "all-detection" not in charts and "all-dimensions" not in charts
    assert "No incident here records how it was detected" in html
    assert "No incident here assesses its failure dimensions" in html
    assert not (sparse_site / "trends/charts/all-detection.svg").exists()
    assert not (sparse_site / "trends/charts/all-dimensions.svg").exists()
    # the durations chart has a resolve panel only: no detect or mitigate panel, no table
    assert "all-durations" in charts
    assert "time to resolve" in html and 'id="time-to-detect"' not in html and 'id="time-to-mitigate"' not in html
    assert "Not recorded by any incident here: time to detect, time to mitigate, time to diagnose." in html
    # thirty years of quarters would be 117 mostly empty bars: the page goes by year, and
    # years without incidents are left out of the tables, not listed as rows of zeros
    assert '<h2 id="incidents-per-year">Incidents per year' in html and "per quarter" not in html
    year_rows = re.findall(r"<tr><td>(\d{4})</td>", html)
    assert year_rows and set(year_rows) == {str(y) for y in YEARS}
    assert "20 of the 30 years from 1996 to 2025 had no incident" in html
    # the planning summary says what it cannot tell
    summary = html[:html.index('id="details"')]
    assert "Compared by year" in summary
    assert '<td>Time to detect</td><td style="text-align:right"><span class="pmkb-unknown">not recorded</span>' in summary
    assert "Too few incidents to tell" in summary or "Not recorded" in summary
    # no system named: whether a problem came back cannot be told, and is not claimed either way
    assert "Cannot tell: no incident of 2024 or 2025 names a service, model or data set" in summary
    assert "cannot tell: the incident names no system" in summary
    assert len(html.encode()) < 60_000


def test_home_and_search_hold_no_fabricated_figure(sparse_site):
    home = read(sparse_site, "index.html")
    assert '<div class="pmkb-card pmkb-card-unknown"><b>not recorded</b><span>time to detect: no incident of 2025' in home
    index = json.loads(read(sparse_site, "search/search_index.json"))
    where = [d["location"] for d in index["docs"]]
    assert not [w for w in where if w.startswith(("trends/", "actions/"))]
    assert any(w.startswith("incidents/inc-2025-012/") for w in where)


def test_exports_keep_the_full_ranges(sparse_site):
    # the pages trim; trends.json keeps every quarter and severity of SPEC section 7
    t = json.loads(read(sparse_site, "trends.json"))
    assert len(t["by_quarter"]) == 117 and t["by_quarter"]["2000-Q1"]["incidents"] == 0
    assert t["overall"]["time_to_detect"] == {"n": 0, "mean": None, "median": None, "p90": None}
    assert list(t["by_severity"])[:2] == ["unrated", "SEV1"]
