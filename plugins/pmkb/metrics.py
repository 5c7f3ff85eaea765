"""Metrics of SPEC section 6, as plain functions of incidents and the knowledge base."""

from __future__ import annotations

from .model import Incident
from .timestamps import minutes_between

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
