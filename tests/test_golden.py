"""The golden site: the example knowledge base (incidents/, mkdocs.yml) built with "today"
fixed, compared with what tests/golden/ says users get: every page address and file of
the site (theme assets and the search index aside) and the contents of the exports
`incidents.json` and `trends.json`. Not the HTML bytes: a change to a page's markup is not
a change of what the site holds, and the page tests look at the markup.

A refactor that changes any of this fails here, loudly. When the change is meant (a new
example incident, a new page, a new field of an export), refresh the files on purpose and
commit them with the change; the diff is the review:

    make golden        # PMKB_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from conftest import ROOT
from sitehelpers import build_site

GOLDEN = ROOT / "tests" / "golden"
# 2027-01-01 00:00 UTC, after the example's last incident: "today" of overdue items and
# pending fixes (SPEC section 6), so trends.json does not change with the calendar.
TODAY_EPOCH = "1798761600"
UPDATE = os.environ.get("PMKB_UPDATE_GOLDEN") == "1"
# The theme's own files and the search index change with the theme's version, not with pmkb.
THEME_PARTS = ("assets/javascripts/", "assets/stylesheets/", "assets/images/", "search/")
THEME_FILES = ("404.html", "sitemap.xml", "sitemap.xml.gz")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("golden") / "site"
    build_site(ROOT, out, env={"SOURCE_DATE_EPOCH": TODAY_EPOCH})
    return out


def addresses(site: Path) -> list[str]:
    """Every page by its address (`/incidents/inc-2025-001/`), every other file by its path."""
    out = []
    for path in sorted(site.rglob("*")):
        rel = path.relative_to(site).as_posix()
        if not path.is_file() or rel.startswith(THEME_PARTS) or rel in THEME_FILES:
            continue
        out.append("/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel))
    return sorted(out)


def compare(name: str, actual: str) -> None:
    golden = GOLDEN / name
    if UPDATE:
        golden.write_text(actual, encoding="utf-8")
        return
    assert golden.exists(), f"{golden} is missing: run `make golden` and commit it"
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                         f"tests/golden/{name}", "built", lineterm="", n=2))
        shown = "\n".join(diff[:80]) + (f"\n... {len(diff) - 80} more lines" if len(diff) > 80 else "")
        pytest.fail(f"the site's {name} changed ({len(diff)} diff lines). If that is meant, run `make golden`, "
                    f"review the diff and commit it.\n{shown}", pytrace=False)


def pretty(path: Path) -> str:
    return json.dumps(json.loads(path.read_text(encoding="utf-8")), indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def test_page_addresses(site):
    compare("addresses.txt", "\n".join(addresses(site)) + "\n")


def test_incidents_json(site):
    compare("incidents.json", pretty(site / "incidents.json"))


def test_trends_json(site):
    compare("trends.json", pretty(site / "trends.json"))
