"""Recurrence on a shared system and fixes that did not hold (SPEC sections 6 and 7, as
amended), against values worked out by hand, plus a brute-force cross-check of the fast
algorithm on random knowledge bases read literally from the definition."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import incident_text
from pmkb.exports import incident_record
from pmkb.kb import Loader
from pmkb.metrics import (NO_RECURRENCE, Fix, IncidentRecurrence, all_fixes, compute_recurrence, failed_fixes,
                          fix_counts, recurrence, shared_systems, systems, trends)
from pmkb.model import ActionItem, DatasetRef, Incident, ModelRef, RootCause, Source
from pmkb.settings import Settings, SettingsError
from pmkb.validate import check_file
from test_metrics import X, Y, Z, inc, item, load


def failures(k, incident_id: str) -> list[tuple[str, int, tuple[str, ...], int]]:
    """(fix's incident, action, categories, days) of the fixes that did not hold at an incident."""
    return [(f.incident, f.action, f.categories, f.days) for f in failed_fixes(k).get(incident_id, ())]


MODEL = "models: [{name: churn, version: '1'}]"


# --- systems --------------------------------------------------------------------------------

@pytest.mark.parametrize("first, second, shared", [
    # only through a model name (versions differ: the model is the system, not its version)
    ("services: [web]\nmodels: [{name: churn, version: '1'}]", "services: [batch]\nmodels: [{name: churn, version: '2'}]",
     (("model", "churn"),)),
    # only through a data set name
    ("services: [web]\ndatasets: [{name: events}]", "services: [batch]\ndatasets: [{name: events, version: v2}]",
     (("dataset", "events"),)),
])
def test_a_system_shared_only_through_a_model_or_a_data_set(kb, first, second, shared):
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-01-10"), systems=first),
             inc("INC-2025-002", "2025-02-01 10:00", (X,), systems=second))
    a, b = k.by_id["INC-2025-001"], k.by_id["INC-2025-002"]
    assert shared_systems(a, b) == shared
    assert recurrence(k)["INC-2025-002"] == IncidentRecurrence((X,), ("INC-2025-001",))
    [f] = failed_fixes(k)["INC-2025-002"]
    # 2025-01-10 to 2025-02-01: 22 days
    assert (f.incident, f.action, f.categories, f.systems, f.days) == ("INC-2025-001", 0, (X,), shared, 22)


def test_a_service_and_a_model_of_the_same_name_are_not_shared(kb):
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-01-10"),
                     systems="services: [churn]"),
             inc("INC-2025-002", "2025-02-01 10:00", (X,), systems=MODEL))
    a, b = k.by_id["INC-2025-001"], k.by_id["INC-2025-002"]
    assert systems(a) == (("service", "churn"),) and systems(b) == (("model", "churn"),)
    assert shared_systems(a, b) == ()
    assert recurrence(k)["INC-2025-002"] == NO_RECURRENCE
    assert failed_fixes(k) == {}


def test_systems_keep_kinds_apart_and_drop_repeats():
    a = _model(1, datetime(2025, 1, 1, tzinfo=timezone.utc), (X,), [], services=("api", "api", "churn"),
               models=("churn",), datasets=("churn", "events"))
    assert systems(a) == (("service", "api"), ("service", "churn"), ("model", "churn"), ("dataset", "churn"),
                          ("dataset", "events"))


def test_same_category_on_unrelated_systems_is_not_a_recurrence(kb):
    # The case: a category shared by two unrelated teams is not the same problem
    # come back. The fix of the first does not count against the second either.
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-01-10"),
                     systems="services: [payments-webhook]"),
             inc("INC-2025-002", "2025-02-01 10:00", (X,), systems="services: [fraud-scoring-api]"),
             inc("INC-2025-003", "2025-03-01 10:00", (X,), systems="services: [fraud-scoring-api]"))
    r = recurrence(k)
    assert r["INC-2025-002"] == NO_RECURRENCE
    assert r["INC-2025-003"] == IncidentRecurrence((X,), ("INC-2025-002",))
    assert failed_fixes(k) == {}
    t = trends(k, date(2025, 6, 1))
    assert (t["overall"]["recurrences"], t["overall"]["recurrence_rate"]) == (1, 1 / 3)


