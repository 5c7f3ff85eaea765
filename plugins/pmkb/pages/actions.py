"""The action-item ledger (`actions/`): every action item across incidents.

Open work comes first, overdue before the rest: that is what a reliability lead acts on.
Each status also has a page with its full list, so the ledger stays readable (and quick
to build) with thousands of incidents; done and dropped items, which only grow, are
listed only there.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, partial
from typing import TYPE_CHECKING

from markupsafe import escape

from ..incidents.model import ActionItem, Incident
from ..knowledge.overdue import NO_TEAM, OverdueItem, by_team, overdue_items
from ..knowledge.recurrence import failed_fixes, fixes_summary
from .blocks import PageLinks, figure_table
from .htmlutil import md_text, percent, rel_url
from .page import Filling, Page, SiteContext, StaticFile, fragments_only, incident_src, placeholder
from .recurrence_notes import failure_table
from .render import plain
from .wording import LIST_LIMIT, SEARCH_EXCLUDED, fix_rule, fix_type_table, metrics_link

if TYPE_CHECKING:
    from ..knowledge.kb import KnowledgeBase

TYPES = ("prevention", "detection", "mitigation", "process")
STATUS_TITLES = {"open": "Open", "in-progress": "In progress", "done": "Done", "wont-do": "Won't do"}
INDEX = "actions/index.md"
DONE = "actions/done.md"
WONT = "actions/wont-do.md"
# Status groups of the ledger: (title, page with the full list). Overdue is a group of its
# own, taken out of open and in progress: it is what needs attention first.
GROUPS = {
    "overdue": ("Overdue", "actions/overdue.md"),
    "open": ("Open", "actions/open.md"),
    "in-progress": ("In progress", "actions/in-progress.md"),
    "done": ("Done", DONE),
    "wont-do": ("Won't do", WONT),
}
INDEX_ROWS = 100   # rows per status on the ledger page; the status pages list them all
OVERDUE_ORDER = ("Open or in progress past their due date. The most severe incidents first; among them, items "
                 "whose problem <em>came back since</em> they were due (a later incident on one of the same "
                 "systems with a root-cause category the item addresses); then the longest overdue.")


@dataclass(frozen=True)
class Entry:
    incident: Incident
    item: ActionItem


def entries(kb: "KnowledgeBase") -> list[Entry]:
    """Every action item, in incident (started, id) order, then the item's position."""
    return [Entry(inc, item) for inc in kb.incidents for item in inc.action_items]


def completion_rate(items: Iterable[ActionItem]) -> float | None:
    """Done items over items still meant to be done (a `wont-do` is a decision, not a debt);
    None when there are none."""
    counted = [i for i in items if i.status != "wont-do"]
    return sum(1 for i in counted if i.status == "done") / len(counted) if counted else None


def on_time_rate(items: Iterable[ActionItem]) -> float | None:
    """Of the done items with a completion date, the share completed on or before `due`."""
    dated = [i for i in items if i.status == "done" and i.completed is not None]
    return sum(1 for i in dated if i.completed is not None and i.completed <= i.due) / len(dated) if dated else None


