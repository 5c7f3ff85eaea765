"""Live figures for hand-written pages: `<!-- postmortems:latest -->` and
`<!-- postmortems:figures -->` in a docs page are replaced at build time. The figures
compare this period with the one before, as the trends page's planning summary does."""

from __future__ import annotations

import re

from .htmlutil import human_minutes, rel_url
from .kb import KnowledgeBase
from .metrics import durations
from .pages import SiteContext, incident_src
from .planning import choose_periods, compare_measure
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
    """Headline figures: this period against the one before (planning.py), medians with n
    and whether the change is more than noise; a value no incident recorded says so."""
    items = [a for i in kb.incidents for a in i.action_items]
    open_items = [a for a in items if a.is_open]
    overdue = [a for a in open_items if a.overdue(ctx.today)]
    p = choose_periods(kb.incidents, kb.settings.tz)
    cards: list[tuple[str, str, str]] = [(str(len(kb.incidents)), "postmortems in the knowledge base", "")]
    if p is not None:
        cards.append((str(len(p.current_incidents)), f"incidents in {p.current}, this {p.noun}",
                      f"{len(p.previous_incidents)} in {p.previous}"))
        values = {i.id: durations(i) for i in (*p.current_incidents, *p.previous_incidents)}
        for measure, noun in (("time_to_detect", "detect"), ("time_to_resolve", "resolve")):
            c = compare_measure(p, values, measure)
            if c.current_n:
                value = human_minutes(c.current_median)
                label = f"median time to {noun}, {p.current} (n={c.current_n})"
            else:
                value = "not recorded"
                label = f"time to {noun}: no incident of {p.current} recorded it"
            before = (f"{human_minutes(c.previous_median)} in {p.previous} (n={c.previous_n})"
                      if c.previous_n else f"not recorded in {p.previous}")
            cards.append((value, label, " · ".join(filter(None, (before, _VERDICT[c.verdict])))))
    cards.append((str(len(open_items)), f"open action items, {len(overdue)} overdue", ""))
    return '<div class="pmkb-cards">' + "".join(
        f'<div class="pmkb-card{" pmkb-card-unknown" if v == "not recorded" else ""}"><b>{plain(v)}</b>'
        f"<span>{plain(label)}</span>{f'<small>{plain(note)}</small>' if note else ''}</div>"
        for v, label, note in cards) + "</div>"


_VERDICT = {"faster": "faster, more than noise", "slower": "slower, more than noise",
            "no clear change": "no clear change, within the noise", "too few": "too few incidents to tell",
            "not recorded": ""}


def render_home_markers(markdown: str, kb: KnowledgeBase, ctx: SiteContext, src: str, directory_urls: bool = True) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) == "latest":
            return latest_html(kb, src, directory_urls, int(m.group(2) or 8))
        return figures_html(kb, ctx)
    return _MARKER.sub(sub, markdown)