def test_an_incident_without_a_system_never_recurs_and_nothing_recurs_from_it(kb):
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-01-10"), systems=""),
             inc("INC-2025-002", "2025-02-01 10:00", (X,), systems=""),
             inc("INC-2025-003", "2025-03-01 10:00", (X,)))
    assert all(r == NO_RECURRENCE for r in recurrence(k).values())
    assert failed_fixes(k) == {}
    [fix] = all_fixes(k)
    assert fix.failure is None


# --- the window of a fix, from its completion date -------------------------------------------

def test_window_of_a_fix_is_measured_from_completed(kb):
    # A fix completed 11 months after its incident; a later incident 13 months after the
    # incident (outside the recurrence window, so not a recurrence) but 62 days after the
    # completion: it did not hold. The other item, completed 9 days after the incident, is
    # 388 days before the later one: outside its window, so it held.
    k = load(kb, inc("INC-2024-001", "2024-01-01 10:00", (X,),
                     items=item(completed="2024-12-01") + item(completed="2024-01-10")),
             inc("INC-2025-001", "2025-02-01 10:00", (X,)))
    assert recurrence(k)["INC-2025-001"] == NO_RECURRENCE       # 397 days after INC-2024-001
    assert failures(k, "INC-2025-001") == [("INC-2024-001", 0, (X,), 62)]
    states = [f.state(date(2026, 1, 1), 365) for f in all_fixes(k)]
    assert states == ["did_not_hold", "held"]


@pytest.mark.parametrize("later, failed", [
    ("2025-03-10 12:00", False),    # the day it was completed: it had no chance
    ("2025-03-11 00:00", True),     # the next day
    ("2025-04-09 23:59", True),     # 30 days after: inclusive
    ("2025-04-10 00:00", False),    # 31 days after
])
def test_window_of_a_fix_in_dates(kb, later, failed):
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-03-10")),
             inc("INC-2025-002", later, (X,)), recurrence_window_days=30)
    assert bool(failed_fixes(k).get("INC-2025-002")) is failed


def test_local_date_of_the_later_incident_east_of_utc(kb):
    # B starts at 23:30 UTC on the completion date; in Tokyo (UTC+9) it is already 08:30
    # the next day, so there the fix was done the day before B: it did not hold, 1 day on.
    incidents = (inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-03-10")),
                 inc("INC-2025-002", "2025-03-10T23:30:00Z", (X,)))
    k = load(kb, *incidents, timezone="Asia/Tokyo")
    assert failures(k, "INC-2025-002") == [("INC-2025-001", 0, (X,), 1)]
    kb.write_config(timezone="UTC")
    assert failed_fixes(kb.load()) == {}      # the same day in UTC


# --- once per fix ------------------------------------------------------------------------------

def test_a_fix_is_reported_only_at_its_first_failure(kb):
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-01-05")),
             inc("INC-2025-002", "2025-02-01 10:00", (X,)),
             inc("INC-2025-003", "2025-03-01 10:00", (X,), items=item(completed="2025-03-02")),
             inc("INC-2025-004", "2025-04-01 10:00", (X,)))
    r = recurrence(k)
    assert r["INC-2025-004"].recurrence_of == ("INC-2025-001", "INC-2025-002", "INC-2025-003")
    assert failures(k, "INC-2025-002") == [("INC-2025-001", 0, (X,), 27)]
    assert failures(k, "INC-2025-003") == []           # 001's fix already failed at 002
    assert failures(k, "INC-2025-004") == [("INC-2025-003", 0, (X,), 30)]
    assert [f.failure.at if f.failure else None for f in all_fixes(k)] == ["INC-2025-002", "INC-2025-004"]


