"""One page per service, team, model, data set and tag (SPEC section 5: `services/<name>/`,
`teams/<name>/`, `models/<name>/`, `datasets/<name>/`, `tags/<tag>/`).

Written for the engineer who asks "what went wrong with this model before?": one
summary line, then the incidents newest first (severity, date, root causes), then the
open action items, and figures only where enough incidents carry them to mean something.
The pages are reached from the chips on incident pages and from the trends page; they
are kept out of search, which lists the incidents themselves (each names its services,
models and tags in its indexed facts).
"""

from __future__ import annotations

import json
from collections import Counter
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import quote

from markupsafe import escape

from .blocks import PageLinks, figure_table, h
from .facets import FACETS, FacetIndex, facet_index, page_src
from .htmlutil import human_minutes, rel_url
from .listing_pages import INDEX
from .metrics import durations, local_date, recurrence, summarize
from .model import Incident
from .pages import Filling, Page, SiteContext, fragments_only, placeholder
from .trends import SMALL_N

if TYPE_CHECKING:
    from .kb import KnowledgeBase

LIST_ROWS = 200      # incidents listed on one page; the index, filtered, has them all
# Index filters that a page's "all of them" link can preset (index.html.j2's keys)
_INDEX_FILTER = {"services": "svc", "teams": "team", "models": "model"}
_FIGURES = (("time_to_detect", "Time to detect"), ("time_to_mitigate", "Time to mitigate"),
            ("time_to_resolve", "Time to resolve"))


def facet_pages(kb: "KnowledgeBase", ctx: SiteContext, directory_urls: bool = True,
                index: FacetIndex | None = None) -> list[Page]:
    """Every facet value's page, with its tables made by `Page.make` (beside MkDocs)."""
    index = index or facet_index(kb.incidents)
    pages = []
    for kind, facet in FACETS.items():
        for addr, incs in sorted(index.members[kind].items()):
            names = index.spellings[kind][addr]
            src = page_src(kind, addr)
            title = f"{facet.noun.capitalize()} {names[0]}"
            open_items = any(a.is_open for i in incs for a in i.action_items)
            md = ["---", f"title: {json.dumps(str(escape(title)), ensure_ascii=False)}",
                  # search lists the incidents themselves: a page that lists them would come first
                  "search:", "  exclude: true", "---", "",
                  f'<h1 class="pmkb-facet-title"><small><a href="{escape(rel_url(src, kind_src(kind), directory_urls))}">'
                  f'{h(facet.noun.capitalize())}</a></small> {h(names[0])}</h1>', "",
                  placeholder("summary"), "", "## Incidents", "", placeholder("incidents"), ""]
            if open_items:
                md += ["## Open action items", "", placeholder("actions"), ""]
            md += ["## Figures", "", placeholder("figures"), ""]
            pages.append(Page(src, str(escape(title)), "\n".join(md),
                              make=partial(_filling, kb, ctx, kind, names, incs, src, directory_urls)))
        if index.members[kind]:
            pages.append(_kind_page(kb, ctx, kind, index, directory_urls))
    return pages


def kind_src(kind: str) -> str:
    """`services/`, `teams/` ...: every value of one kind, so that the address cut short leads somewhere."""
    return f"{kind}/index.md"


def _kind_page(kb: "KnowledgeBase", ctx: SiteContext, kind: str, index: FacetIndex, directory_urls: bool) -> Page:
    facet = FACETS[kind]
    title = facet.plural.capitalize()
    md = ["---", f"title: {json.dumps(title)}", "search:", "  exclude: true", "---", "", f"# {title}", "",
          placeholder("list"), ""]
    return Page(kind_src(kind), title, "\n".join(md), make=partial(_kind_filling, kb, ctx, kind, index, directory_urls))


def _kind_filling(kb: "KnowledgeBase", ctx: SiteContext, kind: str, index: FacetIndex, directory_urls: bool) -> Filling:
    w = PageLinks(kb, kind_src(kind), directory_urls)
    tz = kb.settings.tz
    groups = sorted(index.members[kind].items(), key=lambda kv: (-len(kv[1]), index.spellings[kind][kv[0]][0]))
    rows = []
    for addr, incs in groups:
        name = index.spellings[kind][addr][0]
        items = [a for i in incs for a in i.action_items if a.is_open]
        overdue = sum(1 for a in items if a.overdue(ctx.today))
        rows.append([w.link(page_src(kind, addr), h(name)), str(len(incs)), local_date(incs[-1].started, tz).isoformat(),
                     str(len(items)) + (f"<br><small>{overdue} overdue</small>" if overdue else "")])
    lead = (f"<p>{_s(len(groups), FACETS[kind].noun, FACETS[kind].plural)} named in <code>{FACETS[kind].field}</code>, "
            "most incidents first; each page lists its incidents and open action items.</p>")
    return fragments_only({"list": lead + figure_table([FACETS[kind].noun.capitalize(), "incidents", "last", "open actions"],
                                                     rows, ["l", "r", "l", "r"], css_class="pmkb-kinds")})