def actions_site(kb: "KnowledgeBase", ctx: SiteContext,
                 directory_urls: bool = True) -> tuple[list[Page], list[StaticFile]]:
    """actions/index.md (the ledger: overdue, open, in progress, by owner and type, fixes
    that did not hold) and one full list per status (actions/overdue.md, open.md,
    in-progress.md, done.md, wont-do.md)."""
    today = ctx.today
    all_entries = entries(kb)
    # Ranking the overdue items asks, for each, which later incidents brought its problem
    # back: seconds at 10,000 incidents. Only the tables need it, and they are made apart
    # from the pages (beside MkDocs): the pages' own Markdown needs only how many there are.
    ranked = cache(partial(overdue_items, kb, today))
    groups = {
        "overdue": [e for e in all_entries if e.item.overdue(today)],    # counted here, ranked in the tables
        "open": sorted((e for e in all_entries if e.item.status == "open" and not e.item.overdue(today)), key=_due_key),
        "in-progress": sorted((e for e in all_entries if e.item.status == "in-progress" and not e.item.overdue(today)),
                              key=_due_key),
        "done": sorted((e for e in all_entries if e.item.status == "done"), key=_done_key),
        "wont-do": sorted((e for e in all_entries if e.item.status == "wont-do"), key=_due_key, reverse=True),
    }
    items = [e.item for e in all_entries]

    # The tables (tens of thousands of rows in a large knowledge base) are the pages'
    # fragments, made by `Page.make`: apart from the page, beside MkDocs.
    tables: dict[str, Callable[[], str]] = {}
    md = [f"---\n{SEARCH_EXCLUDED}---\n\n# Action items\n\n",
          f"Every action item of every postmortem, drafts included. *Today* is {today.isoformat()} "
          f"(the build date in the {md_text(kb.settings.timezone)} time zone, or that of `SOURCE_DATE_EPOCH`); "
          f"an item is **overdue** when it is open or in progress and its due date is before today. "
          f"{metrics_link(ctx, INDEX, _METRICS, directory_urls)}\n\n"]
    summary = [[_a(rel_url(INDEX, GROUPS[g][1], directory_urls), GROUPS[g][0]), str(len(groups[g]))] for g in GROUPS]
    summary[0][0] = f"**{summary[0][0]}**"
    summary += [["**All**", str(len(all_entries))],
                ["Completion rate (done / all but won't do)", percent(completion_rate(items))],
                ["Done on time (completed by the due date)", percent(on_time_rate(items))]]
    md.append(table(["", "items"], summary))

    for g in ("overdue", "open", "in-progress"):
        rows = groups[g]
        title, page = GROUPS[g]
        md.append(f"\n## {title} ({len(rows)})\n\n")
        if g == "overdue" and rows:
            md.append(admonition("warning", f"{len(rows)} overdue", OVERDUE_ORDER) + "\n")
        if len(rows) > INDEX_ROWS:
            md.append(f"The first {INDEX_ROWS}; {_a(rel_url(INDEX, page, directory_urls), f'all {len(rows)}')}.\n\n")
        if rows and g == "overdue":
            tables[g] = partial(_overdue_table, kb, ranked, INDEX_ROWS, INDEX, today, directory_urls)
            md.append(placeholder(g) + "\n")
        elif rows:
            tables[g] = partial(_item_table, kb, rows[:INDEX_ROWS], INDEX, today, directory_urls)
            md.append(placeholder(g) + "\n")
        else:
            md.append("None.\n")
    done = _a(rel_url(INDEX, DONE, directory_urls), f"{len(groups['done'])} done")
    wont = _a(rel_url(INDEX, WONT, directory_urls), f"{len(groups['wont-do'])} won't do")
    md.append(f"\n## Done and won't do\n\n{done} · {wont}\n")

    # The breakdowns and the fixes that did not hold are fragments too: the latter needs the
    # recurrence relation, which the build's main process does not work out.
    md.append("\n## By team\n\n")
    if kb.taxonomy.teams and all_entries:
        tables["teams"] = partial(_team_rollup, kb, today)
        md.append(placeholder("teams") + "\n")
    elif all_entries:
        md.append("The taxonomy lists no teams, so items are not rolled up by team: add `teams` (each with its "
                  "`members`) to the taxonomy file.\n")
    else:
        md.append("No action items.\n")
    md.append("\n## By owner\n\n")
    if all_entries:
        tables["owners"] = partial(_breakdown, all_entries, _owner, "Owner", today)
        md.append(placeholder("owners") + "\n")
    else:
        md.append("No action items.\n")
    md.append("\n## By type\n\n")
    if all_entries:
        tables["types"] = partial(_breakdown, all_entries, _type, "Type", today, order=TYPES)
        md.append(placeholder("types") + "\n")
    else:
        md.append("No action items.\n")
    md.append("\n## Fixes that did not hold\n\n")
    tables["failed"] = partial(_failed_fixes, kb, INDEX, today, directory_urls)
    md.append(placeholder("failed") + "\n")

    pages = [Page(INDEX, "Action items", "".join(md), in_nav=True, make=partial(_made, tables))]
    notes = {"overdue": OVERDUE_ORDER,
             "open": "Not started and not yet due, the soonest due first.",
             "in-progress": "Started and not yet due, the soonest due first.",
             "done": "Most recently completed first; items without a completion date last (they cannot show "
                     "whether the fix held).",
             "wont-do": "Decided against, the latest due date first."}
    for g, (title, page) in GROUPS.items():
        rows = groups[g]
        body = (f"---\n{SEARCH_EXCLUDED}---\n\n# {title} action items ({len(rows)})\n\n{_a(rel_url(page, INDEX, directory_urls), 'Back to the ledger')}. {notes[g]}\n\n" +
                (placeholder("list") + "\n" if rows else "None.\n"))
        table_of = (partial(_overdue_table, kb, ranked, None, page, today, directory_urls) if g == "overdue" else
                    partial(_item_table, kb, rows, page, today, directory_urls, completed_col=g == "done"))
        listing = {"list": table_of} if rows else {}
        pages.append(Page(page, f"{title} action items", body, make=partial(_made, listing)))
    return pages, []


