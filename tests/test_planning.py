"""The planning summary's period comparisons (planning.py), with hand-computed values, and
the overdue ranking and team roll-up (overdue.py)."""

from __future__ import annotations

import random
import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from conftest import incident_text
from pmkb import planning as pl
from pmkb.overdue import NO_TEAM, by_team, overdue_items
from pmkb.pages import SiteContext, filled
from pmkb.trends import trends_site


def add(kb, inc_id, started, extra=""):
    kb.add(f"{inc_id.lower()}.md", incident_text(inc_id, started=started, extra=extra))


def loaded(kb):
    k = kb.load()
    assert not k.errors, [d.text() for d in k.errors]
    return k


# --- calendar --------------------------------------------------------------------------

def test_period_keys_and_bounds():
    assert pl.period_key(date(2025, 6, 30), "quarter") == "2025-Q2"
    assert pl.period_key(date(2025, 7, 1), "half") == "2025-H2"
    assert pl.period_key(date(2025, 7, 1), "year") == "2025"
    assert [pl.previous_period(k) for k in ("2025-Q1", "2025-Q3", "2025-H1", "2025-H2", "2025")] == \
        ["2024-Q4", "2025-Q2", "2024-H2", "2025-H1", "2024"]
    assert pl.period_bounds("2024-Q1") == (date(2024, 1, 1), date(2024, 3, 31))
    assert pl.period_bounds("2025-H2") == (date(2025, 7, 1), date(2025, 12, 31))
    assert pl.period_bounds("2023") == (date(2023, 1, 1), date(2023, 12, 31))


# --- comparisons -----------------------------------------------------------------------

def test_faster_when_every_value_is_below_every_earlier_one():
    # medians by hand: 30 and 120. Every resample's median lies within its own values, so
    # every resampled difference lies in [10 - 140, 50 - 100] = [-130, -50]: below zero.
    c = pl.compare([50, 10, 30, 20, 40], [100, 140, 120, 110, 130])
    assert (c.current_n, c.previous_n, c.current_median, c.previous_median, c.difference) == (5, 5, 30, 120, -90)
    assert -130 <= c.interval[0] <= c.interval[1] <= -50
    assert c.verdict == "faster" and c.told


def test_slower_is_the_mirror():
    c = pl.compare([100, 140, 120, 110, 130], [50, 10, 30, 20, 40])
    assert c.difference == 90 and 50 <= c.interval[0] and c.verdict == "slower"


def test_same_values_are_no_clear_change():
    c = pl.compare([10, 20, 30, 40, 50], [10, 20, 30, 40, 50])
    assert c.difference == 0 and c.interval[0] < 0 < c.interval[1]
    assert c.verdict == "no clear change"
    # all values equal: every resampled difference is 0, the interval [0, 0] holds zero
    assert pl.compare([7] * 5, [7] * 6).interval == (0.0, 0.0)


def test_too_few_to_tell():
    # four values this period: medians are still shown (by hand: 25 and 3), no verdict
    c = pl.compare([10, 20, 30, 40, None, None], [1, 2, 3, 4, 5])
    assert (c.current_n, c.previous_n, c.current_median, c.previous_median, c.difference) == (4, 5, 25, 3, 22)
    assert c.interval is None and c.verdict == "too few" and not c.told
    assert pl.compare([None, None], [None]).verdict == "not recorded"
    assert pl.compare([], [1, 2, 3, 4, 5, 6]).verdict == "too few"


def test_the_interval_is_reproducible_and_order_free():
    a = [3.0, 9.5, 12.0, 40.0, 41.0, 300.0, 7.0]
    b = [30.0, 60.0, 61.0, 90.0, 15.0, 500.0]
    first = pl.bootstrap_interval(a, b)
    shuffled = a[:]
    random.Random(1).shuffle(shuffled)
    assert pl.bootstrap_interval(shuffled, b) == first == pl.bootstrap_interval(a, b)


# --- periods adapt to the data -----------------------------------------------------------

def _spread(kb, months_days):
    for n, (y, m, d) in enumerate(months_days, 1):
        add(kb, f"INC-{y}-{n:03d}", f"{y}-{m:02d}-{d:02d} 10:00")


def test_quarters_when_they_hold_enough(kb):
    _spread(kb, [(2025, 7, d) for d in range(1, 6)] + [(2025, 10, d) for d in range(1, 6)])
    p = pl.choose_periods(loaded(kb).incidents, ZoneInfo("UTC"))
    assert (p.granularity, p.current, p.previous, p.enough) == ("quarter", "2025-Q4", "2025-Q3", True)
    assert len(p.current_incidents) == len(p.previous_incidents) == 5


