"""One page per incident (SPEC section 5, `incidents/<id lower-cased>/`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import escape

from .graph import Related
from .htmlutil import human_minutes, local_time, rel_url, yaml_string
from .kb import KnowledgeBase
from .links import LinkIndex, rewrite_links
from .metrics import durations
from .model import Incident
from .pages import Filling, Heading, Page, SiteContext, category_src, heading, incident_src, placeholder
from .recurrence_notes import incident_notes
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


def _search_text(inc: Incident, severity, root_causes: list[dict]) -> dict[str, str]:
    """What the search index gets in place of each fragment: the words people look an
    incident up by (what, which service, who, why, what was done), as one paragraph per
    section, without the markup, times, figures and cross-links of the page. The body is
    indexed as written. Indexing then costs about what the body costs, and the index stays
    small (docs/performance.md); the dimensions' evidence, the timeline's events and the
    recurrence notes are on the page but not in the index."""
    def para(parts: list[str]) -> str:
        text = " ".join(" ".join(str(p).split()) for p in parts if p)
        return f"<p>{escape(text)}</p>" if text else ""

    facts = [inc.severity, severity.title if severity else "", inc.status, *[f"#{t}" for t in inc.tags],
             *inc.services, inc.team or "", *inc.authors, *[m.name for m in inc.models],
             *[d.name for d in inc.datasets], inc.impact or "", inc.trigger or ""]
    return {
        # an id, so that the search index takes the h1 as the page's title, as for a Markdown heading
        "header": f'<h1 id="title">{escape(inc.id)}: {escape(inc.title)}</h1>{para([inc.summary or ""])}{para(facts)}',
        "causes": para([f"{rc['category']} {rc['title']}: {rc['description']}" for rc in root_causes]),
        "actions": para([f"{a.title} ({a.owner})." for a in inc.action_items]),
    }


def _dimensions(kb: KnowledgeBase, inc: Incident) -> list[dict]:
    by_id = {d.id: d for d in inc.dimensions}
    return [{"title": term.title, "contribution": by_id[term.id].contribution, "evidence": by_id[term.id].evidence}
            for term in kb.taxonomy.dimensions if term.id in by_id]   # taxonomy order, so pages read alike


def _known(kb: KnowledgeBase, related: list[Related]) -> list[Related]:
    return [r for r in related if r.id in kb.by_id]


# The page's own sections: (fragment, heading id, title). "top" comes before the author's
# body, "bottom" after it; a section without content is left out.
_SECTIONS = (("top", "failure-dimensions", "Failure dimensions", "dimensions"),
             ("top", "root-cause-categories", "Root-cause categories", "causes"),
             ("bottom", "action-items", "Action items", "actions"),
             ("bottom", "recurrence", "Recurrence", "recurrence"),
             ("bottom", "related-incidents", "Related incidents", "related"))


def incident_page(kb: KnowledgeBase, inc: Incident, links: LinkIndex) -> Page:
    """The page's Markdown: its meta, a placeholder for the generated sections above the
    author's body, the body, and one for those below. Its fragments come from
    `incident_fragments` (site.build_site makes that its `Page.make`).

    The generated sections, their headings included, are HTML put in after Markdown ran:
    Markdown then has only the author's text to parse, which is what a plain page costs."""
    src = incident_src(inc.id)
    title = f"{inc.id}: {inc.title}"
    body = rewrite_links(inc.source.body, inc.source.path, src, links)
    # The theme prints page meta unescaped: the title goes in HTML-escaped, as a YAML string.
    meta = [f"title: {yaml_string(str(escape(title)))}"]
    if inc.summary:
        meta.append(f"description: {yaml_string(str(escape(' '.join(inc.summary.split())[:300])))}")
    markdown = "\n".join(["---", *meta, "---", "", placeholder("top"), "", body.strip(), "", placeholder("bottom"), ""])
    return Page(src, title, markdown, edit_path=inc.source.path)


def incident_fragments(kb: KnowledgeBase, inc: Incident, related: list[Related], ctx: SiteContext,
                       directory_urls: bool = True
                       ) -> Filling:
    """The HTML above and below the author's body ("top", "bottom"), the text the search
    index gets for each, and the headings in each."""
    tax, tz = kb.taxonomy, kb.settings.tz
    src = incident_src(inc.id)
    dimensions = _dimensions(kb, inc)
    root_causes = [{"category": rc.category, "title": tax.categories[rc.category].title, "description": rc.description,
                    "href": rel_url(src, category_src(rc.category), directory_urls)} for rc in inc.root_causes]
    related_view = []
    for r in _known(kb, related):
        other = kb.by_id[r.id]
        related_view.append({"incident": other, "href": rel_url(src, incident_src(other.id), directory_urls),
                             "date": other.started.astimezone(tz).date().isoformat(),
                             "shared": r.shared, "explicit": r.explicit})
    events = [{"at": local_time(e.at, tz), "offset": _offset(inc.started, e.at), "kind": e.kind or "other", "event": e.event}
              for e in sorted(inc.timeline, key=lambda e: e.at)]
    severity = tax.term("severities", inc.severity)
    blocks = render_blocks(
        "incident.html.j2", incident=inc,
        severity=severity, sev_rank=tax.severity_rank.get(inc.severity, 9) + 1,
        detection=tax.term("detection_sources", inc.detection),
        t={k: local_time(getattr(inc, k), tz) for k, _ in _MARKS},
        d={k: human_minutes(v) for k, v in durations(inc).items()},
        track=_track(inc), events=events, dimensions=dimensions, root_causes=root_causes,
        actions=[{"item": a, "overdue": a.overdue(ctx.today)} for a in inc.action_items],
        related=related_view,
    )
    blocks["recurrence"] = incident_notes(kb, inc.id, ctx, directory_urls)
    present = {"dimensions": bool(dimensions), "causes": bool(root_causes), "actions": bool(inc.action_items),
               "recurrence": bool(blocks["recurrence"]), "related": bool(related_view)}
    words = _search_text(inc, severity, root_causes)
    html = {"top": [blocks["header"], blocks["timeline"]], "bottom": []}
    search = {"top": [words["header"]], "bottom": []}
    headings: dict[str, list[Heading]] = {"top": [], "bottom": []}
    for where, hid, title, block in _SECTIONS:
        if present[block]:
            html[where] += [heading(ctx, 2, hid, title), blocks[block]]
            headings[where].append((hid, title, 2))
            if words.get(block):
                # A section the index has no words for gets no entry either: every incident
                # page has "Recurrence", and a search for the word would list them all.
                search[where] += [f'<h2 id="{hid}">{title}</h2>', words[block]]
    return ({k: "\n".join(v) for k, v in html.items()}, {k: "".join(v) for k, v in search.items()}, headings)