def _overdue_table(kb: "KnowledgeBase", ranked: Callable[[], list[OverdueItem]], limit: int | None, src: str,
                   today: date, directory_urls: bool) -> str:
    """The overdue items in their ranking (the first `limit`), each with what came back."""
    items = ranked()[:limit]
    return _item_table(kb, [Entry(o.incident, o.item) for o in items], src, today, directory_urls, overdue_col=True,
                       came_back={(o.incident.id, o.item.position): o.came_back for o in items})


_METRICS = 'See <a href="{}">metric definitions</a>.'


def _a(href: str, text: str) -> str:
    # Links in the ledgers' Markdown are HTML: a Markdown link to a page's address (not its
    # source file) makes MkDocs log "unrecognized relative link" on every build.
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def _made(tables: Mapping[str, Callable[[], str]]) -> Filling:
    return fragments_only({name: make() for name, make in tables.items()})


def _due_key(e: Entry) -> tuple:
    return (e.item.due, e.incident.started, e.incident.id, e.item.position)


def _done_key(e: Entry) -> tuple:
    # Newest completion first; undated ones last.
    c = e.item.completed
    return (c is None, -(c.toordinal()) if c else 0, e.incident.started, e.incident.id, e.item.position)


def _ticket(url: str | None) -> str:
    """HTML: a link to the ticket, or a dash."""
    if not url:
        return "–"
    # The schema allows only http(s) addresses; checked again because this becomes an href.
    if not url.startswith(("http://", "https://")):
        return str(escape(url))
    return f'<a href="{escape(url)}">ticket</a>'


def _item_table(kb: "KnowledgeBase", rows: list[Entry], src: str, today: date, directory_urls: bool, *,
                overdue_col: bool = False, completed_col: bool = False,
                came_back: dict[tuple[str, int], tuple[str, ...]] | None = None) -> str:
    """An HTML table of action items. HTML rather than Markdown: the status pages of a
    large knowledge base hold tens of thousands of rows, and Markdown would parse them
    for tens of seconds. It goes in as a page fragment, after Markdown ran. Five columns,
    the details in small print, so that it fits the page without scrolling sideways."""
    header = ["Due"] + (["Completed"] if completed_col else []) + ["Action item", "Owner", "Status", "Incident"]
    out = ['<div class="pmkb-ledger" data-search-exclude data-pagefind-ignore><table>',
           "<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead><tbody>"]
    href: dict[str, str] = {}
    for e in rows:
        it, inc = e.item, e.incident
        if inc.id not in href:
            href[inc.id] = str(escape(rel_url(src, incident_src(inc.id), directory_urls)))
        due = it.due.isoformat()
        if overdue_col:
            days = (today - it.due).days
            due += f"<br><small>{days} day{'s' if days != 1 else ''} overdue</small>"
        cells = [due]
        if completed_col:
            cells.append(it.completed.isoformat() if it.completed else "–")
        ticket = _ticket(it.ticket)
        back = (came_back or {}).get((inc.id, it.position), ()) if overdue_col else ()
        if back:
            links = ", ".join(f'<a href="{escape(rel_url(src, incident_src(b), directory_urls))}">{escape(b)}</a>'
                              for b in back[:3]) + (f" and {len(back) - 3} more" if len(back) > 3 else "")
            back_html = f'<br><small class="pmkb-came-back">came back since it was due: {links}</small>'
        else:
            back_html = ""
        cells += [f"{plain(it.title)}<br><small>{plain(it.type)}{' · ' + ticket if it.ticket else ''}</small>{back_html}",
                  str(plain(it.owner)), STATUS_TITLES.get(it.status) or str(plain(it.status)),
                  f'<a href="{href[inc.id]}">{escape(inc.id)}</a> <small>{plain(inc.severity)}</small>'
                  f"<br><small>{plain(inc.title)}</small>"]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _team_rollup(kb: "KnowledgeBase", today: date) -> str:
    """Items by the owner's team (the taxonomy's `teams`): where a lead takes overdue work."""
    titles = {t.id: t.title for t in kb.taxonomy.teams}
    rows = []
    groups = by_team(kb, today)
    # most overdue first, then most open work (as owners); "no team recorded" last
    ranked = sorted(groups, key=lambda t: (t == NO_TEAM, -sum(i.overdue(today) for _, i in groups[t]),
                                           -sum(i.is_open for _, i in groups[t])))
    for team in ranked:
        pairs = groups[team]
        items = [item for _, item in pairs]
        c = Counter(i.status for i in items)
        owners = sorted({i.owner for i in items})
        name = f"<em>{NO_TEAM}</em>" if team == NO_TEAM else f"{plain(titles[team])} <code>{plain(team)}</code>"
        rows.append([name, str(len(owners)), str(len(items)), str(sum(i.overdue(today) for i in items)),
                     str(c["open"]), str(c["in-progress"]), str(c["done"]), percent(completion_rate(items))])
    note = ("<p>Each item counts for its owner's team, from the <code>teams</code> of the taxonomy (an owner "
            "that is a team's id counts for that team).</p>")
    return note + figure_table(["Team", "owners", "items", "overdue", "open", "in progress", "done", "completion rate"],
                               rows)


