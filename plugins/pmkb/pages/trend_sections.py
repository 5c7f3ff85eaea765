"""The sections of the trends page: counts, durations and recurrence per period, the
categories that keep coming back and whether their fixes held. Missing data is never drawn
as a figure: periods without a value are left out of tables, a series without a value gets
no chart and a section without data one sentence."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..incidents.model import Incident
from ..knowledge.metrics import DURATIONS, durations, group_stats, local_date, memo, quarter_key, quarter_range
from ..knowledge.recurrence import ACTION_TYPES, all_fixes, failed_fixes, fix_counts, recurrence
from . import charts
from .blocks import h
from .chart_style import SEVERITY_COLORS, UNKNOWN_COLOR
from .htmlutil import human_minutes, percent
from .trend_writer import Writer
from .wording import DURATION_TITLES, SMALL_N, SMALL_N_NOTE, fix_rule, fix_type_table, scope_phrase, scope_sentence

if TYPE_CHECKING:
    from ..knowledge.kb import KnowledgeBase

MAX_QUARTERS = 40       # more quarters than this from the first incident to the last: the pages go by year
CONTRIBUTIONS = ("high", "medium", "low")


@dataclass
class Scope:
    """The figures of a set of incidents (the whole knowledge base, a service, a team)."""
    incidents: list[Incident]
    quarters: list[str]                     # the periods of the time series: quarters, or years (`unit`)
    by_quarter: dict[str, list[Incident]]
    q_stats: dict[str, dict[str, Any]]
    overall: dict[str, Any]
    unit: str = "quarter"                   # "year" when quarters would be too many to read

    @property
    def units(self) -> str:
        return self.unit + "s"


def durations_of(kb: "KnowledgeBase") -> dict[str, dict[str, float | None]]:
    return memo(kb, "trends.durations", lambda: {i.id: durations(i) for i in kb.incidents})


def recurring_ids(kb: "KnowledgeBase") -> frozenset[str]:
    return memo(kb, "trends.recurring", lambda: frozenset(i for i, r in recurrence(kb).items() if r.recurs))


def scope_of(kb: "KnowledgeBase", incidents: list[Incident]) -> Scope:
    tz = kb.settings.tz
    dur = durations_of(kb)
    rec = recurring_ids(kb)
    by_q: dict[str, list[Incident]] = defaultdict(list)
    for inc in incidents:
        by_q[quarter_key(inc.started, tz)].append(inc)
    quarters = quarter_range(min(by_q), max(by_q), by_q) if by_q else []
    unit = "quarter"
    if len(quarters) > MAX_QUARTERS:
        # Decades of postmortems: a chart of 145 quarters is unreadable and mostly empty,
        # so the pages go by year (trends.json keeps every quarter).
        unit = "year"
        by_q = defaultdict(list)
        for inc in incidents:
            by_q[f"{inc.started.astimezone(tz).year:04d}"].append(inc)
        years = range(int(min(by_q)), int(max(by_q)) + 1)
        # a typo year (0202) would list centuries of empty years: then only the years with incidents
        quarters = [f"{y:04d}" for y in years] if len(years) <= MAX_QUARTERS * 10 else sorted(by_q)
    q_stats = {q: group_stats(by_q.get(q, ()), rec, lambda i: dur[i.id]) for q in quarters}
    return Scope(incidents, quarters, by_q, q_stats, group_stats(incidents, rec, lambda i: dur[i.id]), unit)


def severity_ids(kb: "KnowledgeBase", incidents: list[Incident]) -> list[str]:
    """The taxonomy's severities, most severe first, then any other that incidents name."""
    ids = [s.id for s in kb.taxonomy.severities]
    return ids + sorted({i.severity for i in incidents} - set(ids))


