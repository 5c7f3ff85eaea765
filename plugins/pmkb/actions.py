"""The action-item ledger (`actions/`): every action item across incidents.

Open work comes first, overdue before the rest: that is what a reliability lead acts on.
Done and dropped items, which only grow, live on their own pages so the ledger stays
readable with thousands of incidents.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Iterable

from markupsafe import escape

from .metrics import fix_outcomes
from .model import ActionItem, Incident
from .pages import Page, SiteContext, StaticFile
from .trends import LIST_LIMIT, admonition, category_link, incident_link, md_text, percent, rel, table

if TYPE_CHECKING:
    from .kb import KnowledgeBase

STATUSES = ("open", "in-progress", "done", "wont-do")
TYPES = ("prevention", "detection", "mitigation", "process")
STATUS_TITLES = {"open": "Open", "in-progress": "In progress", "done": "Done", "wont-do": "Won't do"}
INDEX = "actions/index.md"
DONE = "actions/done.md"
WONT = "actions/wont-do.md"


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
    return sum(1 for i in dated if i.completed <= i.due) / len(dated) if dated else None


def actions_site(kb: "KnowledgeBase", ctx: SiteContext) -> tuple[list[Page], list[StaticFile]]:
    """actions/index.md (overdue, open, in progress, by owner and type, fixes that did not
    hold), actions/done.md and actions/wont-do.md."""
    today = ctx.today
    all_entries = entries(kb)
    overdue = sorted((e for e in all_entries if e.item.overdue(today)), key=_due_key)
    open_ = sorted((e for e in all_entries if e.item.status == "open" and not e.item.overdue(today)), key=_due_key)
    progress = sorted((e for e in all_entries if e.item.status == "in-progress" and not e.item.overdue(today)),
                      key=_due_key)
    done = sorted((e for e in all_entries if e.item.status == "done"), key=_done_key)
    wont = sorted((e for e in all_entries if e.item.status == "wont-do"), key=_due_key, reverse=True)

    md = ["# Action items\n\n",
          f"Every action item of every postmortem, drafts included. *Today* is {today.isoformat()} "
          f"(the build date in the {md_text(kb.settings.timezone)} time zone, or `SOURCE_DATE_EPOCH`'s); "
          f"an item is **overdue** when it is open or in progress and its due date is before today. "
          f"See [metric definitions]({rel(INDEX, 'metrics.md')}).\n\n"]
    items = [e.item for e in all_entries]
    md.append(table(["", "items"], [
        ["**Overdue**", str(len(overdue))],
        ["Open (not overdue)", str(len(open_))],
        ["In progress (not overdue)", str(len(progress))],
        [f"[Done]({rel(INDEX, DONE)})", str(len(done))],
        [f"[Won't do]({rel(INDEX, WONT)})", str(len(wont))],
        ["**All**", str(len(all_entries))],
        ["Completion rate (done / all but won't do)", percent(completion_rate(items))],
        ["Done on time (completed by the due date)", percent(on_time_rate(items))],
    ]))

    md.append(f"\n## Overdue ({len(overdue)})\n\n")
    if overdue:
        md.append(admonition("warning", f"{len(overdue)} overdue",
                             "Open or in progress past their due date, the longest overdue first.") + "\n")
    md.append(_item_table(kb, overdue, INDEX, today, overdue_col=True) if overdue else "None.\n")
    md.append(f"\n## Open ({len(open_)})\n\n")
    md.append(_item_table(kb, open_, INDEX, today) if open_ else "None.\n")
    md.append(f"\n## In progress ({len(progress)})\n\n")
    md.append(_item_table(kb, progress, INDEX, today) if progress else "None.\n")
    md.append(f"\n## Done and won't do\n\n[{len(done)} done]({rel(INDEX, DONE)}) · "
              f"[{len(wont)} won't do]({rel(INDEX, WONT)})\n")

    md.append("\n## By owner\n\n")
    md.append(_breakdown(all_entries, lambda e: e.item.owner, "Owner", today) if all_entries else "No action items.\n")
    md.append("\n## By type\n\n")
    md.append(_breakdown(all_entries, lambda e: e.item.type, "Type", today, order=TYPES)
              if all_entries else "No action items.\n")
    md.append("\n## Fixes that did not hold\n\n")
    md.append(_failed_fixes(kb, INDEX))

    done_md = ["# Done action items\n\n", f"[Back to the ledger]({rel(DONE, INDEX)}). Most recently completed "
               "first; items without a completion date last (they cannot show whether the fix held).\n\n",
               _item_table(kb, done, DONE, today, completed_col=True) if done else "None yet.\n"]
    wont_md = ["# Action items not to be done\n\n", f"[Back to the ledger]({rel(WONT, INDEX)}). Latest due date "
               "first.\n\n", _item_table(kb, wont, WONT, today) if wont else "None.\n"]
    pages = [Page(INDEX, "Action items", "".join(md)),
             Page(DONE, "Done action items", "".join(done_md)),
             Page(WONT, "Action items not to be done", "".join(wont_md))]
    return pages, []


def _due_key(e: Entry) -> tuple:
    return (e.item.due, e.incident.started, e.incident.id, e.item.position)


def _done_key(e: Entry) -> tuple:
    # Newest completion first; undated ones last.
    c = e.item.completed
    return (c is None, -(c.toordinal()) if c else 0, e.incident.started, e.incident.id, e.item.position)


def _ticket(url: str | None) -> str:
    if not url:
        return "–"
    # The schema allows only http(s) addresses; checked again because this becomes an href.
    if not url.startswith(("http://", "https://")):
        return md_text(url)
    return f'<a href="{escape(url)}">ticket</a>'


def _item_table(kb: "KnowledgeBase", rows: list[Entry], src: str, today: date, *, overdue_col: bool = False,
                completed_col: bool = False) -> str:
    header = ["Due"] + (["overdue by"] if overdue_col else []) + (["completed"] if completed_col else []) + \
             ["Action item", "Type", "Owner", "Status", "Incident", "Severity", "Ticket"]
    out = []
    for e in rows:
        it = e.item
        cells = [it.due.isoformat()]
        if overdue_col:
            days = (today - it.due).days
            cells.append(f"{days} day{'s' if days != 1 else ''}")
        if completed_col:
            cells.append(it.completed.isoformat() if it.completed else "–")
        cells += [md_text(it.title), md_text(it.type), md_text(it.owner), STATUS_TITLES.get(it.status, md_text(it.status)),
                  f"{incident_link(e.incident.id, src)} {md_text(e.incident.title)}", md_text(e.incident.severity),
                  _ticket(it.ticket)]
        out.append(cells)
    return table(header, out, ["l"] * len(header))


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
        rows.append([md_text(n), str(len(items)), str(sum(i.overdue(today) for i in items)), str(c["open"]),
                     str(c["in-progress"]), str(c["done"]), str(c["wont-do"]), percent(completion_rate(items))])
    return table([label, "items", "overdue", "open", "in progress", "done", "won't do", "completion rate (without won't do)"], rows)


def _failed_fixes(kb: "KnowledgeBase", src: str) -> str:
    outcomes = list(fix_outcomes(kb).values())
    if not outcomes:
        return ("No fix has failed so far: no done action item was followed by a recurrence of a category it "
                "addressed.\n")
    # One row per done item (what a lead revisits), the ones followed by most recurrences first.
    outcomes.sort(key=lambda o: (-o.later_count, kb.by_id[o.incident].order_key, o.position))
    pairs = sum(o.later_count for o in outcomes)
    out = [f"**{len(outcomes)}** done action item{'s' if len(outcomes) != 1 else ''} did not prevent a later "
           f"recurrence: the item was completed before a later incident started, and that incident recurs a "
           f"category the item addressed. Together they were followed by {pairs} such recurrence"
           f"{'s' if pairs != 1 else ''}. Most repeated first.\n\n"]
    if len(outcomes) > LIST_LIMIT:
        out.append(f"The first {LIST_LIMIT} of {len(outcomes)}; `failed_fixes` in incidents.json has them all.\n\n")
    tz = kb.settings.tz
    rows = []
    for o in outcomes[:LIST_LIMIT]:
        item = kb.by_id[o.incident].action_items[o.position]
        shown = ", ".join(f"{incident_link(b, src)} ({kb.by_id[b].started.astimezone(tz).date().isoformat()})"
                          for b in o.first_later)
        if o.later_count > len(o.first_later):
            shown += f" and {o.later_count - len(o.first_later)} more"
        rows.append([incident_link(o.incident, src), md_text(item.title), md_text(item.type),
                     item.completed.isoformat() if item.completed else "–",
                     ", ".join(category_link(kb, c, src) for c, _ in o.categories), str(o.later_count), shown])
    out.append(table(["Earlier incident", "Action item", "Type", "completed", "Category recurred",
                      "later incidents", "first ones"], rows, ["l", "l", "l", "l", "l", "r", "l"]))
    return "".join(out)
