"""The recurrence notes of incident and category pages, and the sentences that describe a
fix that did not hold (the ledger uses them too), as HTML fragments.

They are HTML, not Markdown, because there is one per incident: a few lists of links
each, which Python-Markdown parsed about as slowly as the author's whole body. The page
keeps its `## Recurrence` heading in Markdown (for the table of contents) and gets this
HTML in place of a placeholder after Markdown ran. Every front-matter value goes through
`h` (escaped, one line); links are final site addresses (`rel_url`).

Blameless by construction: a fix that did not hold is described by what came back, on
which system and how long after the fix was done; the item's owner is not named here
(the action items table of the incident page has it, beside every other item).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from .blocks import PageLinks, admonition_html, figure_table, h
from .metrics import (Fix, FixFailure, IncidentRecurrence, System, all_fixes, failed_fixes, local_date, memo,
                      quarter_key, quarter_range, recurrence, shared_systems, system_label)
from .model import Incident
from .pages import SiteContext, category_src, incident_src
from .trends import LIST_LIMIT, SMALL_N, SMALL_N_NOTE, human_minutes, percent, scope_phrase

if TYPE_CHECKING:
    from .kb import KnowledgeBase

# Earlier and later incidents named on an incident page; the rest are counted. Under
# `recurrence_scope: category` a common category recurs hundreds of times a year: listing
# them all would make every page grow with the knowledge base (the quadratic site).
INCIDENT_LINK_LIMIT = 5


def _s(n: int, one: str = "", many: str = "s") -> str:
    return one if n == 1 else many


def _days(n: int) -> str:
    return f"{n} day{_s(n)}"


def systems_text(systems: tuple[System, ...]) -> str:
    """HTML: "fraud-scoring-api and model churn"."""
    return _and([h(system_label(s)) for s in systems]) if systems else ""


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def came_back(w: PageLinks, f: FixFailure) -> str:
    """HTML: "data/schema-change came back on fraud-scoring-api 84 days later"."""
    cats = _and([w.link(category_src(c), h(c)) for c in f.categories])
    where = f" on {systems_text(f.systems)}" if f.systems else ""
    return f"{cats} came back{where} {_days(f.days)} later"


def fix_label(w: PageLinks, kb: "KnowledgeBase", incident_id: str, action: int, *, with_incident: bool = True) -> str:
    """HTML: the item's title, its type, and (optionally) the incident it belongs to."""
    item = kb.by_id[incident_id].action_items[action]
    where = f", from {w.incident(incident_id)}" if with_incident else ""
    return f"“{h(item.title)}” <small>({h(item.type)}{where})</small>"


# --- incident pages --------------------------------------------------------------------------

def _later_of(kb: "KnowledgeBase") -> dict[str, list[str]]:
    """A -> the later incidents that recur a category from A, in (started, id) order."""
    def build() -> dict[str, list[str]]:
        later: dict[str, list[str]] = defaultdict(list)
        for inc in kb.incidents:
            for a in recurrence(kb)[inc.id].recurrence_of:
                later[a].append(inc.id)
        return dict(later)
    return memo(kb, "notes.later", build)


def _fixes_of(kb: "KnowledgeBase") -> dict[str, list[Fix]]:
    def build() -> dict[str, list[Fix]]:
        out: dict[str, list[Fix]] = defaultdict(list)
        for fix in all_fixes(kb):
            out[fix.incident].append(fix)
        return dict(out)
    return memo(kb, "notes.fixes_of", build)


def _pair(w: PageLinks, earlier: Incident, later: Incident, other: Incident, word: str) -> str:
    """HTML list item: `other` (the earlier or the later of the pair), when, and what the
    two share: every category they share is recurred (they share a system and are within
    the window), and the systems they share."""
    kb, tz = w.kb, w.kb.settings.tz
    cats = [c for c in later.categories if c in set(earlier.categories)]
    gap = human_minutes((later.started - earlier.started).total_seconds() / 60)
    text = (f"{w.incident(other.id)} ({local_date(other.started, tz).isoformat()}, {gap} {word}): "
            + _and([w.category(c) for c in cats]))
    shared = shared_systems(earlier, later) if kb.settings.recurrence_scope == "system" else ()
    if shared:
        text += f" on {systems_text(shared)}"
    return f"<li>{text}</li>"


def _listed(items: list[str], total: int, noun: str) -> str:
    more = f"<li>and {total - len(items)} more {noun}</li>" if total > len(items) else ""
    return "<ul>\n" + "\n".join(items) + more + "\n</ul>\n"


