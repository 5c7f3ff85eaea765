"""The sections of the trends page that break incidents down: who detected them, which
failure dimensions contributed, how long each severity took to resolve."""

from __future__ import annotations

from collections import Counter

from ..knowledge.metrics import summarize
from . import charts
from .blocks import h
from .chart_style import PALETTE, UNKNOWN_COLOR
from .htmlutil import human_minutes, percent
from .trend_sections import (
    CONTRIBUTIONS,
    Scope,
    durations_of,
    severity_colors,
    severity_ids,
    small_n_warning,
    summary_cells,
    weak_row,
)
from .trend_writer import Writer
from .wording import SMALL_N


def detection_class(source: str | None) -> str:
    """Who found it, coarsely: detection-source ids naming an alert or a monitor are our own
    automation, ids naming a customer are customers (the taxonomy is the organisation's)."""
    if source is None:
        return "not recorded"
    s = source.lower()
    if "customer" in s:
        return "customers"
    if "alert" in s or "monitor" in s:
        return "our alerts and monitors"
    return "other"


DETECTION_CLASSES = ("our alerts and monitors", "customers", "other", "not recorded")


def detection(w: Writer, sc: Scope) -> None:
    kb = w.kb
    total = len(sc.incidents)
    by_class = Counter(detection_class(i.detection) for i in sc.incidents)
    by_source = Counter(i.detection for i in sc.incidents)
    w.heading(2, "Detection sources")
    if by_class["not recorded"] == total:
        w.para("No incident here records how it was detected (<code>detection</code>).")
        return
    w.para(f"Found by <strong>our alerts and monitors</strong>: {percent(by_class['our alerts and monitors'] / total)} "
           f"({by_class['our alerts and monitors']} of {total}); by <strong>customers</strong>: "
           f"{percent(by_class['customers'] / total)} ({by_class['customers']}); "
           f"other ways: {by_class['other']}; not recorded: {by_class['not recorded']}.")
    if total < SMALL_N:
        small_n_warning(w, [f"n={total}"], f"These shares rest on fewer than {SMALL_N} incidents")
    shares: dict[str, list[float]] = {c: [] for c in DETECTION_CLASSES}
    for q in sc.quarters:
        cnt = Counter(detection_class(i.detection) for i in sc.by_quarter.get(q, ()))
        n = sum(cnt.values())
        for c in DETECTION_CLASSES:
            shares[c].append(cnt[c] / n if n else 0.0)
    palette = dict(zip(DETECTION_CLASSES, (PALETTE[0], PALETTE[3], PALETTE[4],
                                           UNKNOWN_COLOR)))
    used = [c for c in DETECTION_CLASSES if by_class[c]]     # no legend entry for an empty series
    w.chart("detection", charts.bar_spec(
        f"Who found the incident, per {sc.unit}", sc.quarters, {c: shares[c] for c in used},
        ylabel="share of incidents", xlabel=f"{sc.unit} ({kb.settings.timezone})", percent=True,
        colors=[palette[c] for c in used]),
        "Stacked bar chart: share of incidents found by our alerts and monitors, by customers, other ways")
    rows = []
    known = [t.id for t in kb.taxonomy.detection_sources]
    titles = {t.id: t.title for t in kb.taxonomy.detection_sources}
    for sid in known + sorted(s for s in by_source if s is not None and s not in titles):
        if not by_source[sid]:
            continue
        rows.append([h(titles.get(sid, sid)), f"<code>{h(sid)}</code>", detection_class(sid),
                     str(by_source[sid]), percent(by_source[sid] / total)])
    rows.append(["<em>not recorded</em>", "", "not recorded", str(by_source[None]), percent(by_source[None] / total)])
    w.table(["Detection source", "id", "counted as", "incidents", "share"], rows, ["l", "l", "l", "r", "r"])
    w.para("Detection sources of the taxonomy that no incident here names are left out.")


def dimensions(w: Writer, sc: Scope) -> None:
    kb = w.kb
    dims = [d.id for d in kb.taxonomy.dimensions]
    titles = {d.id: d.title for d in kb.taxonomy.dimensions}
    per_q: dict[str, dict[str, Counter]] = {q: {d: Counter() for d in dims} for q in sc.quarters}
    for q in sc.quarters:
        for inc in sc.by_quarter.get(q, ()):
            for f in inc.dimensions:
                if f.id in per_q[q]:
                    per_q[q][f.id][f.contribution] += 1
    w.heading(2, "Failure dimensions over time")
    assessed = [q for q in sc.quarters if any(sum(per_q[q][d].values()) for d in dims)]
    if not assessed:
        w.para("No incident here assesses its failure dimensions (<code>dimensions</code>).")
        return
    w.para("How many incidents each failure dimension contributed to, from the <code>dimensions</code> of the "
           "postmortems (incidents that do not assess a dimension are not counted).")
    span = sc.quarters[sc.quarters.index(assessed[0]):sc.quarters.index(assessed[-1]) + 1]
    series = {titles[d]: [per_q[q][d]["high"] + per_q[q][d]["medium"] for q in span] for d in dims
              if any(per_q[q][d]["high"] + per_q[q][d]["medium"] for q in span)}
    if series:
        w.chart("dimensions", charts.line_spec(
        "Incidents with a medium or high contribution, per dimension", span, series,
            ylabel="incidents", xlabel=f"{sc.unit} ({kb.settings.timezone})"),
            f"Line chart: incidents per {sc.unit} where each failure dimension contributed medium or high")
    w.para(f"{sc.units.capitalize()} where no incident assessed a dimension are left out.")
    w.table([sc.unit.capitalize()] + [f"{h(titles[d])}<br><small>high / medium / low</small>" for d in dims],
            ([q] + [" / ".join(str(per_q[q][d][c]) for c in CONTRIBUTIONS) for d in dims] for q in assessed))


def resolve_by_severity(w: Writer, sc: Scope) -> None:
    dur = durations_of(w.kb)
    resolved = {s: [v for i in sc.incidents if i.severity == s and (v := dur[i.id]["time_to_resolve"]) is not None]
                for s in severity_ids(w.kb, sc.incidents)}
    values = {s: vs for s, vs in resolved.items() if vs}      # a severity nobody resolved has no figure
    w.heading(2, "Time to resolve by severity")
    if not values:
        w.para("No incident here records when it was resolved.")
        return
    w.chart("resolve-by-severity", charts.box_spec(
        "Distribution of time to resolve, by severity", values, ylabel_prefix="time to resolve",
        xlabel="severity", colors=severity_colors(w.kb, list(values)), min_n=SMALL_N),
        "Box plot: distribution of time to resolve per severity")
    rows = []
    for s, vs in values.items():
        st = summarize(vs)
        rows.append(weak_row([h(s)] + summary_cells(st) + [human_minutes(min(vs)), human_minutes(max(vs))], st["n"]))
    w.para(f"Severities without a resolved incident are left out; figures in grey rest on fewer than {SMALL_N} "
           "incidents.")
    w.table(["Severity", "n", "mean", "median", "p90", "shortest", "longest"], rows)