def test_failed_fixes_are_ordered_by_the_fix_incident_then_action(kb):
    k = load(kb, inc("INC-2025-002", "2025-01-02 10:00", (X,), items=item(completed="2025-01-05", title="second")),
             inc("INC-2025-001", "2025-01-03 10:00", (Y, X),
                 items=item(completed="2025-01-06", title="b") + item(status="open") + item(completed="2025-01-04")),
             inc("INC-2025-009", "2025-02-01 10:00", (Z, X, Y)))
    # INC-2025-002 started first, so its fix comes first although its id is larger
    assert failures(k, "INC-2025-009") == [("INC-2025-002", 0, (X,), 27), ("INC-2025-001", 0, (X, Y), 26),
                                           ("INC-2025-001", 2, (X, Y), 28)]
    record = incident_record(k.by_id["INC-2025-009"], [], recurrence(k)["INC-2025-009"],
                             failed_fixes(k)["INC-2025-009"])
    assert record["failed_fixes"][1] == {"incident": "INC-2025-001", "action": 0, "title": "b", "categories": [X, Y]}
    assert record["recurs"] == [X, Y] and record["recurrence_of"] == ["INC-2025-002", "INC-2025-001"]


def test_addresses_naming_a_category_its_own_incident_does_not_have(kb):
    # 001's root cause is X; its item addresses Y and Z only. A later X incident is not a
    # failure of it; a later incident with Z and Y is, although it recurs neither (no
    # earlier incident had them): a fix did not hold when its problem came back to its
    # system, whether or not that is a recurrence of an incident.
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-01-10", addresses=(Y, Z))),
             inc("INC-2025-002", "2025-02-01 10:00", (X,)),
             inc("INC-2025-003", "2025-03-01 10:00", (Z, X, Y)))
    r = recurrence(k)
    assert r["INC-2025-002"].recurs == (X,) and failures(k, "INC-2025-002") == []
    assert r["INC-2025-003"].recurs == (X,)
    assert failures(k, "INC-2025-003") == [("INC-2025-001", 0, (Z, Y), 50)]   # in 003's order, X not addressed


def test_empty_addresses_address_nothing(kb):
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-01-10", addresses=())),
             inc("INC-2025-002", "2025-02-01 10:00", (X,)))
    assert failed_fixes(k) == {} and all_fixes(k)[0].failure is None


# --- ties and scope ----------------------------------------------------------------------------

def test_ties_in_started(kb):
    # Three incidents at the same instant: the smaller id is the earlier. The fix of 001 is
    # done before that day and fails at 002, not 003.
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2024-12-30")),
             inc("INC-2025-003", "2025-01-01 10:00", (X,)), inc("INC-2025-002", "2025-01-01 10:00", (X,)))
    r = recurrence(k)
    assert r["INC-2025-001"] == NO_RECURRENCE
    assert r["INC-2025-002"].recurrence_of == ("INC-2025-001",)
    assert r["INC-2025-003"].recurrence_of == ("INC-2025-001", "INC-2025-002")
    assert failures(k, "INC-2025-002") == [("INC-2025-001", 0, (X,), 2)]
    assert "INC-2025-003" not in failed_fixes(k)


def test_recurrence_scope_category(kb):
    incidents = (inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-01-10"),
                     systems="services: [web]"),
                 inc("INC-2025-002", "2025-02-01 10:00", (X,), systems="services: [db]"),
                 inc("INC-2025-003", "2025-03-01 10:00", (X,), systems=""))
    k = load(kb, *incidents)
    assert all(r == NO_RECURRENCE for r in recurrence(k).values()) and failed_fixes(k) == {}
    kb.write_config(recurrence_scope="category")
    k = kb.load()
    assert k.settings.recurrence_scope == "category"
    r = recurrence(k)
    assert r["INC-2025-002"] == IncidentRecurrence((X,), ("INC-2025-001",))
    assert r["INC-2025-003"] == IncidentRecurrence((X,), ("INC-2025-001", "INC-2025-002"))
    [f] = failed_fixes(k)["INC-2025-002"]
    assert (f.categories, f.systems, f.days) == ((X,), (), 22)
    t = trends(k, date(2025, 6, 1))
    assert t["recurrence_scope"] == "category" and t["overall"]["recurrences"] == 2


