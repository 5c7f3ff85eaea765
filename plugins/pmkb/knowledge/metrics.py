"""Metrics of SPEC section 6, as plain functions of incidents: durations, their
summaries (n, mean, median, p90), months and quarters, and the figures of a group.

Everything here is data in, data out: the trend pages, the category and incident pages
and the JSON exports all read the same numbers, so they can never disagree. Recurrence
and fixes that did not hold are in recurrence.py, the whole of trends.json in
trend_figures.py.
"""

from __future__ import annotations

import math
import statistics
import weakref
from collections.abc import Callable, Iterable
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar

from ..incidents.model import Incident
from ..reading.timestamps import minutes_between

if TYPE_CHECKING:
    pass

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