def incidents_per_period(w: Writer, sc: Scope) -> None:
    """Incidents per quarter (or year) by severity: only the severities that occur."""
    kb = w.kb
    present = Counter(i.severity for i in sc.incidents)
    shown_sev = [s for s in severity_ids(kb, sc.incidents) if present[s]]
    counts = {q: Counter(i.severity for i in sc.by_quarter.get(q, ())) for q in sc.quarters}
    busy = [q for q in sc.quarters if counts[q]]
    w.heading(2, f"Incidents per {sc.unit}")
    w.chart("incidents", charts.bar_spec(
        f"Incidents per {sc.unit} by severity", sc.quarters,
        {s: [counts[q][s] for q in sc.quarters] for s in shown_sev},
        ylabel="incidents", xlabel=f"{sc.unit} ({kb.settings.timezone})", colors=severity_colors(kb, shown_sev)),
        f"Stacked bar chart: incidents per {sc.unit}, by severity")
    if len(busy) < len(sc.quarters):
        w.para(f"{len(sc.quarters) - len(busy)} of the {len(sc.quarters)} {sc.units} from {sc.quarters[0]} to "
               f"{sc.quarters[-1]} had no incident; the table leaves them out.")
    w.table([sc.unit.capitalize()] + [h(s) for s in shown_sev] + ["Total"],
            ([q] + [str(counts[q][s]) for s in shown_sev] + [str(sum(counts[q].values()))] for q in busy))


def durations_per_period(w: Writer, sc: Scope) -> None:
    """Time to detect, mitigate and resolve per quarter (or year)."""
    w.heading(2, f"Time to detect, mitigate and resolve per {sc.unit}")
    shown = ("time_to_detect", "time_to_mitigate", "time_to_resolve")
    recorded = [k for k in (*shown, "time_to_diagnose") if sc.overall[k]["n"]]
    if not recorded:
        w.para("No incident here records when it was detected, mitigated or resolved, so there are no durations "
               "to show.")
    else:
        w.para(f"{sc.units.capitalize()} where no incident recorded the value are left out of the tables and are gaps in the "
               f"chart. Figures in grey rest on fewer than {SMALL_N} incidents: one unusual incident moves them a "
               "lot, read them as anecdotes, not trends.")
    charted = [k for k in shown if sc.overall[k]["n"]]
    if charted:
        have = [i for i, q in enumerate(sc.quarters) if any(sc.q_stats[q][k]["n"] for k in charted)]
        span = sc.quarters[have[0]:have[-1] + 1]        # trimmed to where the values are
        panels = [{"title": DURATION_TITLES[k] + " (median, p90 and mean)",
                   **{m: [sc.q_stats[q][k][m] for q in span] for m in ("mean", "median", "p90", "n")}}
                  for k in charted]
        w.chart("durations", charts.durations_spec(
            f"Time to detect, mitigate and resolve per {sc.unit}", span, panels,
            xlabel=f"{sc.unit} ({w.kb.settings.timezone})", min_n=SMALL_N),
            f"Line charts per {sc.unit} of the median, 90th percentile and mean time to "
            + ", ".join(DURATION_TITLES[k][8:] for k in charted))
    for key in recorded:
        w.heading(3, DURATION_TITLES[key])
        rows = []
        for q in sc.quarters:
            s = sc.q_stats[q][key]
            if s["n"]:
                rows.append(weak_row([q, *summary_cells(s)], s["n"]))
        w.table([sc.unit.capitalize(), "n", "mean", "median", "p90"], rows)
    missing = [DURATION_TITLES[k].lower() for k in (*shown, "time_to_diagnose") if k not in recorded]
    if recorded and missing:
        w.para(f"Not recorded by any incident here: {', '.join(missing)}.")


