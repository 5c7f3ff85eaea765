"""One page per incident (SPEC section 5, `incidents/<id lower-cased>/`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import escape

from ..incidents.model import Incident
from ..knowledge.facets import FACETS, FacetIndex, facet_index
from ..knowledge.graph import Related
from ..knowledge.kb import KnowledgeBase
from ..knowledge.metrics import durations
from ..knowledge.recurrence import failed_fixes, recurrence
from .htmlutil import human_minutes, local_time, rel_url, yaml_string
from .links import LinkIndex, rewrite_links
from .page import Filling, Heading, Page, SiteContext, category_src, heading, incident_src, placeholder
from .recurrence_notes import incident_notes
from .render import render_blocks

# Lifecycle marks on the visual timeline, in order.
_MARKS = (("started", "Impact started"), ("detected", "Detected"), ("mitigated", "Mitigated"), ("resolved", "Resolved"))


@dataclass(frozen=True)
class _Track:
    segments: list[dict]
    marks: list[dict]
    legend: list[str]       # the kinds of segment drawn, for the legend


def _track(inc: Incident) -> _Track | None:
    points = [getattr(inc, k) for k, _ in _MARKS] + [e.at for e in inc.timeline]
    points = [p for p in points if p is not None]
    lo, hi = min(points), max(points)
    span = (hi - lo).total_seconds()
    if span <= 0:
        return None

    def pos(t: datetime) -> float:
        return round((t - lo).total_seconds() / span * 100, 2)

    # Missing timestamps are drawn as unknown, never as a phase: without `detected` the
    # time from the start to mitigation (or resolution) is "not recorded", grey, not red
    # "undetected" (nobody knows when the organisation knew).
    segments = []
    after_detection = inc.mitigated or inc.resolved
    phases = (("undetected", inc.started, inc.detected),
              ("impact", inc.detected, after_detection),
              ("unknown", inc.started if inc.detected is None else None, after_detection),
              ("recovery", inc.mitigated, inc.resolved))
    names = {"undetected": "undetected", "impact": "detected, impact ongoing", "recovery": "mitigated, recovering",
             "unknown": "detection time not recorded"}
    for kind, a, b in phases:
        if a is not None and b is not None and b > a:
            segments.append({"kind": kind, "left": pos(a), "width": round(pos(b) - pos(a), 2),
                             "label": f"{names[kind]}: {human_minutes((b - a).total_seconds() / 60)}"})
    marks = [{"kind": k, "left": pos(getattr(inc, k))} for k, _ in _MARKS if getattr(inc, k) is not None]
    marks += [{"kind": "event", "left": pos(e.at)} for e in inc.timeline]   # described in the event list below
    return _Track(segments, marks, [k for k in ("undetected", "impact", "recovery", "unknown")
                                    if any(seg["kind"] == k for seg in segments)])


def _offset(start: datetime, at: datetime) -> str:
    minutes = (at - start).total_seconds() / 60
    return ("T+" if minutes >= 0 else "T−") + human_minutes(abs(minutes))


def _search_text(inc: Incident, severity, root_causes: list[dict], started: str) -> dict[str, str]:
    """What the search index gets in place of each fragment: the words people look an
    incident up by (what, which service, who, why, what was done), as one paragraph per
    section, without the markup, times, figures and cross-links of the page. The body is
    indexed as written. Indexing then costs about what the body costs, and the index stays
    small (engineering/performance.md); the dimensions' evidence, the timeline's events and the
    recurrence notes are on the page but not in the index."""
    def para(parts: list[str]) -> str:
        text = " ".join(" ".join(str(p).split()) for p in parts if p)
        return f"<p>{escape(text)}</p>" if text else ""

    lead = f"{inc.id} · {inc.severity} · {started}"
    causes = [f"Root cause: {rc['category']} {rc['title']}: {rc['description']}" for rc in root_causes]

    facts = [severity.title if severity else "", inc.status, *[f"#{t}" for t in inc.tags],
             *inc.services, inc.team or "", *inc.authors, *[m.name for m in inc.models],
             *[d.name for d in inc.datasets], inc.impact or "", inc.trigger or ""]
    return {
        # The h1 is the result's title in search (an id on it, so the index takes it as the
        # page's title, as for a Markdown heading). Severity and date go in it: the theme shows
        # only the paragraphs that match under a title, and a reader picks among incidents by them.
        "header": (f'<h1 id="title">{escape(lead)}: {escape(inc.title)}</h1>{para([inc.summary or ""])}'
                   f'{para(facts)}{para(causes)}'),
        "actions": para([f"{a.title} ({a.owner})." for a in inc.action_items]),
    }


def _dimensions(kb: KnowledgeBase, inc: Incident) -> list[dict]:
    by_id = {d.id: d for d in inc.dimensions}
    return [{"title": term.title, "contribution": by_id[term.id].contribution, "evidence": by_id[term.id].evidence}
            for term in kb.taxonomy.dimensions if term.id in by_id]   # taxonomy order, so pages read alike


def _known(kb: KnowledgeBase, related: list[Related]) -> list[Related]:
    return [r for r in related if r.id in kb.by_id]


# The page's own sections: (fragment, heading id, title). "top" comes before the author's
# body, "bottom" after it; a section without content is left out. The header (facts, root
# causes, links, timeline) comes first, then the authors' own words; after them what a
# reader acts on (action items) and reads next (related incidents), then the analysis that
# is mostly figures. Root causes have no heading of their own: the templates give the
# authors a "Root causes" section, and two headings of that name read as a repeat.
_SECTIONS = (("bottom", "action-items", "Action items", "actions"),
             ("bottom", "related-incidents", "Related incidents", "related"),
             ("bottom", "failure-dimensions", "Failure dimensions", "dimensions"),
             ("bottom", "recurrence", "Recurrence", "recurrence"))


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
    names = list(dict.fromkeys(str(escape(v)) for facet in FACETS.values() for v in facet.values(inc)))
    if names:
        # The theme's search weighs a page's `tags` above its title and text: a search for a
        # service, model, data set or team lists the incidents that name it first, before
        # pages that only mention a word of it. (Escaped: the theme shows them as HTML.)
        meta.append("tags: [" + ", ".join(yaml_string(n) for n in names) + "]")
    markdown = "\n".join(["---", *meta, "---", "", placeholder("top"), "", body.strip(), "", placeholder("bottom"), ""])
    return Page(src, title, markdown, edit_path=inc.source.path)


def _chips(inc: Incident, src: str, facets: FacetIndex, directory_urls: bool) -> dict[str, list[dict]]:
    """Each service, team, model, data set and tag of the incident, with the href of its page."""
    def href(kind: str, name: str) -> str:
        return rel_url(src, facets.src(kind, name), directory_urls)

    chips: dict[str, list[dict[str, Any]]] = {kind: [{"name": v, "href": href(kind, v)} for v in facet.values(inc)] for kind, facet in FACETS.items()}
    # models and data sets as written, each with its version (one model may serve twice)
    chips["models"] = [{"name": m.name, "version": m.version, "href": href("models", m.name)} for m in inc.models]
    chips["datasets"] = [{"name": d.name, "version": d.version, "href": href("datasets", d.name)} for d in inc.datasets]
    return chips


def _links(inc: Incident) -> list[dict]:
    # The schema admits http(s) addresses only; checked again here because this becomes an href.
    return [{"title": ln.title, "href": ln.url} for ln in inc.links if ln.url.startswith(("http://", "https://"))]


def _recurrence_summary(kb: KnowledgeBase, inc: Incident) -> str:
    """The one line a reader sees of the recurrence notes before opening them."""
    if not inc.categories:
        return "No root-cause category recorded yet"
    recurs = recurrence(kb)[inc.id].recurs
    failed = len(failed_fixes(kb).get(inc.id, ()))
    if recurs:
        n = len(recurs)
        line = f"Recurs {n} root-cause categor{'y' if n == 1 else 'ies'} of earlier incidents"
    else:
        line = "Not a recurrence of an earlier incident"
    if failed:
        line += f"; {failed} fix{'es' if failed != 1 else ''} marked done did not hold"
    return line


def incident_fragments(kb: KnowledgeBase, inc: Incident, related: list[Related], ctx: SiteContext,
                       directory_urls: bool = True, facets: FacetIndex | None = None
                       ) -> Filling:
    """The HTML above and below the author's body ("top", "bottom"), the text the search
    index gets for each, and the headings in each."""
    tax, tz = kb.taxonomy, kb.settings.tz
    src = incident_src(inc.id)
    facets = facets or facet_index(kb.incidents)
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
        # the colour of a rated severity by its rank among rated ones; grey for an unrated one
        severity=severity, sev_rank="unrated" if tax.unrated(inc.severity) else tax.rated_rank(inc.severity) + 1,
        detection=tax.term("detection_sources", inc.detection),
        t={k: local_time(getattr(inc, k), tz) for k, _ in _MARKS},
        d={k: human_minutes(v) for k, v in durations(inc).items() if v is not None},
        not_recorded=[k[8:] for k, v in durations(inc).items() if v is None],   # "time_to_detect" -> "detect"
        track=_track(inc), events=events, dimensions=dimensions, root_causes=root_causes,
        actions=[{"item": a, "overdue": a.overdue(ctx.today)} for a in inc.action_items],
        related=related_view, chips=_chips(inc, src, facets, directory_urls), links=_links(inc),
    )
    notes = incident_notes(kb, inc.id, ctx, directory_urls)
    if notes:
        # Tables of earlier and later incidents run long: folded under their one-line gist,
        # so that nothing after them is pushed down the page.
        kind = "warning" if failed_fixes(kb).get(inc.id, ()) else "abstract"
        blocks["recurrence"] = (f'<details class="pmkb-fold pmkb-recurrence {kind}"><summary>'
                                f"{escape(_recurrence_summary(kb, inc))}</summary>\n{notes}</details>")
    else:
        blocks["recurrence"] = ""
    present = {"dimensions": bool(dimensions), "actions": bool(inc.action_items),
               "recurrence": bool(blocks["recurrence"]), "related": bool(related_view)}
    words = _search_text(inc, severity, root_causes, inc.started.astimezone(tz).date().isoformat())
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
