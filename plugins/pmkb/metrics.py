"""Metrics of SPEC section 6, as plain functions of incidents and the knowledge base.

Everything here is data in, data out: the trend pages, the category and incident pages
and the JSON exports all read the same numbers, so they can never disagree.
"""

from __future__ import annotations

import math
import statistics
import weakref
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

from .model import Incident
from .timestamps import minutes_between

if TYPE_CHECKING:
    from .kb import KnowledgeBase

DURATIONS = ("time_to_detect", "time_to_diagnose", "time_to_mitigate", "time_to_resolve")


def durations(incident: Incident) -> dict[str, float | None]:
    """The four durations of one incident, in minutes; None where a timestamp is missing."""
    s, d = incident.started, incident.detected
    diagnose = None
    if d is not None:
        at = [e.at for e in incident.timeline if e.kind == "diagnosis" and e.at >= d]
        diagnose = minutes_between(d, min(at)) if at else None
    return {
        "time_to_detect": minutes_between(s, d) if d else None,
        "time_to_diagnose": diagnose,
        "time_to_mitigate": minutes_between(s, incident.mitigated) if incident.mitigated else None,
        "time_to_resolve": minutes_between(s, incident.resolved) if incident.resolved else None,
    }


# --- summaries ---------------------------------------------------------------------------

def percentile(sorted_values: list[float], q: float) -> float:
    """NumPy's default percentile ('linear': interpolation between closest ranks).

    The arithmetic follows NumPy's own steps (virtual index (n-1)*q/100, and its lerp that
    counts back from the upper neighbour when the fraction is >= 0.5), so results agree with
    numpy.percentile to the last bit rather than merely to rounding.
    """
    n = len(sorted_values)
    if n == 0:
        raise ValueError("percentile of no values")
    index = (n - 1) * (q / 100)
    lo = math.floor(index)
    lo = min(max(lo, 0), n - 1)
    hi = min(lo + 1, n - 1)
    t = index - lo
    a, b = sorted_values[lo], sorted_values[hi]
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def summarize(values: Iterable[float | None]) -> dict[str, Any]:
    """{n, mean, median, p90} of the values that are present (None is skipped)."""
    present = sorted(v for v in values if v is not None)
    if not present:
        return {"n": 0, "mean": None, "median": None, "p90": None}
    return {
        "n": len(present),
        "mean": math.fsum(present) / len(present),
        "median": statistics.median(present),
        "p90": percentile(present, 90),
    }


# --- calendar ----------------------------------------------------------------------------

def local_date(dt: datetime, tz: tzinfo) -> date:
    return dt.astimezone(tz).date()