def recurrence_per_period(w: Writer, sc: Scope) -> None:
    """The share of incidents that recur an earlier root cause, per quarter (or year)."""
    w.heading(2, f"Recurrence rate per {sc.unit}")
    w.para(scope_sentence(w.kb) + " The first window of a knowledge base has fewer recurrences by construction: "
           "there is less history to recur.")
    rates = [sc.q_stats[q]["recurrence_rate"] for q in sc.quarters]
    weak_q = [0 < sc.q_stats[q]["incidents"] < SMALL_N for q in sc.quarters]
    w.chart("recurrence", charts.line_spec(
        "Share of incidents that recur an earlier root cause", sc.quarters, {"recurrence rate": rates},
        ylabel="recurrences / incidents", xlabel=f"{sc.unit} ({w.kb.settings.timezone})", percent=True,
        weak=weak_q, weak_note=f"Hollow points: {sc.units} with fewer than {SMALL_N} incidents."),
        f"Line chart: recurrence rate per {sc.unit}")
    w.para(f"{sc.units.capitalize()} without incidents are left out; figures in grey rest on fewer than {SMALL_N} incidents.")
    w.table([sc.unit.capitalize(), "incidents", "recurrences", "recurrence rate"],
            (weak_row([q, str(sc.q_stats[q]["incidents"]), str(sc.q_stats[q]["recurrences"]),
                       percent(sc.q_stats[q]["recurrence_rate"])], sc.q_stats[q]["incidents"])
             for q in sc.quarters if sc.by_quarter.get(q)))


def severity_colors(kb: "KnowledgeBase", sev_ids: Sequence[str]) -> list[str]:
    """A colour per severity shown: its rank's colour, grey for an unrated one."""
    out = []
    for s in sev_ids:
        rank = kb.taxonomy.rated_rank(s)
        out.append(UNKNOWN_COLOR if kb.taxonomy.unrated(s) or rank >= len(SEVERITY_COLORS)
                   else SEVERITY_COLORS[rank])
    return out


def weak_row(cells: list[str], n: int) -> list[str]:
    """The row's figures in grey when they rest on fewer than SMALL_N incidents."""
    if 0 < n < SMALL_N:
        return [cells[0]] + [f'<span class="pmkb-weak" title="fewer than {SMALL_N} incidents">{c}</span>'
                             for c in cells[1:]]
    return cells


def summary_cells(s: dict[str, Any]) -> list[str]:
    return [str(s["n"]), human_minutes(s["mean"]), human_minutes(s["median"]), human_minutes(s["p90"])]


def small_n_warning(w: Writer, weak: list[str], lead: str) -> None:
    """A warning naming the groups whose n is below SMALL_N; `lead` ends before the list
    (HTML, as are the groups' names)."""
    if weak:
        listed = ", ".join(weak[:12]) + (f" and {len(weak) - 12} more" if len(weak) > 12 else "")
        w.warning(f"{lead}: {listed}. {SMALL_N_NOTE}")


def overview(w: Writer, sc: Scope) -> None:
    o = sc.overall
    tz = w.kb.settings.tz
    first = local_date(sc.incidents[0].started, tz)
    last = local_date(sc.incidents[-1].started, tz)
    w.para(f"<strong>{o['incidents']}</strong> incident{'s' if o['incidents'] != 1 else ''} from {first.isoformat()} to "
           f"{last.isoformat()}; <strong>{o['recurrences']}</strong> of them recur an earlier root cause "
           f"{scope_phrase(w.kb)} (recurrence rate {percent(o['recurrence_rate'])}).")
    rows, missing = [], []
    for key in DURATIONS:
        s = o[key]
        if not s["n"]:
            missing.append(DURATION_TITLES[key].lower())
            continue
        rows.append(weak_row([DURATION_TITLES[key]] + summary_cells(s), s["n"]))
    if rows:
        w.table(["", "n", "mean", "median", "p90"], rows)
        w.para("<em>n</em>: incidents that have the value (a missing timestamp leaves an incident out)."
               + (f" Not recorded by any incident: {', '.join(missing)}." if missing else ""))
    else:
        w.para("No incident records when it was detected, mitigated or resolved: there are no durations.")


