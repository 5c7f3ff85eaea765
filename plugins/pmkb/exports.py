"""The JSON exports of SPEC section 7 that describe incidents, and the published schema."""

from __future__ import annotations

import json
from typing import Any, Callable

from .graph import Related
from .kb import KnowledgeBase
from .metrics import durations
from .model import Incident
from .pages import StaticFile
from .schema import SCHEMA_PATH
from .timestamps import iso_utc

_TIMESTAMP_KEYS = ("started", "detected", "mitigated", "resolved")


def normalised_front_matter(inc: Incident) -> dict[str, Any]:
    """Every field the file gives, in file order; timestamps in UTC, dates as YYYY-MM-DD."""
    out = dict(inc.front_matter)
    for key in _TIMESTAMP_KEYS:
        if key in out:
            out[key] = iso_utc(getattr(inc, key))
    if "timeline" in out:
        out["timeline"] = [{**raw, "at": iso_utc(ev.at)} for raw, ev in zip(out["timeline"], inc.timeline)]
    if "action_items" in out:
        items = []
        for raw, item in zip(out["action_items"], inc.action_items):
            fixed = {**raw, "due": item.due.isoformat()}
            if item.completed is not None:
                fixed["completed"] = item.completed.isoformat()
            items.append(fixed)
        out["action_items"] = items
    return out


def incident_record(inc: Incident, related: list[Related], recurrence: Any | None,
                    by_id: dict[str, Incident] | None = None) -> dict[str, Any]:
    record = normalised_front_matter(inc)
    by_id = by_id or {}
    record.update(
        url=inc.url,
        categories=list(inc.categories),
        **durations(inc),
        recurs=list(recurrence.recurs) if recurrence else [],
        recurrence_of=list(recurrence.recurrence_of) if recurrence else [],
        related=[r.id for r in related],
        # action: the item's 0-based position in that incident's action_items; title for readers
        failed_fixes=[{"incident": i, "action": a, "title": by_id[i].action_items[a].title} if i in by_id
                      else {"incident": i, "action": a} for i, a in recurrence.failed_fixes] if recurrence else [],
    )
    return record


def incidents_json(kb: KnowledgeBase, related: dict[str, list[Related]],
                   recurrence: Callable[[str], Any] | dict[str, Any] | None = None) -> StaticFile:
    lookup = recurrence.get if isinstance(recurrence, dict) else (recurrence or (lambda _id: None))
    records = [incident_record(i, related.get(i.id, []), lookup(i.id), kb.by_id) for i in kb.incidents]
    data = json.dumps({"incidents": records}, ensure_ascii=False, separators=(",", ":"))
    return StaticFile("incidents.json", data.encode("utf-8"))


def schema_file() -> StaticFile:
    return StaticFile("schema/incident.schema.json", SCHEMA_PATH.read_bytes())