def month_key(dt: datetime, tz: tzinfo) -> str:
    local = dt.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def quarter_key(dt: datetime, tz: tzinfo) -> str:
    local = dt.astimezone(tz)
    return f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}"


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` ("2025-06"), both included."""
    y, m = int(first[:4]), int(first[5:7])
    ly, lm = int(last[:4]), int(last[5:7])
    out = []
    while (y, m) <= (ly, lm):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def quarter_range(first: str, last: str) -> list[str]:
    """Every quarter from `first` to `last` ("2025-Q2"), both included."""
    y, q = int(first[:4]), int(first[6])
    ly, lq = int(last[:4]), int(last[6])
    out = []
    while (y, q) <= (ly, lq):
        out.append(f"{y:04d}-Q{q}")
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


# --- recurrence --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IncidentRecurrence:
    recurs: tuple[str, ...]                     # categories it recurs, in root-cause order
    recurrence_of: tuple[str, ...]              # earlier incidents within the window, by (started, id)
    failed_fixes: tuple[tuple[str, int], ...]   # (earlier incident id, action item position)

    @property
    def is_recurrence(self) -> bool:
        return bool(self.recurs)


NO_RECURRENCE = IncidentRecurrence((), (), ())


def recurrence(kb: "KnowledgeBase") -> dict[str, IncidentRecurrence]:
    """Recurrence and fixes that did not hold, for every incident (SPEC section 6).

    Memoised per knowledge base object: the site asks for it from many pages.
    """
    return memo(kb, "recurrence", lambda: compute_recurrence(
        kb.incidents, kb.settings.recurrence_window_days, kb.settings.tz))


def compute_recurrence(incidents: list[Incident], window_days: int, tz: tzinfo) -> dict[str, IncidentRecurrence]:
    """The work behind `recurrence`, on incidents ordered by (started, id).

    Incidents are grouped by category, so each incident is compared only with earlier ones
    of its own categories; the window's start is found by bisection on start times. The
    output itself can be large (an incident may recur thousands of others), but no work
    is spent on pairs that share nothing.
    """
    window = timedelta(days=window_days)
    # Per category, in (started, id) order: the incidents that have it as a root cause...
    members: dict[str, list[int]] = defaultdict(list)
    for i, inc in enumerate(incidents):
        for cat in inc.categories:
            members[cat].append(i)
    starts = {cat: [incidents[i].started for i in idx] for cat, idx in members.items()}
    # ...and the done items with a completion date that address it (any incident, not
    # only those that have the category: `addresses` may point elsewhere).
    fixes: dict[str, list[tuple[int, date, int]]] = defaultdict(list)
    for i, inc in enumerate(incidents):
        for item in inc.action_items:
            if item.status == "done" and item.completed is not None:
                for cat in dict.fromkeys(item.addresses):
                    fixes[cat].append((i, item.completed, item.position))
    fix_owner = {cat: [f[0] for f in lst] for cat, lst in fixes.items()}

    rank_in: dict[str, dict[int, int]] = {cat: {g: k for k, g in enumerate(idx)} for cat, idx in members.items()}
    result: dict[str, IncidentRecurrence] = {}
    for b, inc in enumerate(incidents):
        recurs: list[str] = []
        earlier_sets: list[list[int]] = []
        failed: set[tuple[int, int]] = set()
        b_date = local_date(inc.started, tz)
        for cat in inc.categories:
            k = rank_in[cat][b]
            lo = bisect_left(starts[cat], inc.started - window, 0, k)
            if lo >= k:
                continue
            recurs.append(cat)
            earlier_sets.append(members[cat][lo:k])
            cat_fixes = fixes.get(cat)
            if cat_fixes:
                # Fixes of incidents earlier than B: a prefix of the list, as both follow
                # the global order.
                end = bisect_left(fix_owner[cat], b)
                failed.update((a, pos) for a, done_on, pos in cat_fixes[:end] if done_on < b_date)
        if not recurs:
            result[inc.id] = NO_RECURRENCE
            continue
        if len(earlier_sets) == 1:
            earlier = earlier_sets[0]
        else:
            earlier = sorted(set().union(*earlier_sets))
        result[inc.id] = IncidentRecurrence(
            recurs=tuple(recurs),
            recurrence_of=tuple(incidents[a].id for a in earlier),
            failed_fixes=tuple((incidents[a].id, pos) for a, pos in sorted(failed)),
        )
    return result


@dataclass(frozen=True, slots=True)
class FailedFix:
    """One fix that did not hold, spelled out for pages: A's item, and the B it failed to prevent."""
    earlier: str          # incident A's id
    position: int         # the item's position in A's action_items
    later: str            # incident B's id
    categories: tuple[str, ...]   # categories B recurs that the item addresses


def failed_fix_list(kb: "KnowledgeBase") -> list[FailedFix]:
    """Every (A item, B) pair that did not hold, B in (started, id) order, then A's order."""
    def build() -> list[FailedFix]:
        rec = recurrence(kb)
        out = []
        for inc in kb.incidents:
            r = rec[inc.id]
            for a_id, pos in r.failed_fixes:
                item = kb.by_id[a_id].action_items[pos]
                cats = tuple(c for c in r.recurs if c in item.addresses)
                out.append(FailedFix(a_id, pos, inc.id, cats))
        return out
    return memo(kb, "failed_fix_list", build)


# --- groups ------------------------------------------------------------------------------

def group_stats(incidents: Iterable[Incident], recurring_ids: set[str] | frozenset[str] | dict,
                durations_of: Callable[[Incident], dict[str, float | None]] = durations) -> dict[str, Any]:
    """One group object of trends.json: counts, recurrence rate and the four summaries.

    `recurring_ids` are the ids that count as recurrences in this group (for a category
    group: the incidents that recur that very category). `durations_of` lets callers pass
    a memoised `durations`.
    """
    incidents = list(incidents)
    count = len(incidents)
    recurrences = sum(1 for i in incidents if i.id in recurring_ids)
    per = [durations_of(i) for i in incidents]
    out: dict[str, Any] = {
        "incidents": count,
        "recurrences": recurrences,
        "recurrence_rate": recurrences / count if count else None,
    }
    for key in DURATIONS:
        out[key] = summarize(d[key] for d in per)
    return out


def trends(kb: "KnowledgeBase") -> dict[str, Any]:
    """The trends.json structure of SPEC section 7."""
    return memo(kb, "trends", lambda: _trends(kb))


def _trends(kb: "KnowledgeBase") -> dict[str, Any]:
    tz = kb.settings.tz
    incidents = kb.incidents
    rec = recurrence(kb)
    recurring = {i for i, r in rec.items() if r.recurs}
    cache = {i.id: durations(i) for i in incidents}

    def stats(group: Iterable[Incident], ids: set[str] = recurring) -> dict[str, Any]:
        return group_stats(group, ids, lambda i: cache[i.id])

    by_month: dict[str, list[Incident]] = defaultdict(list)
    by_quarter: dict[str, list[Incident]] = defaultdict(list)
    by_severity: dict[str, list[Incident]] = defaultdict(list)
    by_category: dict[str, list[Incident]] = defaultdict(list)
    by_service: dict[str, list[Incident]] = defaultdict(list)
    for inc in incidents:
        by_month[month_key(inc.started, tz)].append(inc)
        by_quarter[quarter_key(inc.started, tz)].append(inc)
        by_severity[inc.severity].append(inc)
        for cat in inc.categories:
            by_category[cat].append(inc)
        for svc in dict.fromkeys(inc.services):
            by_service[svc].append(inc)

    months = month_range(min(by_month), max(by_month)) if by_month else []
    quarters = quarter_range(min(by_quarter), max(by_quarter)) if by_quarter else []
    severities = [s.id for s in kb.taxonomy.severities]
    severities += sorted(set(by_severity) - set(severities))  # never drop an incident
    categories = list(kb.taxonomy.categories)
    categories += sorted(set(by_category) - set(categories))
    recurs_cat: dict[str, set[str]] = defaultdict(set)
    for inc_id, r in rec.items():
        for cat in r.recurs:
            recurs_cat[cat].add(inc_id)

    return {
        "timezone": kb.settings.timezone,
        "recurrence_window_days": kb.settings.recurrence_window_days,
        "overall": stats(incidents),
        "by_month": {m: stats(by_month.get(m, ())) for m in months},
        "by_quarter": {q: stats(by_quarter.get(q, ())) for q in quarters},
        "by_severity": {s: stats(by_severity.get(s, ())) for s in severities},
        "by_category": {c: stats(by_category.get(c, ()), recurs_cat.get(c, set())) for c in categories},
        "by_service": {s: stats(by_service[s]) for s in sorted(by_service)},
    }


# --- memo --------------------------------------------------------------------------------

T = TypeVar("T")
_MEMO: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}


def memo(kb: Any, name: str, build: Callable[[], T]) -> T:
    """Compute once per knowledge-base object: the site asks for the same figures from
    thousands of pages. A `mkdocs serve` rebuild loads a new KnowledgeBase object, so
    nothing stale survives; entries die with their knowledge base."""
    key = id(kb)
    entry = _MEMO.get(key)
    if entry is None or entry[0]() is not kb:
        def forget(ref: weakref.ref, key: int = key) -> None:
            if _MEMO.get(key, (None,))[0] is ref:
                del _MEMO[key]
        ref = weakref.ref(kb, forget)
        entry = (ref, {})
        _MEMO[key] = entry
    store = entry[1]
    if name not in store:
        store[name] = build()
    return store[name]