def test_halves_then_years_when_quarters_are_thin(kb):
    # 2025-Q4 holds 2, 2025-Q3 3: halves, 2025-H2 (5) against 2025-H1 (5)
    _spread(kb, [(2025, 2, 1), (2025, 3, 1), (2025, 4, 1), (2025, 5, 1), (2025, 6, 1),
                 (2025, 7, 1), (2025, 8, 1), (2025, 9, 1), (2025, 11, 1), (2025, 12, 1)])
    p = pl.choose_periods(loaded(kb).incidents, ZoneInfo("UTC"))
    assert (p.granularity, p.current, p.previous, p.enough) == ("half", "2025-H2", "2025-H1", True)


def test_years_and_too_few_when_nothing_holds_enough(kb):
    _spread(kb, [(2024, 3, 1), (2024, 9, 1), (2025, 1, 5), (2025, 6, 1)])
    p = pl.choose_periods(loaded(kb).incidents, ZoneInfo("UTC"))
    assert (p.granularity, p.current, p.previous, p.enough) == ("year", "2025", "2024", False)
    assert pl.choose_periods([], ZoneInfo("UTC")) is None


def test_periods_are_local_dates(kb):
    # 23:30 UTC on 31 December is already 2026 in Tokyo
    add(kb, "INC-2025-001", "2025-12-31T23:30:00Z")
    k = loaded(kb)
    # one incident: no granularity holds enough, years are compared
    assert pl.choose_periods(k.incidents, ZoneInfo("Asia/Tokyo")).current == "2026"
    assert pl.choose_periods(k.incidents, ZoneInfo("UTC")).current == "2025"


def test_summary_compares_detection_by_hand(kb):
    # 2025-H1: detected after 100..140 min (median 120); 2025-H2: after 10..50 (median 30)
    for n, (month, minutes) in enumerate([(1, 100), (2, 110), (3, 120), (4, 130), (5, 140),
                                          (7, 10), (8, 20), (9, 30), (10, 40), (11, 50)], 1):
        add(kb, f"INC-2025-{n:03d}", f"2025-{month:02d}-03 10:00",
            f"detected: 2025-{month:02d}-03 {10 + minutes // 60:02d}:{minutes % 60:02d}")
    k = loaded(kb)
    pages, _ = trends_site(k, SiteContext(today=date(2026, 1, 1)))
    html = filled(pages[0]).fragments["body"]
    summary = html[:html.index('id="details"')]
    assert "This half-year, 2025-H2" in summary and "2025-H1" in summary
    assert "<td>Time to detect</td>" in summary
    assert "30 min <small>n=5</small>" in summary and "2 h <small>n=5</small>" in summary
    assert "−1 h 30 min" in summary and '<span class="pmkb-better">Faster</span>' in summary
    # the home page's cards say the same, in short
    from pmkb.home import figures_html
    cards = figures_html(k, SiteContext(today=date(2026, 1, 1)))
    assert "<b>30 min</b><span>median time to detect, 2025-H2 (n=5)</span>" in cards
    assert "<small>2 h in 2025-H1 (n=5) · faster, more than noise</small>" in cards
    assert ('<div class="pmkb-card pmkb-card-unknown"><b>not recorded</b><span>time to resolve: no incident of '
            "2025-H2 recorded it</span><small>not recorded in 2025-H1</small>") in cards
    # nothing recorded when it was resolved: said, not drawn as a zero
    assert '<td>Time to resolve</td><td style="text-align:right"><span class="pmkb-unknown">not recorded</span>' in summary
    assert '<span class="pmkb-unknown">Not recorded</span>' in summary


# --- overdue ranking and teams -----------------------------------------------------------

TEAMS = """
teams:
  - {id: risk-ml, title: Risk ML, members: [Ada, Bo]}
  - {id: sre, title: SRE, members: [Cy]}
"""


def set_teams(kb, teams_yaml):
    """The taxonomy with its `teams` replaced."""
    path = kb.root / "schema" / "taxonomy.yml"
    text = path.read_text(encoding="utf-8")
    cut = text.find("\nteams:")
    path.write_text((text if cut < 0 else text[:cut + 1]) + teams_yaml, encoding="utf-8")
    return path


def _item(title, owner, due, status="open", addresses=None):
    extra = f", addresses: [{addresses}]" if addresses else ""
    return f"  - {{title: {title}, type: prevention, owner: {owner}, due: {due}, status: {status}{extra}}}\n"