def test_recurrence_scope_setting_is_checked(tmp_path):
    assert Settings.from_options(tmp_path, {}).recurrence_scope == "system"
    with pytest.raises(SettingsError, match="recurrence_scope' must be one of system, category, got 'team'"):
        Settings.from_options(tmp_path, {"recurrence_scope": "team"})


# --- states of fixes and trends.json `fixes` -------------------------------------------------------

def _states_kb(kb):
    # 002 is 15 days after 001's prevention item: it did not hold. The detection item
    # addresses Y, which never comes back: pending until more than 30 days have passed
    # since 2024-01-10, held from 2024-02-10. A done item without a date is no fix; an
    # open one neither.
    items = (item(completed="2024-01-10", type="prevention") + item(completed="2024-01-10", addresses=(Y,), type="detection")
             + item(type="detection") + item(status="open", type="process"))
    return load(kb, inc("INC-2024-001", "2024-01-01 10:00", (X,), items=items),
                inc("INC-2024-002", "2024-01-25 10:00", (X,)), recurrence_window_days=30)


EMPTY = {"done": 0, "did_not_hold": 0, "held": 0, "pending": 0, "hold_rate": None}


@pytest.mark.parametrize("today, detection, overall", [
    # 30 days after 2024-01-10: the window is still open
    ("2024-02-09", {"done": 1, "did_not_hold": 0, "held": 0, "pending": 1, "hold_rate": None},
     {"done": 2, "did_not_hold": 1, "held": 0, "pending": 1, "hold_rate": 0.0}),
    # 31 days after: held
    ("2024-02-10", {"done": 1, "did_not_hold": 0, "held": 1, "pending": 0, "hold_rate": 1.0},
     {"done": 2, "did_not_hold": 1, "held": 1, "pending": 0, "hold_rate": 0.5}),
])
def test_held_and_pending_around_today_with_source_date_epoch(kb, monkeypatch, today, detection, overall):
    k = _states_kb(kb)
    noon = datetime.fromisoformat(today + "T12:00:00+00:00")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(noon.timestamp())))
    fixes = trends(k)["fixes"]
    assert fixes["overall"] == overall
    assert fixes["by_type"] == {
        "prevention": {"done": 1, "did_not_hold": 1, "held": 0, "pending": 0, "hold_rate": 0.0},
        "detection": detection,
        "mitigation": EMPTY,        # empty action types are present
        "process": EMPTY,           # an open item is no fix
    }
    assert trends(k, date.fromisoformat(today))["fixes"] == fixes


def test_fixes_of_a_knowledge_base_without_fixes(kb):
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(status="open")))
    assert trends(k, date(2025, 6, 1))["fixes"] == {"overall": EMPTY, "by_type": dict.fromkeys(
        ("prevention", "detection", "mitigation", "process"), EMPTY)}


def test_fix_counts_by_hand():
    d = date(2025, 1, 1)
    fixes = [Fix("A", 0, "prevention", d, None), Fix("A", 1, "prevention", d + timedelta(days=200), None),
             Fix("B", 0, "process", d, None)]
    # today 2026-01-02: 366 days after d (held), 166 after the second (pending)
    assert fix_counts(fixes, date(2026, 1, 2), 365) == {"done": 3, "did_not_hold": 0, "held": 2, "pending": 1,
                                                        "hold_rate": 1.0}
    assert fix_counts(fixes, date(2026, 1, 1), 365)["held"] == 0       # exactly 365 days: still pending


# --- validation ----------------------------------------------------------------------------------

FINAL = ("summary: s\ndetected: 2025-06-01 10:10\nresolved: 2025-06-01 11:00\n"
         "root_causes: [{category: data/schema-change, description: d}]\n")