def _owner(e: Entry) -> str:
    return e.item.owner


def _type(e: Entry) -> str:
    return e.item.type


def _breakdown(all_entries: list[Entry], key, label: str, today: date, order: tuple[str, ...] = ()) -> str:
    groups: dict[str, list[ActionItem]] = defaultdict(list)
    for e in all_entries:
        groups[key(e)].append(e.item)
    names = [n for n in order if n in groups] + sorted(n for n in groups if n not in order)
    if not order:
        # Owners: most overdue first, then most open work: who needs a nudge.
        names.sort(key=lambda n: (-sum(i.overdue(today) for i in groups[n]),
                                  -sum(i.is_open for i in groups[n]), n))
    rows = []
    for n in names:
        items = groups[n]
        c = Counter(i.status for i in items)
        rows.append([str(plain(n)), str(len(items)), str(sum(i.overdue(today) for i in items)), str(c["open"]),
                     str(c["in-progress"]), str(c["done"]), str(c["wont-do"]), percent(completion_rate(items))])
    # "completion rate": done / all but won't do, as the summary above says
    return figure_table([label, "items", "overdue", "open", "in progress", "done", "won't do", "completion rate"], rows)


def _failed_fixes(kb: "KnowledgeBase", src: str, today: date, directory_urls: bool) -> str:
    """The fixes that did not hold: how many of the fixes did, per action type, and the list,
    the most recent failure first. About systems and kinds of fixes: no owner is named."""
    fixes = fixes_summary(kb, today)
    o = fixes["overall"]
    out = [f"<p>{fix_rule(kb)} Of <strong>{o['done']}</strong> fix{'es' if o['done'] != 1 else ''}, "
           f"{o['did_not_hold']} did not hold, {o['held']} held and {o['pending']} {'is' if o['pending'] == 1 else 'are'} "
           f"pending: hold rate {percent(o['hold_rate'])} (held / (held + did not hold)).</p>",
           fix_type_table(fixes)]
    failures = [f for inc in reversed(kb.incidents) for f in failed_fixes(kb).get(inc.id, ())]
    if not failures:
        out.append("<p>No fix has failed so far.</p>")
        return "\n".join(out)
    out.append(f"<p>Each fix that did not hold, once, where its problem first came back; the most recent first"
               f"{'' if len(failures) <= LIST_LIMIT else f' ({LIST_LIMIT} of {len(failures)}; <code>failed_fixes</code> in incidents.json has them all)'}."
               "</p>")
    out.append(failure_table(PageLinks(kb, src, directory_urls), failures[:LIST_LIMIT], len(failures)))
    return "\n".join(out)


# --- Markdown of the ledger pages -------------------------------------------------------

def table(header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> str:
    """A Markdown table; cells are Markdown already (escaped by the caller)."""
    align = align or ["l"] + ["r"] * (len(header) - 1)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def admonition(kind: str, title: str, text: str) -> str:
    body = "\n".join(("    " + line) if line else "" for line in text.strip("\n").split("\n"))
    return f'!!! {kind} "{title}"\n{body}\n'
