"""Recurrence and fixes that did not hold (SPEC section 6): which incidents bring back a
root cause on the same system, and which done action items failed to keep it away.

Worked out once per knowledge base (`recurrence_data`, memoised) in time that grows with
the pairs that count, not with the square of the incidents.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import TYPE_CHECKING, Any

from ..incidents.model import Incident
from ..reading.timestamps import shift
from .metrics import local_date, memo

if TYPE_CHECKING:
    from .kb import KnowledgeBase


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
    sys_of = [systems(inc) for inc in incidents] if by_system else []

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
                group = groups.get(key)
                if group is None:
                    continue
                pos = max(bisect_right(group, a), bisect_right(g_days[key], d))
                if pos < len(group) and day[group[pos]] <= d + window_days and (first is None or group[pos] < first):
                    first = group[pos]
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


