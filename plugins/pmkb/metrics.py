"""Metrics of SPEC section 6, as plain functions of incidents and the knowledge base.

Everything here is data in, data out: the trend pages, the category and incident pages
and the JSON exports all read the same numbers, so they can never disagree.
"""

from __future__ import annotations

import math
import statistics
import weakref
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

from .model import Incident
from .timestamps import minutes_between, shift
from .timestamps import today as current_date

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


# Longest run of months (and of quarters) listed with the empty ones in between: beyond it
# (a typo year such as 0202 among incidents of 2025), only the ones that have incidents are
# listed, so the trends cannot grow to tens of thousands of empty groups. Loading warns of
# such a start date.
MAX_RANGE = 1200


def month_range(first: str, last: str, present: Iterable[str] = ()) -> list[str]:
    """Every month from `first` to `last` ("2025-06"), both included; when that is more than
    MAX_RANGE months, only `first`, `last` and the `present` ones."""
    y, m = int(first[:4]), int(first[5:7])
    ly, lm = int(last[:4]), int(last[5:7])
    if (ly - y) * 12 + lm - m >= MAX_RANGE:
        return sorted({first, last, *present})
    out = []
    while (y, m) <= (ly, lm):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def quarter_range(first: str, last: str, present: Iterable[str] = ()) -> list[str]:
    """Every quarter from `first` to `last` ("2025-Q2"), both included; when that is more
    than MAX_RANGE quarters, only `first`, `last` and the `present` ones."""
    y, q = int(first[:4]), int(first[6])
    ly, lq = int(last[:4]), int(last[6])
    if (ly - y) * 4 + lq - q >= MAX_RANGE:
        return sorted({first, last, *present})
    out = []
    while (y, q) <= (ly, lq):
        out.append(f"{y:04d}-Q{q}")
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


# --- systems -----------------------------------------------------------------------------

System = tuple[str, str]     # (kind, name): kind is "service", "model" or "dataset"
SYSTEM_KINDS = ("service", "model", "dataset")
SCOPES = ("system", "category")


def systems(incident: Incident) -> tuple[System, ...]:
    """The incident's systems (SPEC section 6): its services, then the names of its models,
    then the names of its data sets, without repeats. The kind is part of the system, so a
    service and a model of the same name are two systems."""
    out = [("service", s) for s in incident.services]
    out += [("model", m.name) for m in incident.models]
    out += [("dataset", d.name) for d in incident.datasets]
    return tuple(dict.fromkeys(out))


def shared_systems(a: Incident, b: Incident) -> tuple[System, ...]:
    """The systems `a` and `b` have in common, in `b`'s order."""
    mine = set(systems(a))
    return tuple(s for s in systems(b) if s in mine)


def system_label(system: System) -> str:
    """How a page names a system: the bare name for a service (the usual case), the kind
    before it for a model or a data set ("model churn-model")."""
    kind, name = system
    return name if kind == "service" else f"{kind} {name}"


# --- recurrence --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IncidentRecurrence:
    recurs: tuple[str, ...]                     # categories it recurs, in root-cause order
    recurrence_of: tuple[str, ...]              # earlier incidents it recurs a category from, by (started, id)

    @property
    def is_recurrence(self) -> bool:
        return bool(self.recurs)


NO_RECURRENCE = IncidentRecurrence((), ())

FixPair = tuple[str, int]    # (incident id, position of the action item in its file)


@dataclass(frozen=True, slots=True)
class FixFailure:
    """Where a fix did not hold (SPEC section 6): the first later incident on a shared
    system with a category the fix addressed, within the window after its completion."""
    incident: str                      # the fix's incident (A)
    action: int                        # the item's 0-based position in A's action_items
    title: str
    type: str
    completed: date
    at: str                            # the incident where it did not hold (B)
    categories: tuple[str, ...]        # B's root-cause categories the fix addressed, in B's order
    systems: tuple[System, ...]        # the systems A and B share, in B's order (empty under category scope)
    days: int                          # from the completion date to B's start date

    @property
    def pair(self) -> FixPair:
        return (self.incident, self.action)


@dataclass(frozen=True, slots=True)
class Fix:
    """A done action item with a completion date, and where it did not hold, if it did not."""
    incident: str
    action: int
    type: str
    completed: date
    failure: FixFailure | None

    def state(self, today: date, window_days: int) -> str:
        """`did_not_hold`, `held` (more than the window has passed since its completion
        without a failure) or `pending` (the window is still open)."""
        if self.failure is not None:
            return "did_not_hold"
        return "held" if (today - self.completed).days > window_days else "pending"


