"""The recurrence notes of incident and category pages, as HTML fragments.

They are HTML, not Markdown, because there is one per incident: a few tables of links
each, which Python-Markdown parsed about as slowly as the author's whole body. The page
keeps its `## Recurrence` heading in Markdown (for the table of contents) and gets this
HTML in place of a placeholder after Markdown ran. Every front-matter value goes through
`h` (escaped, one line); links are final site addresses (`rel_url`).
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from .timestamps import shift
from typing import TYPE_CHECKING, Any

from .metrics import IncidentRecurrence, failed_fixes, fix_outcomes, local_date, memo, quarter_key, quarter_range, recurrence
from .model import Incident
from .blocks import PageLinks, admonition_html, figure_table, h
from .pages import SiteContext, category_src, incident_src
from .trends import LIST_LIMIT, SMALL_N, SMALL_N_NOTE, human_minutes, percent

if TYPE_CHECKING:
    from .kb import KnowledgeBase

INCIDENT_FIX_ROWS = 5   # failed fixes listed on an incident page (the most recent ones)
# Earlier and later incidents named per category on an incident page; the rest are counted.
# A common category recurs hundreds of times a year: listing them all would make every
# page grow with the knowledge base (the quadratic site).
INCIDENT_LINK_LIMIT = 3


@dataclass
class _CategoryIndex:
    members: dict[str, list[Incident]]     # incidents per category, in (started, id) order
    starts: dict[str, list[Any]]
    rank: dict[str, dict[str, int]]


def _category_index(kb: "KnowledgeBase") -> _CategoryIndex:
    def build() -> _CategoryIndex:
        members: dict[str, list[Incident]] = defaultdict(list)
        for inc in kb.incidents:
            for c in inc.categories:
                members[c].append(inc)
        return _CategoryIndex(dict(members), {c: [i.started for i in m] for c, m in members.items()},
                              {c: {i.id: k for k, i in enumerate(m)} for c, m in members.items()})
    return memo(kb, "notes.category_index", build)


def _s(n: int, one: str = "", many: str = "s") -> str:
    return one if n == 1 else many


def category_notes(kb: "KnowledgeBase", category_id: str, ctx: SiteContext, directory_urls: bool = True) -> str:
    """Recurrence notes for `categories/<layer>/<category>/`: occurrences over time, the gaps
    between them, recurrences and fixes that did not hold. No heading of its own."""
    w = PageLinks(kb, category_src(category_id), directory_urls)
    tz = kb.settings.tz
    window = kb.settings.recurrence_window_days
    idx = _category_index(kb)
    incs = idx.members.get(category_id, [])
    if not incs:
        return "<p>No incident has this root cause yet.</p>\n"
    rec = recurrence(kb)
    recurring = [i for i in incs if category_id in rec[i.id].recurs]
    gaps = [(b.started - a.started).total_seconds() / 60 for a, b in zip(incs, incs[1:])]
    outcomes = [(o, n) for o in fix_outcomes(kb).values() for c, n in o.categories if c == category_id]
    n_pairs = sum(n for _, n in outcomes)
    first, last = local_date(incs[0].started, tz), local_date(incs[-1].started, tz)
    since = (ctx.today - last).days
    ago = f" (the last one {since} day{_s(since)} before {ctx.today.isoformat()})" if since >= 0 else ""
    text = (f"<strong>{len(incs)}</strong> incident{_s(len(incs))} had this root cause, "
            f"from {first.isoformat()} to {last.isoformat()}{ago}. "
            f"<strong>{len(recurring)}</strong> recurred it: an earlier incident had it within {window} days "
            f"(recurrence rate {percent(len(recurring) / len(incs))}). ")
    if gaps:
        text += (f"Gap between consecutive occurrences: median {human_minutes(statistics.median(gaps))}, "
                 f"shortest {human_minutes(min(gaps))}, longest {human_minutes(max(gaps))} (n={len(gaps)}). ")
    n_items = len(outcomes)
    text += (f"Fixes that did not hold: <strong>{n_items}</strong> done action item{_s(n_items)} "
             f"addressing this category {'was' if n_items == 1 else 'were'} followed by a later incident "
             f"recurring it ({n_pairs} pair{_s(n_pairs)} of item and later incident).")
    out = [f"<p>{text}</p>\n"]
    if len(gaps) and len(gaps) < SMALL_N:
        out.append(admonition_html("warning", "Too few incidents to trust",
                                   f"<p>Fewer than {SMALL_N} gaps between occurrences: n={len(gaps)}. {SMALL_N_NOTE}</p>\n"))

    per_q = Counter(quarter_key(i.started, tz) for i in incs)
    per_q_rec = Counter(quarter_key(i.started, tz) for i in recurring)
    out.append("<p><strong>Occurrences per quarter</strong></p>\n")
    out.append(figure_table(["Quarter", "incidents", "recurrences"],
                             ([q, str(per_q[q]), str(per_q_rec[q])] for q in quarter_range(min(per_q), max(per_q), per_q)),
                             ["l", "r", "r"]) + "\n")

    cut = f"; the {LIST_LIMIT} most recent of {len(incs)}" if len(incs) > LIST_LIMIT else ""
    out.append(f"<p><strong>Occurrences and the gaps between them</strong> (newest first{cut})</p>\n")
    rows = []
    for k in range(len(incs) - 1, max(-1, len(incs) - 1 - LIST_LIMIT), -1):
        inc = incs[k]
        rows.append([w.incident(inc.id), h(inc.title), local_date(inc.started, tz).isoformat(),
                     human_minutes(gaps[k - 1]) if k > 0 else "first occurrence",
                     "yes" if category_id in rec[inc.id].recurs else "no"])
    out.append(figure_table(["Incident", "Title", "Started", "since the previous one", f"recurrence (within {window} days)"],
                             rows, ["l", "l", "l", "r", "l"]) + "\n")

    if n_pairs:
        failed = failed_fixes(kb)
        fixes: list[tuple[str, int, str, tuple[str, ...]]] = []
        for inc in reversed(recurring):
            for a_id, pos in reversed(failed[inc.id]):
                if category_id in kb.by_id[a_id].action_items[pos].addresses:
                    fixes.append((a_id, pos, inc.id, (category_id,)))
                    if len(fixes) == LIST_LIMIT:
                        break
            if len(fixes) == LIST_LIMIT:
                break
        out.append(_failed_fixes(w, fixes, n_pairs, "Fixes that did not hold in this category", show_category=False))
    return "".join(out)


def _failed_fixes(w: PageLinks, rows_in: list[tuple[str, int, str, tuple[str, ...]]], total: int, title: str, *,
                  show_later: bool = True, show_category: bool = True) -> str:
    """A table of (earlier incident, item position, later incident, categories), newest
    first, already cut to the rows shown out of `total`."""
    kb, tz = w.kb, w.kb.settings.tz
    header = ["Earlier incident", "Action item", "type", "completed"]
    header += ["Later incident", "started"] if show_later else []
    header += ["Category"] if show_category else []
    rows = []
    for a_id, pos, later_id, cats in rows_in:
        item = kb.by_id[a_id].action_items[pos]
        row = [w.incident(a_id), h(item.title), h(item.type), item.completed.isoformat() if item.completed else "–"]
        if show_later:
            row += [w.incident(later_id), local_date(kb.by_id[later_id].started, tz).isoformat()]
        if show_category:
            row.append(", ".join(w.category(c) for c in cats))
        rows.append(row)
    note = f"<p>The {len(rows_in)} most recent of {total}.</p>\n" if total > len(rows_in) else ""
    return admonition_html("danger", title, note + "<p>Action items marked done, completed before the later incident "
                           "started, that addressed a category the later incident recurs.</p>\n"
                           + figure_table(header, rows, ["l"] * len(header)) + "\n")


def incident_notes(kb: "KnowledgeBase", incident_id: str, ctx: SiteContext, directory_urls: bool = True) -> str:
    """Recurrence notes for `incidents/<id>/`: which earlier incidents it recurs, whether a
    fix marked done failed to prevent it, and which later incidents recurred its
    categories. No heading of its own; empty for an unknown id."""
    inc = kb.by_id.get(incident_id)
    if inc is None:
        return ""
    w = PageLinks(kb, incident_src(incident_id), directory_urls)
    window = kb.settings.recurrence_window_days
    if not inc.categories:
        return "<p>No root-cause category is recorded yet, so recurrence cannot be assessed.</p>\n"
    r: IncidentRecurrence = recurrence(kb)[incident_id]
    idx = _category_index(kb)
    out = []
    if r.recurs:
        n = len(r.recurs)
        out.append(f"<p>This incident <strong>recurs</strong> {n} root-cause categor{_s(n, 'y', 'ies')}: earlier "
                   f"incidents within {window} days had {'it' if n == 1 else 'them'} too.</p>\n")
        rows = []
        for cat in r.recurs:
            k = idx.rank[cat][inc.id]
            lo = bisect_left(idx.starts[cat], shift(inc.started, -window), 0, k)
            earlier = idx.members[cat][lo:k]
            rows.append([w.category(cat), str(len(earlier)), _with_gaps(w, earlier[::-1], inc, "earlier")])
        out.append(figure_table(["Category", "earlier incidents", f"within {window} days (newest first)"], rows,
                                 ["l", "r", "l"]) + "\n")
    else:
        out.append(f"<p>Not a recurrence: no earlier incident within {window} days shares a root-cause category "
                   "with this one.</p>\n")
    failed = failed_fixes(kb)[incident_id]
    if failed:
        fixes = []
        for a_id, pos in reversed(failed[-INCIDENT_FIX_ROWS:]):
            item = kb.by_id[a_id].action_items[pos]
            fixes.append((a_id, pos, incident_id, tuple(c for c in r.recurs if c in item.addresses)))
        out.append(_failed_fixes(w, fixes, len(failed), "A fix marked done did not prevent this incident",
                                 show_later=False))
    elif r.recurs:
        out.append("<p>No action item marked done before this incident addressed the categories it recurs.</p>\n")

    later_rows = []
    for cat in inc.categories:
        k = idx.rank[cat][inc.id]
        hi = bisect_right(idx.starts[cat], shift(inc.started, window))
        later = idx.members[cat][k + 1:hi]
        if later:
            later_rows.append([w.category(cat), str(len(later)), _with_gaps(w, later, inc, "later")])
    if later_rows:
        out.append(f"<p><strong>Recurred later</strong>: incidents within {window} days after this one with the "
                   "same category.</p>\n")
        out.append(figure_table(["Category", "later incidents", "first ones"], later_rows, ["l", "r", "l"]) + "\n")
    return "".join(out)


def _with_gaps(w: PageLinks, others: list[Incident], inc: Incident, word: str, limit: int = INCIDENT_LINK_LIMIT) -> str:
    tz = w.kb.settings.tz
    parts = [f"{w.incident(o.id)} ({local_date(o.started, tz).isoformat()}, "
             f"{human_minutes(abs((inc.started - o.started).total_seconds()) / 60)} {word})" for o in others[:limit]]
    if len(others) > limit:
        parts.append(f"and {len(others) - limit} more")
    return "; ".join(parts)
