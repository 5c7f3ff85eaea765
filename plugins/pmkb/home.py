"""Live figures for hand-written pages: `<!-- postmortems:latest -->` and
`<!-- postmortems:figures -->` in a docs page are replaced at build time."""

from __future__ import annotations

import re
import statistics
from .timestamps import shift

from .htmlutil import human_minutes, rel_url
from .kb import KnowledgeBase
from .metrics import durations
from .pages import SiteContext, incident_src
from .render import plain

_MARKER = re.compile(r"<!--\s*postmortems:(latest|figures)(?:\s+(\d+))?\s*-->")


def latest_html(kb: KnowledgeBase, src: str, directory_urls: bool, count: int = 8) -> str:
    newest = sorted(kb.incidents, key=lambda i: i.order_key, reverse=True)[:count]
    if not newest:
        return "<p>No postmortems yet. Write the first with <code>pmkb new</code>.</p>"
    rows = [f'<tr><td><a href="{rel_url(src, incident_src(i.id), directory_urls)}">{i.id}</a></td><td>{plain(i.title)}</td>'
            f"<td>{plain(i.severity)}</td><td>{i.started.astimezone(kb.settings.tz).date().isoformat()}</td><td>{i.status}</td></tr>"
            for i in newest]
    return ('<div class="pmkb-index" data-search-exclude data-pagefind-ignore><table><thead><tr><th>ID</th><th>Title</th><th>Severity</th>'
            "<th>Started</th><th>Status</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def figures_html(kb: KnowledgeBase, ctx: SiteContext) -> str:
    """Headline figures of the last twelve months (medians: durations are skewed)."""
    since = max((i.started for i in kb.incidents), default=None)
    recent = [i for i in kb.incidents if since and i.started > shift(since, -365)]
    ttd = [v for i in recent if (v := durations(i)["time_to_detect"]) is not None]
    ttr = [v for i in recent if (v := durations(i)["time_to_resolve"]) is not None]
    items = [a for i in kb.incidents for a in i.action_items]
    open_items = [a for a in items if a.is_open]
    overdue = [a for a in open_items if a.overdue(ctx.today)]
    severe = [i for i in recent if kb.taxonomy.severity_rank.get(i.severity, 99) <= 1]
    cards = [
        (str(len(kb.incidents)), "postmortems in the knowledge base"),
        (str(len(recent)), f"incidents in the last 12 months ({len(severe)} of the two highest severities)"),
        (human_minutes(statistics.median(ttd)) if ttd else "–", f"median time to detect, last 12 months (n={len(ttd)})"),
        (human_minutes(statistics.median(ttr)) if ttr else "–", f"median time to resolve, last 12 months (n={len(ttr)})"),
        (str(len(open_items)), f"open action items, {len(overdue)} overdue"),
    ]
    return '<div class="pmkb-cards">' + "".join(
        f'<div class="pmkb-card"><b>{plain(v)}</b><span>{plain(label)}</span></div>' for v, label in cards) + "</div>"


def render_home_markers(markdown: str, kb: KnowledgeBase, ctx: SiteContext, src: str, directory_urls: bool = True) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) == "latest":
            return latest_html(kb, src, directory_urls, int(m.group(2) or 8))
        return figures_html(kb, ctx)
    return _MARKER.sub(sub, markdown)