def incident_notes(kb: "KnowledgeBase", incident_id: str, ctx: SiteContext, directory_urls: bool = True) -> str:
    """Recurrence notes for `incidents/<id>/`: which earlier incidents it recurs, on which
    shared system; the fixes that did not hold here; whether this incident's own fixes
    held; which later incidents recurred its categories. No heading of its own; empty
    for an unknown id."""
    inc = kb.by_id.get(incident_id)
    if inc is None:
        return ""
    w = PageLinks(kb, incident_src(incident_id), directory_urls)
    window = kb.settings.recurrence_window_days
    by_system = kb.settings.recurrence_scope == "system"
    out = []
    if not inc.categories:
        out.append("<p>No root-cause category is recorded yet, so recurrence cannot be assessed.</p>\n")
    elif by_system and not (inc.services or inc.models or inc.datasets):
        out.append("<p>This incident names no service, model or data set, so it cannot be matched with earlier or "
                   "later incidents: recurrence counts only on a shared system.</p>\n")
    else:
        r: IncidentRecurrence = recurrence(kb)[incident_id]
        if r.recurs:
            n = len(r.recurrence_of)
            out.append(f"<p>This incident <strong>recurs</strong> {_and([w.category(c) for c in r.recurs])}: "
                       f"{'an earlier incident' if n == 1 else f'{n} earlier incidents'} within {window} days "
                       f"{scope_phrase(kb)} had {'it' if len(r.recurs) == 1 else 'them'} too (newest first).</p>\n")
            shown = r.recurrence_of[::-1][:INCIDENT_LINK_LIMIT]
            out.append(_listed([_pair(w, kb.by_id[a], inc, kb.by_id[a], "earlier") for a in shown], n,
                               "earlier incidents"))
        else:
            out.append(f"<p>Not a recurrence: no earlier incident within {window} days {scope_phrase(kb)} had one of "
                       "its root-cause categories.</p>\n")
        later = _later_of(kb).get(incident_id, [])
        if later:
            out.append(f"<p><strong>Recurred later</strong>: {len(later)} later incident{_s(len(later))} within "
                       f"{window} days {scope_phrase(kb)} had one of its root-cause categories.</p>\n")
            out.append(_listed([_pair(w, inc, kb.by_id[b], kb.by_id[b], "later") for b in later[:INCIDENT_LINK_LIMIT]],
                               len(later), "later incidents"))

    failed = failed_fixes(kb).get(incident_id, ())
    if failed:
        out.append(f"<p><strong>Fixes that did not hold here</strong>: action items of earlier incidents "
                   f"{scope_phrase(kb)}, done before this one began, that addressed a root cause it had.</p>\n")
        out.append(_listed([f"<li>{fix_label(w, kb, f.incident, f.action)}: done {f.completed.isoformat()}; "
                            f"{came_back(w, f)}.</li>" for f in failed[:INCIDENT_LINK_LIMIT]], len(failed), "fixes"))
    own = _fixes_of(kb).get(incident_id, [])
    if own:
        out.append("<p><strong>Did this incident's fixes hold?</strong></p>\n")
        out.append(_listed([f"<li>{fix_label(w, kb, fix.incident, fix.action, with_incident=False)}: "
                            f"{_fix_state(w, fix, ctx.today)}</li>" for fix in own], len(own), "fixes"))
    return "".join(out)


def _fix_state(w: PageLinks, fix: Fix, today: date) -> str:
    kb = w.kb
    window = kb.settings.recurrence_window_days
    done = f"done {fix.completed.isoformat()}"
    state = fix.state(today, window)
    if state == "did_not_hold":
        f = fix.failure
        return f"{done}; did not hold: {came_back(w, f)}, at {w.incident(f.at)}."
    if state == "held":
        where = ("anywhere in the organisation" if kb.settings.recurrence_scope == "category"
                 else "on this incident's services, models or data sets")
        return f"{done}; held: nothing it addressed came back {where} within {window} days."
    try:
        closes = f"the window closes {(fix.completed + timedelta(days=window)).isoformat()}"
    except OverflowError:  # a window longer than the calendar: it never closes
        closes = "the window does not close before the end of the calendar"
    return f"{done}; too early to tell: nothing it addressed has come back so far; {closes}."


# --- category pages ----------------------------------------------------------------------------

