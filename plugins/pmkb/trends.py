"""The trend pages (`trends/`) and `trends.json`.

Every figure comes from metrics.py, so pages and exports agree. Every duration shown
carries its n, its median and p90 beside the mean, and a warning when n is too small
to plan from. The pages are HTML (see `_Writer`): every value that comes from front
matter goes through `h`; `md_text` makes it inert in Markdown for the pages that are
Markdown (actions.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Iterable, Sequence
from urllib.parse import quote

from markupsafe import escape

from . import charts
from .blocks import PageLinks, admonition_html, figure_table, h
from .metrics import (ACTION_TYPES, DURATIONS, all_fixes, durations, failed_fixes, fix_counts, group_stats, local_date,
                      memo, quarter_key, quarter_range, recurrence, summarize, trends)
from .facets import addresses, page_src as facet_page_src
from .htmlutil import rel_url, yaml_string
from .model import Incident
from .pages import ChartFile, Filling, Heading, LaterFile, Page, SiteContext, heading, placeholder
from .planning_summary import write_summary

if TYPE_CHECKING:
    from .kb import KnowledgeBase

MAX_QUARTERS = 40       # more quarters than this from the first incident to the last: the pages go by year
SMALL_N = 5             # below this many values a mean, median or p90 is an anecdote, not a trend
SMALL_N_NOTE = "One unusual incident moves such figures a lot; read them as anecdotes, not trends."
LIST_LIMIT = 50         # rows of long lists on a page; the JSON exports hold them all
# Service and team pages show tables, not charts: an organisation has dozens of services,
# each chart costs a few tenths of a second on a first build, and together they were the
# largest fixed cost of a build. The organisation-wide page draws every chart.

DURATION_TITLES = {
    "time_to_detect": "Time to detect",
    "time_to_diagnose": "Time to diagnose",
    "time_to_mitigate": "Time to mitigate",
    "time_to_resolve": "Time to resolve",
}
CONTRIBUTIONS = ("high", "medium", "low")
# Page meta that keeps a page out of the search index (Material's search plugin reads it;
# the Pagefind path leaves such pages unmarked). Trend and ledger pages are tables of
# figures: search is for incidents, and their headings made thousands of empty entries.
SEARCH_EXCLUDED = "search:\n  exclude: true\n"


# --- text helpers (shared with actions.py) ------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|])")


@lru_cache(maxsize=16384)
def _md_text(text: str) -> str:
    return str(escape(_MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))))


def md_text(value: object) -> str:
    """Front-matter text made inert in Markdown and HTML: one line, Markdown's own
    punctuation backslash-escaped (a title with `*` or `|` must not turn bold or split a
    table), then HTML-escaped (markupsafe)."""
    return _md_text(str(value))


def human_minutes(minutes: float | None) -> str:
    """A duration in the unit people think in: seconds, minutes, hours or days."""
    if minutes is None:
        return "–"
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    if minutes < 120:
        return f"{_num(minutes)} min"
    if minutes < 48 * 60:
        return f"{_num(minutes / 60)} h"
    return f"{_num(minutes / 1440)} days"


def _num(x: float) -> str:
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}".rstrip("0").rstrip(".")


def percent(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.0f}%"


@lru_cache(maxsize=65536)
def rel(from_src: str, to_src: str) -> str:
    """Relative link between two src_uris, as MkDocs resolves Markdown links. (Not
    posixpath.relpath: that asks the operating system for the working directory on every
    call, and pages make hundreds of thousands of links.)"""
    here = from_src.split("/")[:-1]
    there = to_src.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    parts = [".."] * (len(here) - common) + there[common:]
    return quote("/".join(parts), safe="/-._~")


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


def slugs(names: Iterable[str]) -> dict[str, str]:
    """Path-safe slugs for free-text names (services, teams): lower-case ASCII words
    joined by '-'. Names that would collide, or that leave nothing usable, get a short
    hash of the name, so every name keeps its own stable address."""
    names = sorted(set(names))
    base = {n: re.sub(r"[^a-z0-9]+", "-", n.lower()).strip("-")[:60].strip("-") for n in names}
    counts = Counter(base.values())
    out = {}
    for n in names:
        b = base[n]
        if not b or counts[b] > 1 or b == "index":
            h = hashlib.sha256(n.encode()).hexdigest()[:8]
            b = f"{b}-{h}" if b else h
        out[n] = b
    return out


# --- the data of one scope ----------------------------------------------------------------

@dataclass
class _Scope:
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


def _durations_of(kb: "KnowledgeBase") -> dict[str, dict[str, float | None]]:
    return memo(kb, "trends.durations", lambda: {i.id: durations(i) for i in kb.incidents})


def _recurring(kb: "KnowledgeBase") -> frozenset[str]:
    return memo(kb, "trends.recurring", lambda: frozenset(i for i, r in recurrence(kb).items() if r.recurs))


def _scope(kb: "KnowledgeBase", incidents: list[Incident]) -> _Scope:
    tz = kb.settings.tz
    dur = _durations_of(kb)
    rec = _recurring(kb)
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
    return _Scope(incidents, quarters, by_q, q_stats, group_stats(incidents, rec, lambda i: dur[i.id]), unit)


# --- pages --------------------------------------------------------------------------------

def trends_json(kb: "KnowledgeBase", today: date | None = None) -> bytes:
    return (json.dumps(trends(kb, today), indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def scope_phrase(kb: "KnowledgeBase") -> str:
    """Where a problem must come back to count, in the words of the pages."""
    if kb.settings.recurrence_scope == "category":
        return "anywhere in the organisation"
    return "on the same service, model or data set"


def scope_sentence(kb: "KnowledgeBase") -> str:
    """One sentence saying what counts as a recurrence under the knowledge base's setting."""
    window = kb.settings.recurrence_window_days
    if kb.settings.recurrence_scope == "category":
        return (f"An incident is a recurrence when an earlier incident anywhere in the organisation had one of its "
                f"root-cause categories within {window} days (<code>recurrence_scope: category</code>).")
    return (f"An incident is a recurrence when an earlier incident on the same service, model or data set had one "
            f"of its root-cause categories within {window} days (<code>recurrence_scope: system</code>).")