@dataclass(frozen=True)
class Recurrence:
    """Everything recurrence-related of one knowledge base, computed together."""
    scope: str
    window_days: int
    incidents: dict[str, IncidentRecurrence]
    fixes: list[Fix]                                  # every fix, by its incident's (started, id), then position
    failed: dict[str, tuple[FixFailure, ...]]         # B id -> fixes that did not hold there (only B with some)


def recurrence(kb: "KnowledgeBase") -> dict[str, IncidentRecurrence]:
    """Recurrence of every incident (SPEC section 6). Memoised per knowledge base object:
    the site asks for it from many pages."""
    return recurrence_data(kb).incidents


def failed_fixes(kb: "KnowledgeBase") -> dict[str, tuple[FixFailure, ...]]:
    """Fixes that did not hold, per incident where they did not hold (SPEC sections 6 and
    7); an incident with none is absent. Each fix appears at most once in all of it."""
    return recurrence_data(kb).failed


def all_fixes(kb: "KnowledgeBase") -> list[Fix]:
    """Every fix of the knowledge base, held, pending or not, in incident and position order."""
    return recurrence_data(kb).fixes


def recurrence_data(kb: "KnowledgeBase") -> Recurrence:
    s = kb.settings
    return memo(kb, "recurrence", lambda: compute_recurrence(
        kb.incidents, s.recurrence_window_days, s.tz, s.recurrence_scope))


def compute_recurrence(incidents: list[Incident], window_days: int, tz: tzinfo,
                       scope: str = "system") -> Recurrence:
    """The work behind `recurrence` and the fixes, on incidents ordered by (started, id).

    Incidents are grouped by key: (system, category) under `system` scope, the category
    alone under `category` scope. Two incidents that share a key share a system and a
    category, and every pair that counts shares at least one key, so recurrence and fixes
    look only inside groups. Within a group the incidents are in (started, id) order,
    which is also the order of their start times and of their local start dates, so each
    bound is a bisection:

    - B recurs C from the incidents of a (system, C) group of B that are before B and
      started at most the window earlier: a slice.
    - A fix of A completed on day d fails in a group of (A's system, a category it
      addresses) at the first incident that is after A and starts after day d: the later
      of two bisections. It did not hold at the earliest such incident over its groups,
      if that one starts at most the window after d.

    The work grows with the pairs that count, not with the square of the incidents.
    """
    if scope not in SCOPES:
        raise ValueError(f"recurrence scope must be one of {SCOPES}, got {scope!r}")
    ids = [inc.id for inc in incidents]
    starts = [inc.started for inc in incidents]
    day = [local_date(inc.started, tz).toordinal() for inc in incidents]
    by_system = scope == "system"
    sys_of = [systems(inc) for inc in incidents] if by_system else None

    def keys(b: int, categories: Iterable[str]) -> Iterator[Any]:
        if by_system:
            return ((s, c) for c in categories for s in sys_of[b])
        return iter(categories)

    groups: dict[Any, list[int]] = defaultdict(list)
    for b, inc in enumerate(incidents):
        for key in keys(b, inc.categories):
            groups[key].append(b)

    # Recurrence: per group, each member's earlier members within the window.
    found: dict[int, dict[str, list[list[int]]]] = defaultdict(dict)
    for key, members in groups.items():
        if len(members) < 2:
            continue
        cat = key[1] if by_system else key
        g_starts = [starts[b] for b in members]
        for k in range(1, len(members)):
            b = members[k]
            lo = bisect_left(g_starts, shift(starts[b], -window_days), 0, k)
            if lo < k:
                found[b].setdefault(cat, []).append(members[lo:k])

    result: dict[str, IncidentRecurrence] = {}
    for b, inc in enumerate(incidents):
        mine = found.get(b)
        if not mine:
            result[inc.id] = NO_RECURRENCE
            continue
        recurs = tuple(c for c in inc.categories if c in mine)
        slices = [s for c in recurs for s in mine[c]]
        earlier = slices[0] if len(slices) == 1 else sorted(set().union(*slices))
        result[inc.id] = IncidentRecurrence(recurs, tuple(map(ids.__getitem__, earlier)))

    # Fixes: per fix, its first failure over its groups.
    g_days = {key: [day[b] for b in members] for key, members in groups.items()}
    fixes: list[Fix] = []
    failed: dict[int, list[FixFailure]] = defaultdict(list)
    for a, inc in enumerate(incidents):
        for item in inc.action_items:
            if item.status != "done" or item.completed is None:
                continue
            d = item.completed.toordinal()
            first = None
            for key in keys(a, dict.fromkeys(item.addresses)):
                members = groups.get(key)
                if members is None:
                    continue
                pos = max(bisect_right(members, a), bisect_right(g_days[key], d))
                if pos < len(members) and day[members[pos]] <= d + window_days and (first is None or members[pos] < first):
                    first = members[pos]
            failure = None
            if first is not None:
                b_inc = incidents[first]
                addressed = set(item.addresses)
                failure = FixFailure(
                    inc.id, item.position, item.title, item.type, item.completed, b_inc.id,
                    tuple(c for c in b_inc.categories if c in addressed),
                    shared_systems(inc, b_inc) if by_system else (), day[first] - d)
                failed[first].append(failure)
            fixes.append(Fix(inc.id, item.position, item.type, item.completed, failure))
    # Fixes were visited in (A order, position): each B's list is already in that order.
    return Recurrence(scope, window_days, result, fixes, {ids[b]: tuple(f) for b, f in sorted(failed.items())})