@dataclass
class _CategoryIndex:
    members: dict[str, list[Incident]]     # incidents per category, in (started, id) order


def _category_index(kb: "KnowledgeBase") -> _CategoryIndex:
    def build() -> _CategoryIndex:
        members: dict[str, list[Incident]] = defaultdict(list)
        for inc in kb.incidents:
            for c in inc.categories:
                members[c].append(inc)
        return _CategoryIndex(dict(members))
    return memo(kb, "notes.category_index", build)


def _category_failures(kb: "KnowledgeBase") -> dict[str, list[FixFailure]]:
    """Category -> the fixes that did not hold with it among what came back, newest
    failure first."""
    def build() -> dict[str, list[FixFailure]]:
        out: dict[str, list[FixFailure]] = defaultdict(list)
        for inc in reversed(kb.incidents):
            for f in failed_fixes(kb).get(inc.id, ()):
                for c in f.categories:
                    out[c].append(f)
        return dict(out)
    return memo(kb, "notes.category_failures", build)


def category_notes(kb: "KnowledgeBase", category_id: str, ctx: SiteContext, directory_urls: bool = True) -> str:
    """Recurrence notes for `categories/<layer>/<category>/`: occurrences over time, the gaps
    between them, recurrences and fixes that did not hold. No heading of its own."""
    w = PageLinks(kb, category_src(category_id), directory_urls)
    tz = kb.settings.tz
    window = kb.settings.recurrence_window_days
    incs = _category_index(kb).members.get(category_id, [])
    if not incs:
        return "<p>No incident has this root cause yet.</p>\n"
    rec = recurrence(kb)
    recurring = [i for i in incs if category_id in rec[i.id].recurs]
    gaps = [(b.started - a.started).total_seconds() / 60 for a, b in zip(incs, incs[1:])]
    failures = _category_failures(kb).get(category_id, [])
    first, last = local_date(incs[0].started, tz), local_date(incs[-1].started, tz)
    since = (ctx.today - last).days
    ago = f" (the last one {since} day{_s(since)} before {ctx.today.isoformat()})" if since >= 0 else ""
    text = (f"<strong>{len(incs)}</strong> incident{_s(len(incs))} had this root cause, "
            f"from {first.isoformat()} to {last.isoformat()}{ago}. "
            f"<strong>{len(recurring)}</strong> recurred it: an earlier incident {scope_phrase(kb)} had it within "
            f"{window} days (recurrence rate {percent(len(recurring) / len(incs))}). ")
    if gaps:
        text += (f"Gap between consecutive occurrences anywhere: median {human_minutes(statistics.median(gaps))}, "
                 f"shortest {human_minutes(min(gaps))}, longest {human_minutes(max(gaps))} (n={len(gaps)}). ")
    n = len(failures)
    text += (f"Fixes that did not hold: <strong>{n}</strong> done action item{_s(n)} addressing this category "
             f"{'was' if n == 1 else 'were'} followed, within {window} days of {'its' if n == 1 else 'their'} "
             f"completion, by a later incident with it {scope_phrase(kb)}.")
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
    out.append(figure_table(["Incident", "Title", "Started", "since the previous one, anywhere", f"recurrence (within {window} days)"],
                             rows, ["l", "l", "l", "r", "l"]) + "\n")

    if failures:
        out.append("<p><strong>Fixes that did not hold in this category</strong> (the most recent first)</p>\n")
        out.append(failure_table(w, failures[:LIST_LIMIT], len(failures)))
    return "".join(out)


def failure_table(w: PageLinks, failures: list[FixFailure], total: int) -> str:
    """A table of fixes that did not hold, already cut to the rows shown out of `total`:
    where the problem came back, the fix, and what came back how long after it was done.
    No owner column: the list is about systems and kinds of fixes, not people."""
    kb, tz = w.kb, w.kb.settings.tz
    rows = []
    for f in failures:
        at = kb.by_id[f.at]
        rows.append([f"{w.incident(f.at)}<br><small>{local_date(at.started, tz).isoformat()}</small>",
                     f"{fix_label(w, kb, f.incident, f.action)}",
                     f"done {f.completed.isoformat()}; {came_back(w, f)}"])
    note = f"<p>The {len(failures)} most recent of {total}.</p>\n" if total > len(failures) else ""
    return note + figure_table(["Came back at", "Fix", "What came back"], rows, ["l", "l", "l"],
                               css_class="pmkb-fixes") + "\n"