def _s(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _filling(kb: "KnowledgeBase", ctx: SiteContext, kind: str, names: list[str], incs: list[Incident],
             src: str, directory_urls: bool) -> Filling:
    w = PageLinks(kb, src, directory_urls)
    newest = incs[::-1]
    return fragments_only({
        "summary": _summary(kb, ctx, kind, names, newest),
        "incidents": _incidents(w, kind, names, newest),
        "actions": _actions(w, ctx, newest),
        "figures": _figures(w, kind, newest),
    })


def _summary(kb: "KnowledgeBase", ctx: SiteContext, kind: str, names: list[str], newest: list[Incident]) -> str:
    """One line: how many incidents, how severe, since when, how many came back, what is open."""
    tz, tax = kb.settings.tz, kb.taxonomy
    sev = Counter(i.severity for i in newest)
    sevs = ", ".join(f"{n} {h(s)}" for s, n in sorted(sev.items(), key=lambda kv: (tax.severity_rank.get(kv[0], 99), kv[0])))
    first, last = local_date(newest[-1].started, tz), local_date(newest[0].started, tz)
    span = last.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
    rec = recurrence(kb)
    recurs = sum(1 for i in newest if rec[i.id].recurs)
    items = [a for i in newest for a in i.action_items if a.is_open]
    overdue = sum(1 for a in items if a.overdue(ctx.today))
    parts = [f"<strong>{_s(len(newest), 'incident')}</strong> ({sevs}), {span}",
             f"{recurs} recur{'s' if recurs == 1 else ''} an earlier root cause",
             f"{_s(len(items), 'open action item')}" + (f", <strong>{overdue} overdue</strong>" if overdue else "")]
    line = f'<p class="pmkb-lead pmkb-facet-summary">{" · ".join(parts)}.</p>'
    if len(names) > 1:
        others = ", ".join(f"<code>{h(n)}</code>" for n in names[1:])
        field = FACETS[kind].field
        line += (f'<p class="pmkb-facet-variants">Also written as {others}: the same page, but recurrence and '
                 f"the trends count each spelling apart. Write <code>{field}</code> one way everywhere "
                 "(<code>pmkb validate</code> lists them).</p>")
    return line


def _incidents(w: PageLinks, kind: str, names: list[str], newest: list[Incident]) -> str:
    tz = w.kb.settings.tz
    wanted = set(names)
    rows = []
    for inc in newest[:LIST_ROWS]:
        detail = [f'<span class="pmkb-sev-text">{h(inc.severity)}</span>',
                  f"<time>{local_date(inc.started, tz).isoformat()}</time>"]
        if inc.status != "final":
            detail.append(h(inc.status))
        if kind == "models":
            detail += [f"version {h(m.version)}" for m in inc.models if m.name in wanted]
        elif kind == "datasets":
            detail += [f"version {h(d.version)}" for d in inc.datasets if d.name in wanted and d.version]
        causes = ", ".join(w.category(c) for c in inc.categories) or "no root cause recorded yet"
        rows.append(f'<li>{w.incident(inc.id)} {h(inc.title)}<br><small>{" · ".join(detail)} · {causes}</small></li>')
    more = ""
    if len(newest) > LIST_ROWS:
        key = _INDEX_FILTER.get(kind)
        href = w.href(INDEX) + (f"?{key}={escape(quote(names[0], safe=''))}" if key else "")
        more = f'<p>The {LIST_ROWS} most recent of {len(newest)}; <a href="{href}">the incident list</a> has them all.</p>'
    return (f'<ul class="pmkb-facet-list" data-search-exclude data-pagefind-ignore>{"".join(rows)}</ul>{more}')


def _actions(w: PageLinks, ctx: SiteContext, newest: list[Incident]) -> str:
    items = [(a, inc) for inc in newest for a in inc.action_items if a.is_open]
    if not items:
        return ""
    items.sort(key=lambda ai: (not ai[0].overdue(ctx.today), ai[0].due, ai[1].id, ai[0].position))
    rows = []
    for a, inc in items:
        due = f"due {a.due.isoformat()}"
        if a.overdue(ctx.today):
            due = f'<strong class="pmkb-overdue-flag">overdue</strong> since {a.due.isoformat()}'
        rows.append(f"<li>{h(a.title)}<br><small>{h(a.type)} · {h(a.owner)} · {due} · {h(a.status)} · "
                    f"from {w.incident(inc.id)}</small></li>")
    return f'<ul class="pmkb-facet-list" data-search-exclude data-pagefind-ignore>{"".join(rows)}</ul>'


def _figures(w: PageLinks, kind: str, newest: list[Incident]) -> str:
    """Medians and p90s where at least SMALL_N incidents have the value; a sentence otherwise."""
    n = len(newest)
    if n < SMALL_N:
        return (f"<p>Figures (time to detect and resolve, frequent root causes) are shown from {SMALL_N} incidents "
                f"on; with {n}, one unusual incident would move them too much to plan from.</p>")
    values = [durations(i) for i in newest]
    rows, thin = [], []
    for key, title in _FIGURES:
        s = summarize(v[key] for v in values)
        if s["n"] >= SMALL_N:
            rows.append([title, str(s["n"]), human_minutes(s["median"]), human_minutes(s["p90"])])
        else:
            thin.append(f"{title.lower()} (n={s['n']})")
    out = []
    if rows:
        out.append(figure_table(["", "n", "median", "p90"], rows))
    if thin:
        out.append(f"<p>Too few incidents with a value for {', '.join(thin)} to show a median.</p>")
    cats = Counter(c for i in newest for c in i.categories)
    common = [(c, k) for c, k in cats.most_common(5) if k > 1]
    if common:
        out.append("<p>Root causes seen more than once: "
                   + ", ".join(f"{w.category(c)} ({k})" for c, k in common) + ".</p>")
    if kind in ("services", "teams"):
        out.append(f'<p>Trends over time for every {FACETS[kind].noun} are on the <a href="{w.href("trends/index.md")}">'
                   "trends page</a>.</p>")
    return "\n".join(out)
