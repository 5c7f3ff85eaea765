"""One page per incident (SPEC section 5, `incidents/<id lower-cased>/`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from markupsafe import escape

from .graph import Related
from .htmlutil import human_minutes, local_time, rel_url
from .kb import KnowledgeBase
from .links import LinkIndex, rewrite_links
from .metrics import durations
from .model import Incident
from .pages import Page, SiteContext, category_src, incident_src, placeholder
from .render import render_blocks

# Lifecycle marks on the visual timeline, in order.
_MARKS = (("started", "Impact started"), ("detected", "Detected"), ("mitigated", "Mitigated"), ("resolved", "Resolved"))


@dataclass(frozen=True)
class _Track:
    segments: list[dict]
    marks: list[dict]


def _track(inc: Incident) -> _Track | None:
    points = [getattr(inc, k) for k, _ in _MARKS] + [e.at for e in inc.timeline]
    points = [p for p in points if p is not None]
    lo, hi = min(points), max(points)
    span = (hi - lo).total_seconds()
    if span <= 0:
        return None

    def pos(t: datetime) -> float:
        return round((t - lo).total_seconds() / span * 100, 2)

    end = inc.resolved or inc.mitigated or inc.detected
    segments = []
    phases = (("undetected", inc.started, inc.detected or end),
              ("impact", inc.detected, inc.mitigated or inc.resolved),
              ("recovery", inc.mitigated, inc.resolved))
    for kind, a, b in phases:
        if a is not None and b is not None and b > a:
            segments.append({"kind": kind, "left": pos(a), "width": round(pos(b) - pos(a), 2),
                             "label": f"{kind}: {human_minutes((b - a).total_seconds() / 60)}"})
    marks = [{"kind": k, "left": pos(getattr(inc, k))} for k, _ in _MARKS if getattr(inc, k) is not None]
    marks += [{"kind": "event", "left": pos(e.at)} for e in inc.timeline]   # described in the event list below
    return _Track(segments, marks)


def _offset(start: datetime, at: datetime) -> str:
    minutes = (at - start).total_seconds() / 60
    return ("T+" if minutes >= 0 else "T−") + human_minutes(abs(minutes))


def incident_page(kb: KnowledgeBase, inc: Incident, related: list[Related], recurrence_md: str,
                  ctx: SiteContext, links: LinkIndex, directory_urls: bool = True) -> Page:
    tax, tz = kb.taxonomy, kb.settings.tz
    src = incident_src(inc.id)
    dims_by_id = {d.id: d for d in inc.dimensions}
    dimensions = []
    for term in tax.dimensions:   # taxonomy order, so pages read alike
        if term.id in dims_by_id:
            f = dims_by_id[term.id]
            dimensions.append({"title": term.title, "contribution": f.contribution, "evidence": f.evidence})
    root_causes = [{"category": rc.category, "title": tax.categories[rc.category].title, "description": rc.description,
                    "href": rel_url(src, category_src(rc.category), directory_urls)} for rc in inc.root_causes]
    related_view = []
    for r in related:
        other = kb.by_id.get(r.id)
        if other is not None:
            related_view.append({"incident": other, "href": rel_url(src, incident_src(other.id), directory_urls),
                                 "date": other.started.astimezone(tz).date().isoformat(),
                                 "shared": r.shared, "explicit": r.explicit})
    events = [{"at": local_time(e.at, tz), "offset": _offset(inc.started, e.at), "kind": e.kind or "other", "event": e.event}
              for e in sorted(inc.timeline, key=lambda e: e.at)]
    title = f"{inc.id}: {inc.title}"
    body = rewrite_links(inc.source.body, inc.source.path, src, links)
    fragments = render_blocks(
        "incident.html.j2", incident=inc,
        severity=tax.term("severities", inc.severity), sev_rank=tax.severity_rank.get(inc.severity, 9) + 1,
        detection=tax.term("detection_sources", inc.detection),
        t={k: local_time(getattr(inc, k), tz) for k, _ in _MARKS},
        d={k: human_minutes(v) for k, v in durations(inc).items()},
        track=_track(inc), events=events, dimensions=dimensions, root_causes=root_causes,
        actions=[{"item": a, "overdue": a.overdue(ctx.today)} for a in inc.action_items],
        related=related_view,
    )
    # The theme prints page meta unescaped: the title goes in HTML-escaped, as a YAML string.
    meta = [f"title: {json.dumps(str(escape(title)), ensure_ascii=False)}"]
    if inc.summary:
        meta.append(f"description: {json.dumps(str(escape(' '.join(inc.summary.split())[:300])), ensure_ascii=False)}")
    sections = ["---", *meta, "---", "", placeholder("header"), "", placeholder("timeline"), ""]
    if dimensions:
        sections += ["## Failure dimensions", "", placeholder("dimensions"), ""]
    if root_causes:
        sections += ["## Root-cause categories", "", placeholder("causes"), ""]
    sections += [body.strip(), ""]
    if inc.action_items:
        sections += ["## Action items", "", placeholder("actions"), ""]
    if recurrence_md:
        sections += [recurrence_md.strip(), ""]
    if related_view:
        sections += ["## Related incidents", "", placeholder("related"), ""]
    return Page(src, title, "\n".join(sections), edit_path=inc.source.path, fragments=fragments)