def fix_rule(kb: "KnowledgeBase") -> str:
    """The definition of a fix and its states, in two sentences of the pages (HTML)."""
    window = kb.settings.recurrence_window_days
    where = ("anywhere in the organisation" if kb.settings.recurrence_scope == "category"
             else "on a service, model or data set of the fix's own incident")
    return (f"A <em>fix</em> is a done action item with a completion date. It <strong>did not hold</strong> when, "
            f"within {window} days of its completion, a later incident {where} had a root cause it addressed; it "
            f"<strong>held</strong> once {window} days have passed without that, and is <em>pending</em> until then.")


FIX_TYPE_TITLES = {"prevention": "Prevention", "detection": "Detection", "mitigation": "Mitigation", "process": "Process"}


def fix_type_table(fixes: dict[str, Any]) -> str:
    """HTML: the fixes per action type and overall (the `fixes` object of trends.json):
    which kinds of remediation hold."""
    def row(name: str, c: dict[str, Any]) -> list[str]:
        return [name, str(c["done"]), str(c["did_not_hold"]), str(c["held"]), str(c["pending"]),
                percent(c["hold_rate"]) + (f" <small>(n={c['held'] + c['did_not_hold']})</small>"
                                           if c["held"] + c["did_not_hold"] else "")]
    rows = [row(FIX_TYPE_TITLES.get(t, h(t)), c) for t, c in fixes["by_type"].items()]
    rows.append(["<strong>All</strong>"] + row("", fixes["overall"])[1:])
    return figure_table(["Action type", "fixes", "did not hold", "held", "pending", "hold rate"], rows)


