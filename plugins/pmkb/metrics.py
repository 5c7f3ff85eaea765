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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from itertools import chain
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

from .model import Incident
from .timestamps import minutes_between, shift

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


# --- recurrence --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IncidentRecurrence:
    recurs: tuple[str, ...]                     # categories it recurs, in root-cause order
    recurrence_of: tuple[str, ...]              # earlier incidents within the window, by (started, id)

    @property
    def is_recurrence(self) -> bool:
        return bool(self.recurs)


NO_RECURRENCE = IncidentRecurrence((), ())

FixPair = tuple[str, int]    # (incident id, position of the action item in its file)


class FailedFixes(Mapping[str, tuple[FixPair, ...]]):
    """`failed_fixes` of every incident (SPEC section 6), each worked out when asked for.

    By its definition the relation grows with the square of a category's size (a late
    incident of a common category lists every done fix of that category ever made: 13
    million pairs at 10,000 synthetic incidents). The pages and the trends need only
    `recurs`, so nothing of it is computed until incidents.json or an incident page asks,
    and then one incident at a time: the site build asks from its second process.
    """

    def __init__(self, incidents: list[Incident], day: list[int],
                 fixes: dict[str, "_CategoryFixes"], parts: dict[int, tuple[tuple[str, int], ...]]):
        self._incidents = incidents
        self._index = {inc.id: b for b, inc in enumerate(incidents)}
        self._day = day
        self._fixes = fixes
        self._parts = parts          # b -> ((category it recurs, fixes of earlier incidents), ...)

    def __getitem__(self, incident_id: str) -> tuple[FixPair, ...]:
        b = self._index[incident_id]
        parts = self._parts.get(b)
        if not parts:
            return ()
        day = self._day[b]
        if len(parts) == 1:
            cat, count = parts[0]
            return self._fixes[cat].before(count, day)
        merged: dict[int, FixPair] = {}
        for cat, count in parts:
            merged.update(self._fixes[cat].items_before(count, day))
        return tuple(map(merged.__getitem__, sorted(merged)))

    def __iter__(self) -> Iterator[str]:
        return (inc.id for inc in self._incidents)

    def __len__(self) -> int:
        return len(self._incidents)


class _CategoryFixes:
    """The done, dated action items addressing one category, in (incident, position) order."""

    def __init__(self) -> None:
        self.incident: list[int] = []     # index of the item's incident in (started, id) order
        self.key: list[int] = []          # (incident, position) as one sortable int
        self.done: list[int] = []         # completion day (ordinal)
        self.pair: list[FixPair] = []
        self.latest: list[int] = []       # latest completion day among the first k+1 items

    def add(self, a: int, key: int, done: int, pair: FixPair) -> None:
        self.incident.append(a)
        self.key.append(key)
        self.done.append(done)
        self.pair.append(pair)
        self.latest.append(max(done, self.latest[-1]) if self.latest else done)

    def _split(self, count: int, day: int) -> tuple[int, list[int]]:
        """Of the first `count` items, those completed before `day`: all of the first j
        (the running maximum says so), and these of the rest."""
        j = bisect_left(self.latest, day, 0, count)
        done = self.done
        return j, [k for k in range(j, count) if done[k] < day]

    def before(self, count: int, day: int) -> tuple[FixPair, ...]:
        j, rest = self._split(count, day)
        return tuple(self.pair[:j]) + tuple(map(self.pair.__getitem__, rest))

    def items_before(self, count: int, day: int) -> Iterable[tuple[int, FixPair]]:
        j, rest = self._split(count, day)
        return chain(zip(self.key[:j], self.pair[:j]), ((self.key[k], self.pair[k]) for k in rest))


def recurrence(kb: "KnowledgeBase") -> dict[str, IncidentRecurrence]:
    """Recurrence of every incident (SPEC section 6).

    Memoised per knowledge base object: the site asks for it from many pages.
    """
    return _recurrence(kb)[0]


def failed_fixes(kb: "KnowledgeBase") -> FailedFixes:
    """Fixes that did not hold, per incident (SPEC sections 6 and 7), computed on demand."""
    return _recurrence(kb)[1]


def _recurrence(kb: "KnowledgeBase") -> tuple[dict[str, IncidentRecurrence], FailedFixes]:
    return memo(kb, "recurrence", lambda: compute_recurrence(
        kb.incidents, kb.settings.recurrence_window_days, kb.settings.tz))


