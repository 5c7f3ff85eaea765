"""Checks across incident files: unique ids, `related` ids that exist, names written two
ways (GitHub / Github) that recurrence and the trends would count as two, and start
dates years away from all the others (a typo year)."""

from __future__ import annotations

from ..incidents.diagnostics import Diagnostic
from ..incidents.suggest import did_you_mean
from ..incidents.validate import FileResult
from .facets import FACETS, name_variants


def cross_file_checks(results: list[FileResult]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    first: dict[str, FileResult] = {}
    ids = set()
    for r in results:
        if r.id is None:
            continue
        ids.add(r.id)
        other = first.get(r.id)
        if other is None:
            first[r.id] = r
            continue
        diags.append(Diagnostic(r.shown, r.id_line, 1, "error",
                                f"id '{r.id}' is already used by {other.shown} (line {other.id_line}); ids must be unique, "
                                "pick the next free one (pmkb new does)"))
        diags.append(Diagnostic(other.shown, other.id_line, 1, "error",
                                f"id '{r.id}' is also used by {r.shown} (line {r.id_line}); ids must be unique"))
    for r in results:
        for rid, line, col in r.related:
            if rid not in ids:
                diags.append(Diagnostic(r.shown, line, col, "error",
                                        f"related: no incident has the id '{rid}'{did_you_mean(rid, ids)}"))
    return diags + _name_variants(results)


def _name_variants(results: list[FileResult]) -> list[Diagnostic]:
    """A warning at every spelling of a name that other files write differently only by
    case or punctuation (GitHub / Github, DataDog / data-dog): recurrence, the trends and
    the name's page would count them as two."""
    uses: dict[str, dict[str, int]] = {k: {} for k in FACETS}
    for r in results:
        for kind, value in {(k, v) for k, v, _, _ in r.names}:
            uses[kind][value] = uses[kind].get(value, 0) + 1
    variants = name_variants(uses)
    diags = []
    for r in results:
        for kind, value, line, col in r.names:
            v = variants.get((kind, value))
            if v is None:
                continue
            facet = FACETS[kind]
            diags.append(Diagnostic(r.shown, line, col, "warning",
                                    f"{facet.field}: '{value}' differs from '{v.usual}' ({v.uses} incident"
                                    f"{'s' if v.uses != 1 else ''}) only by case or punctuation (did you mean "
                                    f"'{v.usual}'?); write the {facet.noun} the same way everywhere, or recurrence "
                                    f"and the trends count two {facet.plural}"))
    return diags


# Incidents whose start lies this far from all the others are reported: a typo year (0202 for
# 2022) passes every check of its own file, and then stretches every trend over centuries.
SPAN_GAP_DAYS = 3653   # ten years


def span_warnings(results: list[FileResult]) -> list[Diagnostic]:
    """A warning for each start date outside the knowledge base's main span.

    The starts are split where two neighbours lie more than SPAN_GAP_DAYS apart; the largest
    run (the latest, of equal ones) is the knowledge base's span, and every start outside it
    a likely typo."""
    dated = sorted((r.started, r.shown, r) for r in results if r.started is not None)
    if len(dated) < 2:
        return []
    runs: list[list[FileResult]] = [[dated[0][2]]]
    for (before, _, _), (after, _, r) in zip(dated, dated[1:]):
        if (after - before).days > SPAN_GAP_DAYS:
            runs.append([])
        runs[-1].append(r)
    if len(runs) == 1:
        return []
    main = max(range(len(runs)), key=lambda k: (len(runs[k]), k))
    first, last = runs[main][0].started, runs[main][-1].started
    assert first is not None and last is not None
    out = []
    for k, run in enumerate(runs):
        if k == main:
            continue
        for r in run:
            assert r.started is not None
            years = abs((r.started - (first if r.started < first else last)).days) // 365
            out.append(Diagnostic(r.shown, *r.started_at, "warning",
                                  f"started: {r.started.year:04d} is {years:,} years away from the other incidents "
                                  f"({first.year}-{last.year}); is the year a typo? (it also stretches the monthly trends)"))
    return out
