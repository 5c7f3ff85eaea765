"""Which overdue action items matter most, and whose they are.

An overdue item (open or in progress, due before "today") ranks by
1. the severity of its incident, most severe first (an unrated severity after every rated
   one: nothing says how severe it was);
2. whether the problem it addresses came back since it was due: a later incident, started
   after the due date (local date), has a root-cause category the item addresses and
   shares a system with the item's incident ("came back since"; under
   `recurrence_scope: category` any later incident counts), those first;
3. days overdue, most first; then incident order and position, so ties are stable.

Teams come from the taxonomy's optional `teams` list (an owner is a person in a team, or
the team's id itself); owners in no team are "no team recorded".
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Callable

from .metrics import local_date, systems
from .model import ActionItem, Incident

if TYPE_CHECKING:
    from .kb import KnowledgeBase

NO_TEAM = "no team recorded"


@dataclass(frozen=True)
class OverdueItem:
    incident: Incident
    item: ActionItem
    days: int                         # days past its due date
    came_back: tuple[str, ...]        # later incidents since the due date that recur what it addresses
    team: str | None                  # the owner's team, None when the taxonomy does not say
    knowable: bool = True             # False when its incident names no system: "came back" cannot be told


def team_of(kb: "KnowledgeBase", owner: str) -> str | None:
    return kb.taxonomy.team_of.get(owner)


def overdue_items(kb: "KnowledgeBase", today: date,
                  came_back: Callable[[Incident, ActionItem], tuple[str, ...]] | None = None) -> list[OverdueItem]:
    """Every overdue item, ranked (see the module's docstring). `came_back` gives, for an
    item, the later incidents that brought its problem back; by default `came_back_since`."""
    find = came_back or came_back_finder(kb)
    tax = kb.taxonomy
    anywhere = kb.settings.recurrence_scope == "category"
    out = [OverdueItem(inc, item, (today - item.due).days, find(inc, item), team_of(kb, item.owner),
                       anywhere or bool(incident_systems(inc)))
           for inc in kb.incidents for item in inc.action_items if item.overdue(today)]
    order = {inc.id: n for n, inc in enumerate(kb.incidents)}
    out.sort(key=lambda o: (tax.rated_rank(o.incident.severity), not o.came_back, -o.days,
                            order[o.incident.id], o.item.position))
    return out


def came_back_finder(kb: "KnowledgeBase") -> Callable[[Incident, ActionItem], tuple[str, ...]]:
    """`came_back(incident, item)`: ids of the incidents, in (started, id) order, that
    started (local date) after the item's due date, have a root-cause category the item
    addresses and share a system with the item's incident (any system under category
    scope).

    Incidents are indexed by (category, system) in (started, id) order, with their local
    start dates beside them: an item's answer is a few bisections and the incidents past
    them, not a scan of every incident of its categories (thousands of overdue items in a
    large knowledge base, asked for in the build's main process)."""
    tz = kb.settings.tz
    anywhere = kb.settings.recurrence_scope == "category"
    index: dict[tuple, list[int]] = defaultdict(list)        # (category, system) -> incident positions
    days: list[int] = []
    for n, inc in enumerate(kb.incidents):
        days.append(local_date(inc.started, tz).toordinal())
        keys = [None] if anywhere else systems(inc)
        for cat in inc.categories:
            for system in keys:
                index[(cat, system)].append(n)
    # Within one key, positions are in (started, id) order and so are their days: bisect on days.
    key_days = {key: [days[n] for n in ns] for key, ns in index.items()}
    incidents = kb.incidents

    def find(incident: Incident, item: ActionItem) -> tuple[str, ...]:
        keys = [None] if anywhere else systems(incident)
        due = item.due.toordinal()
        found: set[int] = set()
        for cat in item.addresses:
            for system in keys:
                ns = index.get((cat, system))
                if ns:
                    found.update(ns[bisect_right(key_days[(cat, system)], due):])
        return tuple(incidents[n].id for n in sorted(found) if incidents[n].id != incident.id)
    return find


def incident_systems(inc: Incident) -> frozenset:
    """The incident's systems (metrics.systems, SPEC section 6) as a set."""
    return frozenset(systems(inc))


def by_team(kb: "KnowledgeBase", today: date) -> dict[str, list[tuple[Incident, ActionItem]]]:
    """Every action item by its owner's team (NO_TEAM for owners no team lists), teams in
    the taxonomy's order, NO_TEAM last."""
    groups: dict[str, list[tuple[Incident, ActionItem]]] = defaultdict(list)
    for inc in kb.incidents:
        for item in inc.action_items:
            groups[team_of(kb, item.owner) or NO_TEAM].append((inc, item))
    names = [t.id for t in kb.taxonomy.teams if t.id in groups] + ([NO_TEAM] if NO_TEAM in groups else [])
    return {n: groups[n] for n in names}