def test_overdue_ranking_severity_then_came_back_then_days(kb):
    set_teams(kb, TEAMS)
    cat = "data/schema-change"
    rc = f"root_causes:\n  - {{category: {cat}, description: d}}\n"
    kb.add("a.md", incident_text("INC-2025-001", severity="SEV3", started="2025-01-05 10:00", extra=(
        "services: [fraud-api]\n" + rc + "action_items:\n" + _item("old-sev3", "Ada", "2025-02-01")
        + _item("recent-sev3", "Cy", "2025-11-01"))))
    kb.add("b.md", incident_text("INC-2025-002", severity="SEV1", started="2025-01-06 10:00", extra=(
        "services: [search]\n" + rc + "action_items:\n" + _item("sev1-item", "someone", "2025-12-01")
        + _item("done", "Bo", "2025-01-01", "done"))))
    # came back on fraud-api after the first item was due (2025-02-01), before the second (2025-11-01)
    kb.add("c.md", incident_text("INC-2025-003", severity="SEV4", started="2025-06-01 10:00",
                                 extra="services: [fraud-api]\n" + rc))
    # the same category on another system does not count
    kb.add("d.md", incident_text("INC-2025-004", severity="SEV4", started="2025-07-01 10:00",
                                 extra="services: [billing]\n" + rc))
    k = loaded(kb)
    ranked = overdue_items(k, date(2025, 12, 31))
    assert [o.item.title for o in ranked] == ["sev1-item", "old-sev3", "recent-sev3"]
    assert [o.came_back for o in ranked] == [(), ("INC-2025-003",), ()]
    assert [o.days for o in ranked] == [30, 333, 60]
    assert [o.team for o in ranked] == [None, "risk-ml", "sre"]
    # under category scope the whole organisation is one system: billing counts too
    kb.write_config(recurrence_scope="category")
    anywhere = overdue_items(loaded(kb), date(2025, 12, 31))
    assert [o.came_back for o in anywhere] == [(), ("INC-2025-003", "INC-2025-004"), ()]
    groups = by_team(k, date(2025, 12, 31))
    assert list(groups) == ["risk-ml", "sre", NO_TEAM]
    assert [i.title for _, i in groups["risk-ml"]] == ["old-sev3", "done"]


def test_teams_are_validated(kb):
    from pmkb.taxonomy import TaxonomyError, load_taxonomy
    path = set_teams(kb, 
        "teams:\n  - {id: a, members: [Ada, Bo]}\n  - {id: b, members: [Ada, 3], colour: red}\n  - {title: no id}\n")
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(path)
    text = str(err.value)
    assert "'Ada' is a member of team 'a' (line" in text and "and of team 'b': a person belongs to one team" in text
    assert "teams[1].members[1] must be a name" in text
    assert "unknown key 'colour'" in text and "teams[2] needs an 'id'" in text


def test_unrated_severity(kb):
    from pmkb.taxonomy import load_taxonomy
    path = kb.root / "schema" / "taxonomy.yml"
    text = path.read_text(encoding="utf-8").replace(
        "severities:                      # most severe first\n",
        "severities:                      # most severe first\n  - {id: unknown, title: Not rated}\n", 1)
    path.write_text(text, encoding="utf-8")
    tax = load_taxonomy(path)
    assert tax.unrated("unknown") and not tax.unrated("SEV1")
    # listed first, it does not push SEV1 out of the most severe rank (nor colour)
    assert tax.rated_rank("unknown") == 4 and tax.rated_rank("SEV1") == 0 and tax.rated_rank("SEV4") == 3


def test_ledger_ranks_overdue_and_rolls_up_by_team(kb):
    from pmkb.actions import actions_site
    from pmkb.pages import fill
    set_teams(kb, TEAMS)
    rc = "root_causes:\n  - {category: data/schema-change, description: d}\n"
    kb.add("a.md", incident_text("INC-2025-001", severity="SEV3", started="2025-01-05 10:00", extra=(
        "services: [fraud-api]\n" + rc + "action_items:\n" + _item("sev3-came-back", "Ada", "2025-02-01")
        + _item("sev3-recent", "Cy", "2025-11-01"))))
    kb.add("b.md", incident_text("INC-2025-002", severity="SEV1", started="2025-01-06 10:00", extra=(
        "services: [search]\n" + rc + "action_items:\n" + _item("sev1-item", "Zed", "2025-12-01"))))
    kb.add("c.md", incident_text("INC-2025-003", severity="SEV4", started="2025-06-01 10:00",
                                 extra="services: [fraud-api]\n" + rc))
    k = loaded(kb)
    pages, _ = actions_site(k, SiteContext(today=date(2025, 12, 31)))
    index = filled(pages[0])
    html = fill(index.markdown, index.fragments)
    assert "search:\n  exclude: true\n" in index.markdown.split("---")[1]
    overdue = html[html.index("## Overdue"):html.index("## Open")]
    assert overdue.index("sev1-item") < overdue.index("sev3-came-back") < overdue.index("sev3-recent")
    assert 'came back since it was due: <a href="../incidents/inc-2025-003/">INC-2025-003</a>' in overdue
    teams = index.fragments["teams"]
    rows = [re.sub(r"<[^>]+>", "", r) for r in re.findall(r"<tr>(.*?)</tr>", teams)]
    # Risk ML and SRE each one overdue item (Risk ML in taxonomy order first); Zed is in no team
    assert [r.split(" ")[0] for r in rows[1:]] == ["Risk", "SRE", "no"]
    assert rows[-1].startswith("no team recorded")