@pytest.mark.parametrize("extra, warned", [
    ("", True),
    ("services: []", True),
    ("services: [api]", False),
    ("models: [{name: churn, version: '1'}]", False),
    ("datasets: [{name: events}]", False),
])
def test_final_incident_naming_no_system_warns(kb, extra, warned):
    text = incident_text(status="final", extra=FINAL + extra)
    result = check_file(text.encode(), "a.md", "incidents/a.md", Loader().rules(kb.settings))
    messages = [d.message for d in result.diagnostics]
    assert any("at least one affected system in 'services', 'models' or 'datasets'" in m for m in messages) is warned
    if warned:
        [d] = result.diagnostics
        assert d.severity == "warning" and (d.line, d.column) == (1, 1) and result.incident is not None
    # a draft is not asked
    draft = check_file(incident_text(status="draft", extra=FINAL).encode(), "a.md", "incidents/a.md",
                       Loader().rules(kb.settings))
    assert draft.diagnostics == []


# --- memo --------------------------------------------------------------------------------------

def test_memoised_figures_let_their_knowledge_base_go(kb):
    # `mkdocs serve` loads a new knowledge base on every rebuild: what is memoised on one
    # must not keep it alive, or every rebuild's incidents would stay in memory.
    import gc
    import weakref
    from pmkb.graph import related_for
    k = load(kb, inc("INC-2025-001", "2025-01-01 10:00", (X,), items=item(completed="2025-01-05")),
             inc("INC-2025-002", "2025-02-01 10:00", (X,)))
    assert failures(k, "INC-2025-002") == [("INC-2025-001", 0, (X,), 27)]
    assert [r.id for r in related_for(k)["INC-2025-002"]] == ["INC-2025-001"]
    trends(k)
    ref = weakref.ref(k)
    del k
    gc.collect()
    assert ref() is None


# --- brute force against the fast algorithm --------------------------------------------------------

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
CATS = ("a/1", "a/2", "b/1", "b/2")
NAMES = ("p", "q", "r")


def _model(n: int, started: datetime, cats: tuple[str, ...], items: list[tuple], services: tuple[str, ...] = (),
           models: tuple[str, ...] = (), datasets: tuple[str, ...] = ()) -> Incident:
    """A model incident built directly (no file): items are (status, completed, addresses)."""
    inc_id = f"INC-{n:04d}"
    own = tuple(dict.fromkeys(cats))
    actions = tuple(ActionItem("t", "prevention", "o", date(2025, 1, 1), status, completed, None,
                               tuple(addr) if addr is not None else own, pos)
                    for pos, (status, completed, addr) in enumerate(items))
    return Incident(id=inc_id, title="t", status="draft", severity="SEV3", started=started, detected=None,
                    mitigated=None, resolved=None, summary=None, detection=None, services=services, team=None,
                    authors=(), impact=None, users_affected=None, models=tuple(ModelRef(m, "1") for m in models),
                    datasets=tuple(DatasetRef(d, None) for d in datasets), dimensions=(),
                    root_causes=tuple(RootCause(c, "d") for c in cats), trigger=None, action_items=actions,
                    timeline=(), related=(), tags=(), front_matter={}, source=Source(f"{inc_id}.md", f"{inc_id}.md", "", 1, ""))


def brute_force(incidents: list[Incident], window_days: int, tz, scope: str):
    """SPEC section 6 read literally, over every pair."""
    window = timedelta(days=window_days)

    def share(a: Incident, b: Incident) -> bool:
        return scope == "category" or bool(set(systems(a)) & set(systems(b)))

    rec = {}
    for b in incidents:
        froms = [(a, c) for a in incidents for c in b.categories
                 if a.order_key < b.order_key and c in a.categories and b.started - a.started <= window and share(a, b)]
        recurs = tuple(c for c in b.categories if any(c == c2 for _, c2 in froms))
        earlier = tuple(a.id for a in incidents if any(a is a2 for a2, _ in froms))
        rec[b.id] = IncidentRecurrence(recurs, earlier)
    failed: dict[str, list] = {}
    for a in incidents:
        for it in a.action_items:
            if it.status != "done" or it.completed is None:
                continue
            for b in incidents:      # in (started, id) order: the first match is the one reported
                b_date = b.started.astimezone(tz).date()
                if (a.order_key < b.order_key and set(b.categories) & set(it.addresses) and share(a, b)
                        and it.completed < b_date <= it.completed + timedelta(days=window_days)):
                    failed.setdefault(b.id, []).append(
                        (a.id, it.position, tuple(c for c in b.categories if c in it.addresses),
                         (b_date - it.completed).days))
                    break
    for b_id in failed:
        order = {i.id: n for n, i in enumerate(incidents)}
        failed[b_id].sort(key=lambda f: (order[f[0]], f[1]))
    return rec, failed


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60), st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo"]),
       st.sampled_from(["system", "category"]))
