"""The JSON exports of SPEC section 7 that describe incidents, and the published schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any, Callable

from .graph import Related
from .kb import KnowledgeBase
from .metrics import FixPair, IncidentRecurrence, durations
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


def incident_record(inc: Incident, related: list[Related], recurrence: IncidentRecurrence | None) -> dict[str, Any]:
    """One incident of incidents.json without `failed_fixes`, which `incidents_json` writes
    straight into the file (millions of entries in a large knowledge base)."""
    record = normalised_front_matter(inc)
    record.update(
        url=inc.url,
        categories=list(inc.categories),
        **durations(inc),
        recurs=list(recurrence.recurs) if recurrence else [],
        recurrence_of=list(recurrence.recurrence_of) if recurrence else [],
        related=[r.id for r in related],
    )
    return record


def incidents_json(kb: KnowledgeBase, related: Callable[[], Mapping[str, list[Related]]],
                   recurrence: Callable[[], dict[str, IncidentRecurrence]],
                   failed_fixes: Callable[[], Mapping[str, tuple[FixPair, ...]]]) -> StreamedFile:
    """`incidents.json`, written record by record; what it needs is computed when it is
    written (in the site build's second process).

    `failed_fixes` grows with the square of a category's incidents by its definition (a late
    incident of a common category lists every done fix of that category ever made): millions
    of entries at 10,000 incidents. Each (incident, action) pair is encoded once and the
    file is streamed, so memory stays at one record, not one dict per entry.
    """
    def write(out: IO[bytes]) -> None:
        related_of, rec_of, failed_of = related(), recurrence(), failed_fixes()
        encoded: dict[FixPair, str] = {}
        out.write(b'{"incidents":[')
        for k, inc in enumerate(kb.incidents):
            record = incident_record(inc, related_of.get(inc.id, []), rec_of.get(inc.id))
            text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            fixes = []
            for pair in failed_of.get(inc.id, ()):
                piece = encoded.get(pair)
                if piece is None:
                    piece = encoded[pair] = json.dumps({"incident": pair[0], "action": pair[1]}, separators=(",", ":"))
                fixes.append(piece)
            # action: the item's 0-based position in that incident's action_items
            out.write(((b"," if k else b"") + (text[:-1] + ',"failed_fixes":[' + ",".join(fixes) + "]}").encode("utf-8")))
        out.write(b"]}")
    return StreamedFile("incidents.json", write)


def schema_file() -> StaticFile:
    return StaticFile("schema/incident.schema.json", SCHEMA_PATH.read_bytes())
