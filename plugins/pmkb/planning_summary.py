"""The planning summary at the top of `trends/`: what a reliability lead plans the next
period from, in one screen. Is detection and resolution getting faster (planning.py),
what keeps coming back, did our fixes hold, which overdue items matter most.

Written with the trend page's writer (`trends._Writer`: heading, para, table, href), as
HTML; every front-matter value goes through `h`.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from .blocks import h
from .htmlutil import human_minutes
from .metrics import fixes_summary, recurrence, shared_systems, system_label, systems
from .overdue import overdue_items
from .planning import MIN_INCIDENTS, MIN_N, RESAMPLES, Comparison, Periods, choose_periods, compare_measure, period_bounds

if TYPE_CHECKING:
    from .kb import KnowledgeBase

MEASURES = (("time_to_detect", "Time to detect"), ("time_to_resolve", "Time to resolve"))
VERDICTS = {
    "faster": "Faster",
    "slower": "Slower",
    "no clear change": "No clear change (within the noise)",
    "too few": "Too few incidents to tell",
    "not recorded": "Not recorded",
}
TOP_OVERDUE = 5
TOP_RECURRING = 5


def periods_of(kb: "KnowledgeBase") -> Periods | None:
    return choose_periods(kb.incidents, kb.settings.tz)


def period_text(key: str) -> str:
    first, last = period_bounds(key)
    return f"{key} <small>({first.isoformat()} to {last.isoformat()})</small>"


def why_granularity(p: Periods) -> str:
    """One sentence: which periods are compared and why at this granularity."""
    counts = f"{len(p.current_incidents)} and {len(p.previous_incidents)} incidents"
    if p.granularity == "quarter":
        return f"Quarters are compared: the latest two hold {counts}."
    finer = "quarters" if p.granularity == "half" else "quarters and half-years"
    if p.enough:
        return f"Compared by {p.noun}, because {finer} hold fewer than {MIN_INCIDENTS} incidents; these hold {counts}."
    return (f"Compared by year, the coarsest period; even so the two latest years hold only {counts} "
            f"(fewer than {MIN_INCIDENTS} in at least one).")


def verdict_html(c: Comparison) -> str:
    text = VERDICTS[c.verdict]
    cls = {"faster": "pmkb-better", "slower": "pmkb-worse"}.get(c.verdict, "pmkb-unknown" if not c.told else "")
    return f'<span class="{cls}">{text}</span>' if cls else text


def median_cell(value: float | None, n: int) -> str:
    if n == 0:
        return '<span class="pmkb-unknown">not recorded</span>'
    return f"{human_minutes(value)} <small>n={n}</small>"


def change_cell(c: Comparison) -> str:
    # no figure without a verdict: a difference of two anecdotes reads as a finding
    if c.difference is None or not c.told:
        return "–"
    sign = "−" if c.difference < 0 else "+"
    text = f"{sign}{human_minutes(abs(c.difference))}"
    if c.interval:
        lo, hi = c.interval
        text += f"<br><small>95% interval {_signed(lo)} to {_signed(hi)}</small>"
    return text


def _signed(minutes: float) -> str:
    return ("−" if minutes < 0 else "+" if minutes > 0 else "") + human_minutes(abs(minutes))


def comparisons(kb: "KnowledgeBase", p: Periods, values: dict[str, dict[str, float | None]]) -> dict[str, Comparison]:
    return {m: compare_measure(p, values, m) for m, _ in MEASURES}


def write_summary(w: Any, values: dict[str, dict[str, float | None]]) -> None:
    """The summary section of the trends page (the writer `w` of trends.py)."""
    kb: KnowledgeBase = w.kb
    p = periods_of(kb)
    w.heading(2, "Planning summary")
    if p is None:
        return
    # Is detection and resolution getting faster?
    w.heading(3, "Is detection and resolution getting faster?")
    w.para(f"This {p.noun}, {period_text(p.current)}, against the one before, {period_text(p.previous)}. "
           f"<small>{why_granularity(p)}</small>")
    found = comparisons(kb, p, values)
    rows = [[title, median_cell(found[m].current_median, found[m].current_n),
             median_cell(found[m].previous_median, found[m].previous_n), change_cell(found[m]), verdict_html(found[m])]
            for m, title in MEASURES]
    w.table(["Median", h(p.current), h(p.previous), "change", "more than noise?"], rows, ["l", "r", "r", "r", "l"])
    w.para(f"<small>Medians, with <em>n</em> the incidents that recorded the value. The change is more than "
           f"noise when the 95% bootstrap interval of the difference of medians ({RESAMPLES} resamples, fixed seed) "
           f"leaves out zero; with fewer than {MIN_N} values in either period there is no verdict.</small>"
           + w.metrics_link(' <small><a href="{}">How this is worked out</a>.</small>'))

    # What keeps coming back?
    w.heading(3, "What keeps coming back?")
    _recurring(w, p)

    # Did our fixes hold?
    w.heading(3, "Did our fixes hold?")
    _fixes(w)

    # Which overdue items matter most?
    w.heading(3, "Which overdue items matter most?")
    _overdue(w)


def _recurring(w: Any, p: Periods) -> None:
    """The categories that came back in the two periods, with the systems they came back
    on (metrics.recurrence: on a shared system, or anywhere under category scope)."""
    from .trends import scope_phrase     # trends.py imports this module
    kb = w.kb
    rec = recurrence(kb)
    window = list(p.previous_incidents) + list(p.current_incidents)
    counts: Counter = Counter()
    where: dict[str, Counter] = {}
    for inc in window:
        r = rec[inc.id]
        for cat in r.recurs:
            counts[cat] += 1
            on = where.setdefault(cat, Counter())
            shared = {s for a in r.recurrence_of if cat in kb.by_id[a].categories
                      for s in shared_systems(kb.by_id[a], inc)}
            on.update(shared)
    if not counts:
        if kb.settings.recurrence_scope == "system" and not any(systems(i) for i in window):
            w.para(f"Cannot tell: no incident of {h(p.previous)} or {h(p.current)} names a service, model or data set, "
                   "and a problem counts as back only on the same system.")
        else:
            w.para(f"No incident of {h(p.previous)} or {h(p.current)} recurs an earlier root cause {scope_phrase(kb)}.")
        return
    top = sorted(counts, key=lambda c: (-counts[c], c))[:TOP_RECURRING]

    def item(c: str) -> str:
        systems = [system_label(s) for s, _ in sorted(where[c].items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
        return f"{w.category(c)} ({counts[c]}{', on ' + ', '.join(h(s) for s in systems) if systems else ''})"
    total = sum(1 for inc in window if rec[inc.id].recurs)
    w.para(f"<strong>{total}</strong> of the {len(window)} incidents of {h(p.previous)} and {h(p.current)} recur an "
           f"earlier root cause {scope_phrase(kb)}. Most often: {'; '.join(item(c) for c in top)}.")


def _fixes(w: Any) -> None:
    """Hold rate per action type (metrics.fixes_summary): which kinds of remediation hold."""
    from .trends import percent, scope_phrase     # trends.py imports this module
    kb = w.kb
    fixes = fixes_summary(kb, w.ctx.today)
    parts = []
    for t, c in fixes["by_type"].items():
        decided = c["held"] + c["did_not_hold"]
        if not c["done"]:
            continue
        if decided:
            text = f"{h(t)} <strong>{percent(c['hold_rate'])}</strong> <small>(n={decided})</small>"
            parts.append(f'<span class="pmkb-weak">{text}</span>' if decided < MIN_N else text)
        else:
            parts.append(f'{h(t)} <span class="pmkb-unknown">not yet decided</span> <small>({c["pending"]} pending)</small>')
    if not parts:
        w.para("No fix yet: no action item is done with a completion date.")
        return
    o = fixes["overall"]
    window = kb.settings.recurrence_window_days
    w.para(f"Hold rate by action type: {' · '.join(parts)}. <small>Held: the problem did not come back "
           f"{scope_phrase(kb)} within {window} days of completion; {o['pending']} of {o['done']} fixes are younger "
           f"and pending. Grey: fewer than {MIN_N} decided fixes. "
           f'<a href="{w.href("actions/index.md")}">The ledger</a> lists the fixes that did not hold.</small>')


def _overdue(w: Any) -> None:
    kb = w.kb
    ranked = overdue_items(kb, w.ctx.today)
    if not ranked:
        w.para("No action item is overdue.")
        return
    rows = []
    for o in ranked[:TOP_OVERDUE]:
        sev = h(o.incident.severity)
        if kb.taxonomy.unrated(o.incident.severity):
            sev = f'<span class="pmkb-unknown">{sev}</span>'
        back = (f"yes: {', '.join(w.incident(b) for b in o.came_back[:2])}"
                + (f" and {len(o.came_back) - 2} more" if len(o.came_back) > 2 else "")) if o.came_back else (
            "no" if o.knowable else '<span class="pmkb-unknown">cannot tell: the incident names no system</span>')
        rows.append([f"{h(o.item.title)}<br><small>{h(o.item.type)} · {h(o.item.owner)}"
                     f"{' · ' + h(o.team) if o.team and o.team != o.item.owner else ''}</small>",
                     f"{w.incident(o.incident.id)} {sev}", back, str(o.days)])
    w.para(f"<strong>{len(ranked)}</strong> overdue; the {min(len(ranked), TOP_OVERDUE)} that matter most, by the "
           f"severity of their incident, then whether the problem came back since the item was due, then days "
           f'overdue. <a href="{w.href("actions/overdue.md")}">All overdue items</a>.')
    w.table(["Action item", "incident", "came back since due", "days overdue"], rows, ["l", "l", "l", "r"])
