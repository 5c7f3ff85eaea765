"""The JSON exports of SPEC section 7 that describe incidents, and the published schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any, Callable

from .graph import Related
from .kb import KnowledgeBase
from .metrics import FixFailure, IncidentRecurrence, durations
from .model import Incident
from .pages import StaticFile, StreamedFile
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


def incident_record(inc: Incident, related: list[Related], recurrence: IncidentRecurrence | None,
                    failed: tuple[FixFailure, ...] = ()) -> dict[str, Any]:
    """One incident of incidents.json: the front matter as given, then the computed fields."""
    record = normalised_front_matter(inc)
    record.update(
        url=inc.url,
        categories=list(inc.categories),
        **durations(inc),
        recurs=list(recurrence.recurs) if recurrence else [],
        recurrence_of=list(recurrence.recurrence_of) if recurrence else [],
        related=[r.id for r in related],
        failed_fixes=[{"incident": f.incident, "action": f.action, "title": f.title, "categories": list(f.categories)}
                      for f in failed],
    )
    return record


def incidents_json(kb: KnowledgeBase, related: Callable[[], Mapping[str, list[Related]]],
                   recurrence: Callable[[], dict[str, IncidentRecurrence]],
                   failed_fixes: Callable[[], Mapping[str, tuple[FixFailure, ...]]]) -> StreamedFile:
    """`incidents.json`, written record by record (memory stays at one record, whatever
    the size of the knowledge base); what it needs is computed when it is written (in
    the site build's second process). Each fix appears in `failed_fixes` at most once in
    the whole file, so the file grows with the incidents and their fixes."""
    def write(out: IO[bytes]) -> None:
        related_of, rec_of, failed_of = related(), recurrence(), failed_fixes()
        out.write(b'{"incidents":[')
        for k, inc in enumerate(kb.incidents):
            record = incident_record(inc, related_of.get(inc.id, []), rec_of.get(inc.id), failed_of.get(inc.id, ()))
            out.write((b"," if k else b"") + json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8"))
        out.write(b"]}")
    return StreamedFile("incidents.json", write)


def schema_file() -> StaticFile:
    return StaticFile("schema/incident.schema.json", SCHEMA_PATH.read_bytes())
