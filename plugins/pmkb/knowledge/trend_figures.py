"""The figures of `trends.json` (SPEC section 7): every group of incidents (month,
quarter, severity, category, service) with its counts, recurrence rate and durations, and
the fixes by state."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from ..incidents.model import Incident
from ..reading.timestamps import today as current_date
from .metrics import durations, group_stats, memo, month_key, month_range, quarter_key, quarter_range
from .recurrence import fixes_summary, recurrence, recurrence_data

if TYPE_CHECKING:
    from .kb import KnowledgeBase


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