def compute_recurrence(incidents: list[Incident], window_days: int,
                       tz: tzinfo) -> tuple[dict[str, IncidentRecurrence], FailedFixes]:
    """The work behind `recurrence` and `failed_fixes`, on incidents ordered by (started, id).

    Incidents are grouped by category and each category is walked once, in order, the
    window's first incident found by bisection on start times. A fix counts for B when its
    incident is earlier than B and it was completed before B's date: per category the
    fixes are kept in incident order, so the first bound is a prefix, found by bisection,
    and the second a filter that `FailedFixes` applies when asked (usually to nothing: a
    running maximum of completion days tells when the whole prefix was done in time).
    """
    ids = [inc.id for inc in incidents]
    day = [local_date(inc.started, tz).toordinal() for inc in incidents]
    members: dict[str, list[int]] = defaultdict(list)
    for b, inc in enumerate(incidents):
        for cat in inc.categories:
            members[cat].append(b)
    width = 1 + max((len(inc.action_items) for inc in incidents), default=0)
    # Per category, done items with a completion date that address it (from any incident:
    # `addresses` may name categories the incident itself does not have).
    fixes: dict[str, _CategoryFixes] = defaultdict(_CategoryFixes)
    for a, inc in enumerate(incidents):
        for item in inc.action_items:
            if item.status == "done" and item.completed is not None:
                pair = (inc.id, item.position)
                for cat in dict.fromkeys(item.addresses):
                    fixes[cat].add(a, a * width + item.position, item.completed.toordinal(), pair)

    # b -> category it recurs -> (first index of the window in members[category], b's index there)
    found: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for cat, idx in members.items():
        starts = [incidents[b].started for b in idx]
        for k, b in enumerate(idx):
            lo = bisect_left(starts, shift(incidents[b].started, -window_days), 0, k)
            if lo < k:
                found[b][cat] = (lo, k)

    result: dict[str, IncidentRecurrence] = {}
    parts: dict[int, tuple[tuple[str, int], ...]] = {}
    for b, inc in enumerate(incidents):
        mine = found.get(b)
        if not mine:
            result[inc.id] = NO_RECURRENCE
            continue
        recurs = tuple(c for c in inc.categories if c in mine)
        if len(recurs) == 1:
            lo, k = mine[recurs[0]]
            earlier = tuple(map(ids.__getitem__, members[recurs[0]][lo:k]))
        else:
            # set() and sorted() on ints keep this in C
            earlier_idx = sorted(set().union(*(members[c][slice(*mine[c])] for c in recurs)))
            earlier = tuple(map(ids.__getitem__, earlier_idx))
        result[inc.id] = IncidentRecurrence(recurs, earlier)
        counted = tuple((c, bisect_left(fixes[c].incident, b)) for c in recurs if c in fixes)
        if any(n for _, n in counted):
            parts[b] = tuple((c, n) for c, n in counted if n)
    return result, FailedFixes(incidents, day, dict(fixes), parts)


@dataclass(frozen=True, slots=True)
class FixOutcome:
    """A done action item that did not hold, seen from the item (for the ledger and the
    category pages): which later incidents recurred a category it addresses."""
    incident: str                               # incident A
    position: int                               # the item's position in A's action_items
    categories: tuple[tuple[str, int], ...]     # (category, later incidents recurring it), in `addresses` order
    later_count: int                            # distinct later incidents it did not prevent
    first_later: tuple[str, ...]                # the earliest of them, up to FIRST_LATER


FIRST_LATER = 5


def fix_outcomes(kb: "KnowledgeBase") -> dict[tuple[str, int], FixOutcome]:
    """Every done item that did not hold, keyed by (incident id, position), in (started,
    id) and position order. The same relation as `failed_fixes`, indexed the other way."""
    return memo(kb, "fix_outcomes", lambda: compute_fix_outcomes(kb.incidents, recurrence(kb), kb.settings.tz))


def compute_fix_outcomes(incidents: list[Incident], rec: dict[str, IncidentRecurrence],
                         tz: tzinfo) -> dict[tuple[str, int], FixOutcome]:
    # For an item of A completed on day d, the later incidents that recur category C past
    # it are those recurring C that come after A and start after d: as both orders agree,
    # that is a suffix of the incidents recurring C, found by two bisections.
    recurring: dict[str, list[int]] = defaultdict(list)
    for b, inc in enumerate(incidents):
        for cat in rec[inc.id].recurs:
            recurring[cat].append(b)
    days = {cat: [local_date(incidents[b].started, tz).toordinal() for b in idx] for cat, idx in recurring.items()}
    out: dict[tuple[str, int], FixOutcome] = {}
    for a, inc in enumerate(incidents):
        for item in inc.action_items:
            if item.status != "done" or item.completed is None:
                continue
            done = item.completed.toordinal()
            suffixes = []
            for cat in dict.fromkeys(item.addresses):
                idx = recurring.get(cat)
                if not idx:
                    continue
                start = max(bisect_right(idx, a), bisect_right(days[cat], done))
                if start < len(idx):
                    suffixes.append((cat, idx[start:]))
            if not suffixes:
                continue
            if len(suffixes) == 1:
                later = suffixes[0][1]
                count, first = len(later), later[:FIRST_LATER]
            else:
                count = len(set().union(*(s for _, s in suffixes)))
                first = sorted(set().union(*(s[:FIRST_LATER] for _, s in suffixes)))[:FIRST_LATER]
            out[(inc.id, item.position)] = FixOutcome(
                inc.id, item.position, tuple((c, len(s)) for c, s in suffixes), count,
                tuple(incidents[b].id for b in first))
    return out


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