def test_fast_recurrence_matches_the_definition(seed, window_days, zone_name, scope):
    from pmkb.timestamps import zone
    rng = random.Random(seed)
    tz = zone(zone_name)
    incidents = []
    for n in range(rng.randint(0, 30)):
        # coarse start times on purpose: many ties, many exact window boundaries
        started = T0 + timedelta(days=rng.randint(0, 120), hours=rng.choice([0, 3, 12, 23]))
        cats = tuple(rng.sample(CATS, rng.randint(0, 3)))
        items = []
        for _ in range(rng.randint(0, 3)):
            status = rng.choice(["done", "done", "open", "wont-do"])
            completed = (T0 + timedelta(days=rng.randint(0, 130))).date() if rng.random() < 0.8 else None
            addresses = tuple(rng.sample(CATS, rng.randint(0, 2))) if rng.random() < 0.3 else None
            items.append((status, completed, addresses))
        # the same few names as services, models and data sets: kinds must stay apart
        pick = lambda: tuple(rng.sample(NAMES, rng.choice([0, 0, 1, 1, 2])))  # noqa: E731
        incidents.append(_model(rng.randint(0, 9999) * 100 + n, started, cats, items, pick(), pick(), pick()))
    incidents.sort(key=lambda i: i.order_key)
    fast = compute_recurrence(incidents, window_days, tz, scope)
    slow_rec, slow_failed = brute_force(incidents, window_days, tz, scope)
    assert fast.incidents == slow_rec
    assert {b: [(f.incident, f.action, f.categories, f.days) for f in fs] for b, fs in fast.failed.items()} == slow_failed
    # every fix is listed once, with its failure if it has one
    listed = [(f.incident, f.action) for f in fast.fixes]
    assert len(listed) == len(set(listed))
    assert sum(f.failure is not None for f in fast.fixes) == sum(len(v) for v in slow_failed.values())


def test_failed_fixes_grow_with_the_fixes_not_the_square_of_incidents():
    # 10,000 incidents on 10 services, a third of them in one category, each with a done
    # fix: before the amendment the common category's latest incident listed thousands of
    # fixes. Now each fix is reported at most once.
    rng = random.Random(7)
    incidents = []
    for n in range(10_000):
        started = T0 + timedelta(minutes=rng.randint(0, 6 * 365 * 24 * 60))
        cats = ("a/1",) if rng.random() < 0.33 else (rng.choice(CATS[1:]),)
        incidents.append(_model(n, started, cats, [("done", (started + timedelta(days=20)).date(), None)],
                                services=(f"s{rng.randint(0, 9)}",)))
    incidents.sort(key=lambda i: i.order_key)
    data = compute_recurrence(incidents, 365, timezone.utc)
    total = sum(len(v) for v in data.failed.values())
    assert 0 < total <= len(data.fixes) == 10_000
    for b in rng.sample(incidents, 20):
        # spot check: every listed fix's incident is earlier, on the same service, same category
        for f in data.failed.get(b.id, ()):
            a = next(i for i in incidents if i.id == f.incident)
            assert a.order_key < b.order_key and a.services == b.services and a.categories == b.categories


def test_mkdocs_plugin_declares_recurrence_scope():
    from pmkb.mkdocs_plugin.config import PostmortemsConfig
    ok = PostmortemsConfig()
    ok.load_dict({})
    assert ok.validate() == ([], []) and ok["recurrence_scope"] == "system"
    bad = PostmortemsConfig()
    bad.load_dict({"recurrence_scope": "team"})
    errors, _ = bad.validate()
    assert [name for name, _ in errors] == ["recurrence_scope"]