def recurring_categories(w: Writer, sc: Scope) -> None:
    kb = w.kb
    rec = recurrence(kb)
    n_inc: Counter = Counter()
    n_rec: Counter = Counter()
    for inc in sc.incidents:
        n_inc.update(inc.categories)
        n_rec.update(rec[inc.id].recurs)
    # Fixes that did not hold, per category that came back (whole knowledge base).
    failed_items: Counter = Counter()
    for failures in failed_fixes(kb).values():
        for f in failures:
            failed_items.update(f.categories)
    ranked = sorted((c for c in n_inc if n_rec[c]), key=lambda c: (-n_rec[c], -n_inc[c], c))
    w.heading(2, "Most recurring root-cause categories")
    if not ranked:
        w.para(f"No incident here recurs a root-cause category within {kb.settings.recurrence_window_days} days.")
        return
    top = ranked[:10]
    names = [(kb.taxonomy.categories[c].title if c in kb.taxonomy.categories else c) for c in top]
    w.chart("categories", charts.hbar_spec(
        "Most recurring root-cause categories", names,
        {"incidents": [n_inc[c] for c in top], "recurrences": [n_rec[c] for c in top]},
        xlabel="incidents"), "Horizontal bar chart: incidents and recurrences of the most recurring categories")
    w.para("<em>Recurrences</em>: incidents that recur that very category."
           + " <em>Fixes that did not hold</em>: done action items addressing the category that it came back "
           f"after, {scope_phrase(kb)}, within {kb.settings.recurrence_window_days} days of their completion "
           "(each fix counted once, where it first came back).")
    header = ["Category", "incidents", "recurrences", "recurrence rate", "fixes that did not hold"]
    w.table(header, ([w.category(c, with_id=True), str(n_inc[c]), str(n_rec[c]),
                      percent(n_rec[c] / n_inc[c]), str(failed_items[c])]
                     for c in ranked[:15]))
    if len(ranked) > 15:
        more = len(ranked) - 15
        w.para(f"{more} more {'category recurs' if more == 1 else 'categories recur'}; "
               f'see <a href="{w.href("trends.json")}">trends.json</a> (<code>by_category</code>).')


def fixes_by_type(w: Writer, sc: Scope) -> None:
    """Did the fixes hold, per action type: which kinds of remediation last. On a service's
    or team's page, the fixes of its incidents."""
    kb = w.kb
    window = kb.settings.recurrence_window_days
    ids = {i.id for i in sc.incidents}
    fixes = [f for f in all_fixes(kb) if f.incident in ids]
    by_type: dict[str, list] = defaultdict(list)
    for f in fixes:
        by_type[f.type].append(f)
    types = list(ACTION_TYPES) + sorted(set(by_type) - set(ACTION_TYPES))
    summary = {"overall": fix_counts(fixes, w.ctx.today, window),
               "by_type": {t: fix_counts(by_type.get(t, ()), w.ctx.today, window) for t in types}}
    w.heading(2, "Fix hold rate by action type")
    o = summary["overall"]
    w.para(f"{fix_rule(kb)} Today is {w.ctx.today.isoformat()}. The hold rate is held / (held + did not hold): "
           f"which kinds of remediation last. Of <strong>{o['done']}</strong> fix{'es' if o['done'] != 1 else ''} here, "
           f"{o['did_not_hold']} did not hold and {o['held']} held (hold rate {percent(o['hold_rate'])}).")
    decided = o["held"] + o["did_not_hold"]
    if 0 < decided < SMALL_N:
        small_n_warning(w, [f"n={decided}"], f"The hold rate rests on fewer than {SMALL_N} decided fixes")
    w.html.append(fix_type_table(summary))
    if o["did_not_hold"]:
        w.para(f'The fixes that did not hold are listed on the <a href="{w.href("actions/index.md")}#fixes-that-did-not-hold">'
               "action items</a> page.")
