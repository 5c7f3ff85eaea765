"""Metrics of SPEC section 6 and the trends.json structure of section 7, against values
worked out by hand. Recurrence across systems and fixes that did not hold: test_recurrence.py."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import incident_text
from pmkb import metrics
from pmkb.metrics import (IncidentRecurrence, group_stats, month_range, percentile, quarter_range, recurrence, summarize,
                          trends)

X, Y, Z = "data/schema-change", "monitoring/missing-alert", "infrastructure/capacity"


def load(kb, *incidents: tuple[str, str], **options):
    """Write incidents (id, incident_text) and load; fail on any error."""
    if options:
        kb.write_config(**options)
    for inc_id, text in incidents:
        kb.add(f"{inc_id.lower()}.md", text)
    loaded = kb.load()
    assert not loaded.errors, [d.text() for d in loaded.errors]
    return loaded


def inc(inc_id: str, started: str, cats: tuple[str, ...] = (), items: str = "", extra: str = "",
        severity: str = "SEV3", systems: str = "services: [api]") -> tuple[str, str]:
    """An incident; by default on the service `api`, so that incidents share a system
    unless a test says otherwise (`systems=""` for none, or other YAML)."""
    lines = [extra] if extra else []
    if systems:
        lines.append(systems)
    if cats:
        lines.append("root_causes:\n" + "".join(f"  - {{category: {c}, description: d}}\n" for c in cats))
    if items:
        lines.append("action_items:\n" + items)
    return inc_id, incident_text(inc_id, started=started, severity=severity, extra="\n".join(lines))


def item(status: str = "done", completed: str | None = None, addresses: tuple[str, ...] | None = None,
         due: str = "2025-01-01", title: str = "fix it", type: str = "prevention") -> str:
    parts = [f"title: {title}", f"type: {type}", "owner: team", f"due: {due}", f"status: {status}"]
    if completed:
        parts.append(f"completed: {completed}")
    if addresses is not None:
        parts.append(f"addresses: [{', '.join(addresses)}]")
    return "  - {" + ", ".join(parts) + "}\n"


# --- summaries -----------------------------------------------------------------------------

def test_summarize_empty_and_all_missing():
    empty = {"n": 0, "mean": None, "median": None, "p90": None}
    assert summarize([]) == empty
    assert summarize([None, None]) == empty


def test_summarize_by_hand():
    # sorted 1 2 3 4: mean 2.5, median 2.5, p90 at rank 0.9 * 3 = 2.7 -> 3 + 0.7 * (4 - 3)
    s = summarize([4.0, None, 1.0, 3.0, 2.0])
    assert s["n"] == 4
    assert s["mean"] == 2.5 and s["median"] == 2.5
    assert s["p90"] == pytest.approx(3.7)
    assert summarize([5.0]) == {"n": 1, "mean": 5.0, "median": 5.0, "p90": 5.0}
    # two values: rank 0.9 -> 10 + 0.9 * 10
    assert summarize([10.0, 20.0])["p90"] == pytest.approx(19.0)
    # odd count: statistics.median picks the middle one
    assert summarize([1.0, 100.0, 7.0])["median"] == 7.0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1, max_size=60),
       st.sampled_from([0, 10, 50, 90, 99, 100]))
def test_percentile_is_numpy_default_bit_for_bit(values, q):
    assert percentile(sorted(values), q) == float(numpy.percentile(values, q))


def test_durations_missing_timestamps_give_none(kb):
    k = load(kb, inc("INC-2025-001", "2025-06-01 10:00", extra="detected: 2025-06-01 10:30\nresolved: 2025-06-01 12:00"))
    d = metrics.durations(k.incidents[0])
    assert d == {"time_to_detect": 30.0, "time_to_diagnose": None, "time_to_mitigate": None, "time_to_resolve": 120.0}


def test_group_stats_counts_and_summaries(kb):
    k = load(kb,
             inc("INC-2025-001", "2025-06-01 10:00", extra="detected: 2025-06-01 10:10"),
             inc("INC-2025-002", "2025-06-02 10:00", extra="detected: 2025-06-02 10:30"),
             inc("INC-2025-003", "2025-06-03 10:00"))
    g = group_stats(k.incidents, {"INC-2025-002"})
    assert g["incidents"] == 3 and g["recurrences"] == 1
    assert g["recurrence_rate"] == pytest.approx(1 / 3)
    assert g["time_to_detect"]["n"] == 2 and g["time_to_detect"]["mean"] == 20.0
    assert g["time_to_resolve"] == {"n": 0, "mean": None, "median": None, "p90": None}
    assert set(g) == {"incidents", "recurrences", "recurrence_rate", *metrics.DURATIONS}
    empty = group_stats([], set())
    assert empty["incidents"] == 0 and empty["recurrences"] == 0 and empty["recurrence_rate"] is None


def test_month_and_quarter_ranges():
    assert month_range("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert quarter_range("2024-Q3", "2025-Q1") == ["2024-Q3", "2024-Q4", "2025-Q1"]
    assert month_range("2025-06", "2025-06") == ["2025-06"]


# --- recurrence -----------------------------------------------------------------------------

def test_recurrence_basic_and_rate(kb):
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,)), inc("INC-2025-002", "2025-06-01 10:00", (X, Y)),
             inc("INC-2025-003", "2025-07-01 10:00", (Z,)))
    r = recurrence(k)
    assert r["INC-2025-001"] == IncidentRecurrence((), ())
    assert r["INC-2025-002"].recurs == (X,) and r["INC-2025-002"].recurrence_of == ("INC-2025-001",)
    assert not r["INC-2025-003"].recurs
    assert trends(k)["overall"]["recurrences"] == 1


def test_ties_in_started_smaller_id_is_earlier(kb):
    # the file of the larger id sorts first on disk: order must not come from files
    kb.add("a.md", incident_text("INC-2025-002", started="2025-03-01 10:00",
                                 extra=f"services: [api]\nroot_causes: [{{category: {X}, description: d}}]"))
    kb.add("b.md", incident_text("INC-2025-001", started="2025-03-01 10:00",
                                 extra=f"services: [api]\nroot_causes: [{{category: {X}, description: d}}]"))
    k = kb.load()
    assert [i.id for i in k.incidents] == ["INC-2025-001", "INC-2025-002"]
    r = recurrence(k)
    assert r["INC-2025-001"].recurs == ()
    assert r["INC-2025-002"].recurs == (X,) and r["INC-2025-002"].recurrence_of == ("INC-2025-001",)


@pytest.mark.parametrize("later, recurs", [
    ("2025-01-30 10:00", True),    # one day inside a 30-day window
    ("2025-01-31 10:00", True),    # exactly 30 days: inclusive
    ("2025-01-31 10:01", False),   # a minute past the window
    ("2025-02-01 10:00", False),   # one day outside
])
def test_window_boundary_is_an_exact_inclusive_duration(kb, later, recurs):
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,)), inc("INC-2025-002", later, (X,)),
             recurrence_window_days=30)
    assert bool(recurrence(k)["INC-2025-002"].recurs) is recurs


def test_window_is_an_exact_duration_across_a_dst_switch(kb):
    # 2025-03-09 is the US spring-forward day: 30 "days" of wall-clock time are 30 days
    # minus one hour of real time, so 10:00 local thirty days on is inside the window.
    k = load(kb, inc("INC-2025-001", "2025-02-20 10:00", (X,)), inc("INC-2025-002", "2025-03-22 10:00", (X,)),
             inc("INC-2025-003", "2025-03-22 11:01", (Y,)), inc("INC-2025-004", "2025-02-20 10:00", (Y,)),
             timezone="America/New_York", recurrence_window_days=30)
    r = recurrence(k)
    assert r["INC-2025-002"].recurs == (X,)
    assert r["INC-2025-003"].recurs == ()    # 30 days and 1 minute of real time after INC-2025-004


def test_recurrence_of_unions_categories_in_order(kb):
    k = load(kb, inc("INC-2025-003", "2025-01-03 10:00", (Y,)), inc("INC-2025-001", "2025-01-01 10:00", (X,)),
             inc("INC-2025-002", "2025-01-02 10:00", (X, Y)), inc("INC-2025-009", "2025-02-01 10:00", (Y, Z, X)))
    r = recurrence(k)["INC-2025-009"]
    assert r.recurs == (Y, X)                          # order of its root causes, Z never seen before
    assert r.recurrence_of == ("INC-2025-001", "INC-2025-002", "INC-2025-003")   # (started, id), no repeats


# Recurrence against shared systems, fixes that did not hold and their states are tested
# in test_recurrence.py.


# --- trends.json ------------------------------------------------------------------------------

def test_trends_structure_and_empty_groups(kb):
    k = load(kb,
             inc("INC-2025-001", "2025-01-20 10:00", (X,), severity="SEV1", systems="services: [api]"),
             inc("INC-2025-002", "2025-04-02 10:00", (X, Y), systems="services: [db, api]"))
    t = trends(k)
    assert list(t) == ["timezone", "recurrence_window_days", "recurrence_scope", "overall", "by_month", "by_quarter",
                       "by_severity", "by_category", "by_service", "fixes"]
    assert t["timezone"] == "UTC" and t["recurrence_window_days"] == 365 and t["recurrence_scope"] == "system"
    assert list(t["by_month"]) == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert list(t["by_quarter"]) == ["2025-Q1", "2025-Q2"]
    empty = t["by_month"]["2025-02"]
    assert empty["incidents"] == 0 and empty["recurrences"] == 0 and empty["recurrence_rate"] is None
    assert all(empty[d] == {"n": 0, "mean": None, "median": None, "p90": None} for d in metrics.DURATIONS)
    assert list(t["by_severity"]) == [s.id for s in k.taxonomy.severities]
    assert t["by_severity"]["SEV1"]["incidents"] == 1 and t["by_severity"]["SEV2"]["incidents"] == 0
    assert list(t["by_category"]) == list(k.taxonomy.categories)
    # 002 recurs X only: a recurrence in X's group, not in Y's
    assert t["by_category"][X] == {**t["by_category"][X], "incidents": 2, "recurrences": 1, "recurrence_rate": 0.5}
    assert t["by_category"][Y]["incidents"] == 1 and t["by_category"][Y]["recurrences"] == 0
    assert list(t["by_service"]) == ["api", "db"] and t["by_service"]["api"]["incidents"] == 2
    assert t["by_service"]["db"] == {**t["by_service"]["db"], "incidents": 1, "recurrences": 1}
    every_group = [t["overall"], *t["by_month"].values(), *t["by_quarter"].values(), *t["by_severity"].values(),
                   *t["by_category"].values(), *t["by_service"].values()]
    assert all(set(g) == set(t["overall"]) for g in every_group)


def test_trends_of_an_empty_knowledge_base(kb):
    t = trends(kb.load())
    assert t["by_month"] == {} and t["by_quarter"] == {} and t["by_service"] == {}
    assert t["overall"]["incidents"] == 0 and t["overall"]["recurrence_rate"] is None
    assert all(g["incidents"] == 0 for g in t["by_category"].values())


def test_months_and_quarters_are_those_of_the_knowledge_base_time_zone(kb):
    # 22:00 on 31 March in New York is 02:00 on 1 April UTC: it belongs to March and Q1 here.
    k = load(kb, inc("INC-2025-001", "2025-03-31 22:00"), inc("INC-2025-002", "2025-04-01T03:30:00Z"),
             timezone="America/New_York")
    assert k.incidents[0].started == datetime(2025, 4, 1, 2, 0, tzinfo=timezone.utc)
    t = trends(k)
    assert t["timezone"] == "America/New_York"
    assert t["by_month"]["2025-03"]["incidents"] == 2     # 03:30 UTC on 1 April is 23:30 on 31 March there
    assert t["by_quarter"] == {"2025-Q1": t["by_quarter"]["2025-Q1"]}
    assert t["by_quarter"]["2025-Q1"]["incidents"] == 2


def test_drafts_count_and_means_are_exact(kb):
    k = load(kb,
             inc("INC-2025-001", "2025-06-01 10:00", extra="detected: 2025-06-01 10:10"),
             inc("INC-2025-002", "2025-06-02 10:00", extra="detected: 2025-06-02 10:20"),
             inc("INC-2025-003", "2025-06-03 10:00", extra="detected: 2025-06-03 13:00"))
    ttd = trends(k)["overall"]["time_to_detect"]
    # 10, 20, 180 minutes: mean 70, median 20, p90 at rank 1.8 -> 20 + 0.8 * 160
    assert ttd["n"] == 3 and ttd["mean"] == 70.0 and ttd["median"] == 20.0
    assert math.isclose(ttd["p90"], 148.0)