class _Writer(PageLinks):
    """Builds one trend page as HTML: headings, prose, warnings, tables and charts, put into
    the page after Markdown ran (`Page.fragments`). Markdown would parse nothing but
    generated text here, and its inline patterns cost as much per kilobyte of prose as the
    tables did: the trend pages took as long to parse as incident pages. The headings go to
    the table of contents through `Page.headings`; the search index gets the page without
    its tables and charts."""

    def __init__(self, kb: "KnowledgeBase", ctx: SiteContext, src: str, chart_base: str, directory_urls: bool,
                 full: bool):
        super().__init__(kb, src, directory_urls)
        self.ctx, self.chart_base, self.full = ctx, chart_base, full
        self.html: list[str] = []
        self.search: list[str] = []
        self.headings: list[Heading] = []
        self.ids: set[str] = set()
        self.charts: list[tuple[str, dict[str, Any]]] = []

    # --- what a page is made of

    def title(self, title: str) -> None:
        """The page's h1. The table of contents gets it as Markdown would give it: the theme
        lists what is under it and points "skip to content" at it."""
        self.heading(1, title)

    def heading(self, level: int, title: str) -> None:
        hid, text = self._id(title), h(title)
        self.html.append(heading(self.ctx, level, hid, text))
        self.search.append(f'<h{level} id="{hid}">{text}</h{level}>')
        self.headings.append((hid, text, level))

    def para(self, html: str) -> None:
        """A paragraph (HTML; front-matter text in it escaped by the caller)."""
        self.html.append(f"<p>{html}</p>")
        self.search.append(f"<p>{html}</p>")

    def warning(self, text_html: str) -> None:
        block = admonition_html("warning", "Too few incidents to trust", f"<p>{text_html}</p>\n").rstrip("\n")
        self.html.append(block)
        self.search.append(block)

    def chart(self, name: str, spec: dict[str, Any], alt: str) -> None:
        assert name in FULL_CHARTS, name    # the site build is told the charts' names before they are drawn
        dest = f"{self.chart_base}-{name}.svg"
        self.charts.append((dest, spec))
        self.html.append(f'<p><img alt="{escape(alt)}" src="{escape(rel_url(self.src, dest, self.directory_urls))}" /></p>')

    def table(self, header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> None:
        """An HTML table (cells are HTML already): shown, not indexed."""
        self.html.append(figure_table(header, rows, align))

    def filling(self) -> Filling:
        return {"body": "\n".join(self.html)}, {"body": "".join(self.search)}, {"body": list(self.headings)}

    def metrics_link(self, template: str) -> str:
        """`template` with the link to the metric definitions filled in, or nothing when the
        site has none (see `metrics_page`)."""
        page = metrics_page(self.ctx)
        return template.format(self.href(page)) if page else ""

    def _id(self, title: str) -> str:
        """The id Markdown's `toc` extension gives a heading of this title, numbered on repeats."""
        base = _toc_slug(title)
        hid, n = base, 0
        while hid in self.ids:
            n += 1
            hid = f"{base}_{n}"
        self.ids.add(hid)
        return hid


def _toc_slug(title: str) -> str:
    # Python-Markdown's default slugify, so that addresses such as #time-to-detect stay
    # what they were when these headings were Markdown.
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


# The charts of the page of the whole knowledge base, in the order the page shows them.
FULL_CHARTS = ("incidents", "durations", "recurrence", "categories", "detection", "dimensions", "resolve-by-severity")


class _FullPage:
    """trends/index.md and its charts, written once, when the first of them is asked for
    (by the site build, where it makes pages and draws charts: beside MkDocs)."""

    def __init__(self, kb: "KnowledgeBase", ctx: SiteContext, directory_urls: bool):
        self.kb, self.ctx, self.directory_urls = kb, ctx, directory_urls
        self._made: tuple[Filling, dict[str, dict[str, Any]]] | None = None

    def _make(self) -> tuple[Filling, dict[str, dict[str, Any]]]:
        if self._made is None:
            w = _Writer(self.kb, self.ctx, "trends/index.md", "trends/charts/all", self.directory_urls, full=True)
            w.title("Trends")
            if self.kb.incidents:
                write_summary(w, _durations_of(self.kb))
                w.heading(2, "Details")
            _intro(w)
            _scope_sections(w, _scope(self.kb, self.kb.incidents))
            _index_of_views(w)
            self._made = w.filling(), dict(w.charts)
        return self._made

    def filling(self) -> Filling:
        return self._make()[0]

    def chart(self, dest: str) -> dict[str, Any] | None:
        return self._make()[1].get(dest)


def trends_site(kb: "KnowledgeBase", ctx: SiteContext,
                directory_urls: bool = True) -> tuple[list[Page], list[LaterFile | ChartFile]]:
    """trends.json and trends/index.md, with its charts under trends/charts/. (Each service
    and team has a page of its own, facet_pages.py, that the page links to.)

    Every page comes with a `make`, and the files with what makes them: the site build
    runs them beside MkDocs. The figures (the recurrence relation among them) are worked
    out there, not in the build's main process. The page of the whole knowledge base
    names its charts before it is written; one it turns out not to show (no category
    recurs) is not drawn."""
    src = "trends/index.md"
    full = _FullPage(kb, ctx, directory_urls)
    pages = [Page(src, "Trends", _markdown("Trends"), in_nav=True, make=full.filling)]
    dests = [f"trends/charts/all-{name}.svg" for name in FULL_CHARTS] if kb.incidents else []

    return pages, [LaterFile("trends.json", partial(trends_json, kb, ctx.today)),
                   *(ChartFile(dest, partial(full.chart, dest)) for dest in dests)]


def _markdown(title: str) -> str:
    # The title goes in the page's meta, so MkDocs does not look for it in the HTML. Trend
    # pages are left out of search (SEARCH_EXCLUDED): search is for incidents.
    return (f"---\ntitle: {yaml_string(str(escape(title)))}\n{SEARCH_EXCLUDED}---\n\n"
            f"{placeholder('body')}\n")


def metrics_page(ctx: SiteContext) -> str | None:
    """The src_uri of the metric definitions page: `metrics.md` of the docs folder unless
    `ctx.extra["metrics_page"]` names another, or is None: a knowledge base without the
    page must not get broken links (`mkdocs build --strict` fails on them)."""
    return ctx.extra.get("metrics_page", "metrics.md")


def metrics_link(ctx: SiteContext, from_src: str, template: str) -> str:
    """`template` with the relative Markdown link to the metric definitions page filled
    in, or nothing when the site has none."""
    page = metrics_page(ctx)
    return template.format(rel(from_src, page)) if page else ""


def _intro(w: _Writer) -> None:
    s = w.kb.settings
    w.para(f"Figures over every incident of the knowledge base, drafts included. Months and quarters are "
           f"those of <code>started</code> in the {h(s.timezone)} time zone. {scope_sentence(w.kb)} "
           "Durations show the median and the 90th percentile beside the mean: a few very long incidents "
           "pull the mean far from the typical one."
           + w.metrics_link(' See <a href="{}">metric definitions</a>.')
           + f' The raw numbers are in <a href="{w.href("trends.json")}">trends.json</a>. Views per service and '
           "per team are listed at the end.")


def _scope_sections(w: _Writer, sc: _Scope) -> None:
    """The sections of a trend page. A full page draws every chart; a scoped page (one
    service, one team) gives tables only, to keep the first build of a large knowledge
    base fast (tens of scopes times seven charts take minutes).

    Missing data is never drawn as a figure: rows of periods without a value are left out,
    a series without a value gets no chart and a section without data one sentence."""
    kb = w.kb
    if not sc.incidents:
        w.para("No incidents yet. Trends appear here once the first postmortem is written.")
        return
    zone = kb.settings.timezone
    _overview(w, sc)

    # Incidents per quarter by severity: only the severities that occur
    sev_ids = [s.id for s in kb.taxonomy.severities]
    sev_ids += sorted({i.severity for i in sc.incidents} - set(sev_ids))
    present = Counter(i.severity for i in sc.incidents)
    shown_sev = [s for s in sev_ids if present[s]]
    counts = {q: Counter(i.severity for i in sc.by_quarter.get(q, ())) for q in sc.quarters}
    busy = [q for q in sc.quarters if counts[q]]
    w.heading(2, f"Incidents per {sc.unit}")
    if w.full:
        w.chart("incidents", charts.bar_spec(
            f"Incidents per {sc.unit} by severity", sc.quarters,
            {s: [counts[q][s] for q in sc.quarters] for s in shown_sev},
            ylabel="incidents", xlabel=f"{sc.unit} ({zone})", colors=severity_colors(kb, shown_sev)),
            f"Stacked bar chart: incidents per {sc.unit}, by severity")
    if len(busy) < len(sc.quarters):
        w.para(f"{len(sc.quarters) - len(busy)} of the {len(sc.quarters)} {sc.units} from {sc.quarters[0]} to "
               f"{sc.quarters[-1]} had no incident; the table leaves them out.")
    w.table([sc.unit.capitalize()] + [h(s) for s in shown_sev] + ["Total"],
            ([q] + [str(counts[q][s]) for s in shown_sev] + [str(sum(counts[q].values()))] for q in busy))

    # Time to detect, mitigate and resolve per quarter
    w.heading(2, f"Time to detect, mitigate and resolve per {sc.unit}")
    shown = ("time_to_detect", "time_to_mitigate", "time_to_resolve")
    recorded = [k for k in shown + ("time_to_diagnose",) if sc.overall[k]["n"]]
    if not recorded:
        w.para("No incident here records when it was detected, mitigated or resolved, so there are no durations "
               "to show.")
    else:
        w.para(f"{sc.units.capitalize()} where no incident recorded the value are left out of the tables and are gaps in the "
               f"chart. Figures in grey rest on fewer than {SMALL_N} incidents: one unusual incident moves them a "
               "lot, read them as anecdotes, not trends.")
    charted = [k for k in shown if sc.overall[k]["n"]]
    if w.full and charted:
        have = [i for i, q in enumerate(sc.quarters) if any(sc.q_stats[q][k]["n"] for k in charted)]
        span = sc.quarters[have[0]:have[-1] + 1]        # trimmed to where the values are
        panels = [{"title": DURATION_TITLES[k] + " (median, p90 and mean)",
                   **{m: [sc.q_stats[q][k][m] for q in span] for m in ("mean", "median", "p90", "n")}}
                  for k in charted]
        w.chart("durations", charts.durations_spec(
            f"Time to detect, mitigate and resolve per {sc.unit}", span, panels,
            xlabel=f"{sc.unit} ({zone})", min_n=SMALL_N),
            f"Line charts per {sc.unit} of the median, 90th percentile and mean time to "
            + ", ".join(DURATION_TITLES[k][8:] for k in charted))
    for key in recorded:
        w.heading(3, DURATION_TITLES[key])
        rows = []
        for q in sc.quarters:
            s = sc.q_stats[q][key]
            if s["n"]:
                rows.append(_weak_row([q] + _summary_cells(s), s["n"]))
        w.table([sc.unit.capitalize(), "n", "mean", "median", "p90"], rows)
    missing = [DURATION_TITLES[k].lower() for k in shown + ("time_to_diagnose",) if k not in recorded]
    if recorded and missing:
        w.para(f"Not recorded by any incident here: {', '.join(missing)}.")

    # Recurrence per quarter
    w.heading(2, f"Recurrence rate per {sc.unit}")
    w.para(scope_sentence(kb) + " The first window of a knowledge base has fewer recurrences by construction: "
           "there is less history to recur.")
    rates = [sc.q_stats[q]["recurrence_rate"] for q in sc.quarters]
    if w.full:
        weak_q = [0 < sc.q_stats[q]["incidents"] < SMALL_N for q in sc.quarters]
        w.chart("recurrence", charts.line_spec(
            "Share of incidents that recur an earlier root cause", sc.quarters, {"recurrence rate": rates},
            ylabel="recurrences / incidents", xlabel=f"{sc.unit} ({zone})", percent=True,
            weak=weak_q, weak_note=f"Hollow points: {sc.units} with fewer than {SMALL_N} incidents."),
            f"Line chart: recurrence rate per {sc.unit}")
    w.para(f"{sc.units.capitalize()} without incidents are left out; figures in grey rest on fewer than {SMALL_N} incidents.")
    w.table([sc.unit.capitalize(), "incidents", "recurrences", "recurrence rate"],
            (_weak_row([q, str(sc.q_stats[q]["incidents"]), str(sc.q_stats[q]["recurrences"]),
                        percent(sc.q_stats[q]["recurrence_rate"])], sc.q_stats[q]["incidents"])
             for q in busy))

    _recurring_categories(w, sc)
    _fixes(w, sc)
    _detection(w, sc)
    _dimensions(w, sc)
    _resolve_by_severity(w, sc, sev_ids)
    if not w.full:
        _incident_list(w, sc.incidents)


def severity_colors(kb: "KnowledgeBase", sev_ids: Sequence[str]) -> list[str]:
    """A colour per severity shown: its rank's colour, grey for an unrated one."""
    out = []
    for s in sev_ids:
        rank = kb.taxonomy.rated_rank(s)
        out.append(charts.UNKNOWN_COLOR if kb.taxonomy.unrated(s) or rank >= len(charts.SEVERITY_COLORS)
                   else charts.SEVERITY_COLORS[rank])
    return out


def _weak_row(cells: list[str], n: int) -> list[str]:
    """The row's figures in grey when they rest on fewer than SMALL_N incidents."""
    if 0 < n < SMALL_N:
        return [cells[0]] + [f'<span class="pmkb-weak" title="fewer than {SMALL_N} incidents">{c}</span>'
                             for c in cells[1:]]
    return cells


def _summary_cells(s: dict[str, Any]) -> list[str]:
    return [str(s["n"]), human_minutes(s["mean"]), human_minutes(s["median"]), human_minutes(s["p90"])]


def _small_n_warning(w: _Writer, weak: list[str], lead: str) -> None:
    """A warning naming the groups whose n is below SMALL_N; `lead` ends before the list
    (HTML, as are the groups' names)."""
    if weak:
        listed = ", ".join(weak[:12]) + (f" and {len(weak) - 12} more" if len(weak) > 12 else "")
        w.warning(f"{lead}: {listed}. {SMALL_N_NOTE}")


def _overview(w: _Writer, sc: _Scope) -> None:
    o = sc.overall
    tz = w.kb.settings.tz
    first = local_date(sc.incidents[0].started, tz)
    last = local_date(sc.incidents[-1].started, tz)
    w.para(f"<strong>{o['incidents']}</strong> incident{'s' if o['incidents'] != 1 else ''} from {first.isoformat()} to "
           f"{last.isoformat()}; <strong>{o['recurrences']}</strong> of them recur an earlier root cause "
           f"{scope_phrase(w.kb)} (recurrence rate {percent(o['recurrence_rate'])}).")
    rows, weak, missing = [], [], []
    for key in DURATIONS:
        s = o[key]
        if not s["n"]:
            missing.append(DURATION_TITLES[key].lower())
            continue
        rows.append(_weak_row([DURATION_TITLES[key]] + _summary_cells(s), s["n"]))
    if rows:
        w.table(["", "n", "mean", "median", "p90"], rows)
        w.para("<em>n</em>: incidents that have the value (a missing timestamp leaves an incident out)."
               + (f" Not recorded by any incident: {', '.join(missing)}." if missing else ""))
    else:
        w.para("No incident records when it was detected, mitigated or resolved: there are no durations.")


def _recurring_categories(w: _Writer, sc: _Scope) -> None:
    kb = w.kb
    rec = recurrence(kb)
    n_inc: Counter = Counter()
    n_rec: Counter = Counter()
    for inc in sc.incidents:
        n_inc.update(inc.categories)
        n_rec.update(rec[inc.id].recurs)
    # Fixes that did not hold, per category that came back (whole knowledge base).
    failed_items: Counter = Counter()
    if w.full:
        for failures in failed_fixes(kb).values():
            for f in failures:
                failed_items.update(f.categories)
    ranked = sorted((c for c in n_inc if n_rec[c]), key=lambda c: (-n_rec[c], -n_inc[c], c))
    w.heading(2, "Most recurring root-cause categories")
    if not ranked:
        w.para(f"No incident here recurs a root-cause category within {kb.settings.recurrence_window_days} days.")
        return
    if w.full:
        top = ranked[:10]
        names = [(kb.taxonomy.categories[c].title if c in kb.taxonomy.categories else c) for c in top]
        w.chart("categories", charts.hbar_spec(
            "Most recurring root-cause categories", names,
            {"incidents": [n_inc[c] for c in top], "recurrences": [n_rec[c] for c in top]},
            xlabel="incidents"), "Horizontal bar chart: incidents and recurrences of the most recurring categories")
    w.para("<em>Recurrences</em>: incidents that recur that very category."
           + (" <em>Fixes that did not hold</em>: done action items addressing the category that it came back "
              f"after, {scope_phrase(kb)}, within {kb.settings.recurrence_window_days} days of their completion "
              "(each fix counted once, where it first came back)." if w.full else ""))
    header = ["Category", "incidents", "recurrences", "recurrence rate"] + (["fixes that did not hold"] if w.full else [])
    w.table(header, ([w.category(c, with_id=True), str(n_inc[c]), str(n_rec[c]),
                      percent(n_rec[c] / n_inc[c])] + ([str(failed_items[c])] if w.full else [])
                     for c in ranked[:15]))
    if len(ranked) > 15:
        more = len(ranked) - 15
        w.para(f"{more} more {'category recurs' if more == 1 else 'categories recur'}; "
               f'see <a href="{w.href("trends.json")}">trends.json</a> (<code>by_category</code>).')


def _fixes(w: _Writer, sc: _Scope) -> None:
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
        _small_n_warning(w, [f"n={decided}"], f"The hold rate rests on fewer than {SMALL_N} decided fixes")
    w.html.append(fix_type_table(summary))
    if w.full and o["did_not_hold"]:
        w.para(f'The fixes that did not hold are listed on the <a href="{w.href("actions/index.md")}#fixes-that-did-not-hold">'
               "action items</a> page.")


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


def _detection(w: _Writer, sc: _Scope) -> None:
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
        _small_n_warning(w, [f"n={total}"], f"These shares rest on fewer than {SMALL_N} incidents")
    if w.full:
        shares: dict[str, list[float]] = {c: [] for c in DETECTION_CLASSES}
        for q in sc.quarters:
            cnt = Counter(detection_class(i.detection) for i in sc.by_quarter.get(q, ()))
            n = sum(cnt.values())
            for c in DETECTION_CLASSES:
                shares[c].append(cnt[c] / n if n else 0.0)
        palette = dict(zip(DETECTION_CLASSES, (charts.PALETTE[0], charts.PALETTE[3], charts.PALETTE[4],
                                               charts.UNKNOWN_COLOR)))
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


def _dimensions(w: _Writer, sc: _Scope) -> None:
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
    if w.full:
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


def _resolve_by_severity(w: _Writer, sc: _Scope, sev_ids: list[str]) -> None:
    dur = _durations_of(w.kb)
    values = {s: [dur[i.id]["time_to_resolve"] for i in sc.incidents if i.severity == s] for s in sev_ids}
    values = {s: [v for v in vs if v is not None] for s, vs in values.items()}
    values = {s: vs for s, vs in values.items() if vs}      # a severity nobody resolved has no figure
    w.heading(2, "Time to resolve by severity")
    if not values:
        w.para("No incident here records when it was resolved.")
        return
    if w.full:
        w.chart("resolve-by-severity", charts.box_spec(
            "Distribution of time to resolve, by severity", values, ylabel_prefix="time to resolve",
            xlabel="severity", colors=severity_colors(w.kb, list(values)), min_n=SMALL_N),
            "Box plot: distribution of time to resolve per severity")
    rows = []
    for s, vs in values.items():
        st = summarize(vs)
        rows.append(_weak_row([h(s)] + _summary_cells(st) + [human_minutes(min(vs)), human_minutes(max(vs))], st["n"]))
    w.para(f"Severities without a resolved incident are left out; figures in grey rest on fewer than {SMALL_N} "
           "incidents.")
    w.table(["Severity", "n", "mean", "median", "p90", "shortest", "longest"], rows)


def _incident_list(w: _Writer, incidents: list[Incident]) -> None:
    tz = w.kb.settings.tz
    newest = incidents[::-1][:LIST_LIMIT]
    w.heading(2, "Incidents")
    if len(incidents) > LIST_LIMIT:
        w.para(f'The {LIST_LIMIT} most recent of {len(incidents)}; the <a href="{w.href("incidents/index.md")}">'
               "incident list</a> has them all.")
    w.table(["Incident", "Title", "Severity", "Started", "Categories"],
            ([w.incident(i.id), h(i.title), h(i.severity), local_date(i.started, tz).isoformat(),
              ", ".join(w.category(c) for c in i.categories) or "–"] for i in newest),
            ["l", "l", "l", "l", "l"])


def _index_of_views(w: _Writer) -> None:
    kb = w.kb
    t = trends(kb)
    dur = _durations_of(kb)
    rec = _recurring(kb)
    teams: dict[str, list[Incident]] = defaultdict(list)
    for inc in kb.incidents:
        if inc.team:
            teams[inc.team].append(inc)
    views = [("service", "services", t["by_service"]),
             ("team", "teams", {n: group_stats(incs, rec, lambda i: dur[i.id]) for n, incs in teams.items()})]
    shown = False
    for noun, kind, stats in views:
        if not stats:
            continue
        shown = True
        names = addresses(stats)
        w.heading(2, f"By {noun}")
        w.table([noun.capitalize(), "incidents", "recurrences", "recurrence rate", "median time to resolve",
                 "p90 time to resolve", "n"],
                ([w.link(facet_page_src(kind, names[n]), h(n)), str(g["incidents"]), str(g["recurrences"]),
                  percent(g["recurrence_rate"]), human_minutes(g["time_to_resolve"]["median"]),
                  human_minutes(g["time_to_resolve"]["p90"]), str(g["time_to_resolve"]["n"])]
                 for n, g in sorted(stats.items(), key=lambda kv: (-kv[1]["incidents"], kv[0]))))
    if shown:
        w.para(f"<em>n</em>: incidents with a time to resolve. Figures with n below {SMALL_N} are too few to trust.")