FIX_STATES = ("did_not_hold", "held", "pending")
ACTION_TYPES = ("prevention", "detection", "mitigation", "process")


def fix_counts(fixes: Iterable[Fix], today: date, window_days: int) -> dict[str, Any]:
    """`{done, did_not_hold, held, pending, hold_rate}` of a set of fixes: `done` counts
    them all (a fix is a done item with a completion date); the hold rate is held over
    held and did not hold, None when both are 0 (pending fixes have not had their chance)."""
    counts = dict.fromkeys(FIX_STATES, 0)
    total = 0
    for fix in fixes:
        counts[fix.state(today, window_days)] += 1
        total += 1
    decided = counts["held"] + counts["did_not_hold"]
    return {"done": total, **counts, "hold_rate": counts["held"] / decided if decided else None}


def fixes_summary(kb: "KnowledgeBase", today: date) -> dict[str, Any]:
    """The `fixes` object of trends.json: overall and per action type, every type of
    ACTION_TYPES present (and any other that occurs, after them)."""
    data = recurrence_data(kb)
    by_type: dict[str, list[Fix]] = defaultdict(list)
    for fix in data.fixes:
        by_type[fix.type].append(fix)
    types = list(ACTION_TYPES) + sorted(set(by_type) - set(ACTION_TYPES))
    return {"overall": fix_counts(data.fixes, today, data.window_days),
            "by_type": {t: fix_counts(by_type.get(t, ()), today, data.window_days) for t in types}}


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


def trends(kb: "KnowledgeBase", today: date | None = None) -> dict[str, Any]:
    """The trends.json structure of SPEC section 7. `today` (for pending fixes) defaults to
    the build date of the knowledge base's time zone, or that of SOURCE_DATE_EPOCH."""
    if today is None:
        today = current_date(kb.settings.tz)
    return memo(kb, f"trends@{today.isoformat()}", lambda: _trends(kb, today))


def _trends(kb: "KnowledgeBase", today: date) -> dict[str, Any]:
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

    months = month_range(min(by_month), max(by_month), by_month) if by_month else []
    quarters = quarter_range(min(by_quarter), max(by_quarter), by_quarter) if by_quarter else []
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
        "recurrence_scope": recurrence_data(kb).scope,
        "overall": stats(incidents),
        "by_month": {m: stats(by_month.get(m, ())) for m in months},
        "by_quarter": {q: stats(by_quarter.get(q, ())) for q in quarters},
        "by_severity": {s: stats(by_severity.get(s, ())) for s in severities},
        "by_category": {c: stats(by_category.get(c, ()), recurs_cat.get(c, set())) for c in categories},
        "by_service": {s: stats(by_service[s]) for s in sorted(by_service)},
        "fixes": fixes_summary(kb, today),
    }


# --- memo --------------------------------------------------------------------------------

T = TypeVar("T")
_MEMO: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}


def memo(kb: Any, name: str, build: Callable[[], T]) -> T:
    """Compute once per knowledge-base object: the site asks for the same figures from
    thousands of pages. A `mkdocs serve` rebuild loads a new KnowledgeBase object, so
    nothing stale survives; entries die with their knowledge base, so what is stored must
    not refer to the knowledge base itself (it would never die)."""
    key = id(kb)
    entry = _MEMO.get(key)
    if entry is None or entry[0]() is not kb:
        def forget(ref: weakref.ref, key: int = key, table: dict = _MEMO) -> None:
            if table.get(key, (None,))[0] is ref:
                del table[key]
        ref = weakref.ref(kb, forget)
        entry = (ref, {})
        _MEMO[key] = entry
    store = entry[1]
    if name not in store:
        store[name] = build()
    return store[name]
