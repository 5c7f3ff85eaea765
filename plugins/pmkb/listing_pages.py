"""The incident index (`incidents/`) and the taxonomy pages (`categories/`)."""

from __future__ import annotations

from collections import Counter
from functools import partial

from .htmlutil import rel_url, yaml_string
from .kb import KnowledgeBase
from .model import Incident
from .pages import Filling, Page, SiteContext, category_src, fragments_only, incident_src, placeholder
from .recurrence_notes import category_notes
from .render import plain, render_blocks

INDEX = "incidents/index.md"


def _newest_first(kb: KnowledgeBase) -> list[Incident]:
    return sorted(kb.incidents, key=lambda i: i.order_key, reverse=True)


def index_page(kb: KnowledgeBase, directory_urls: bool = True) -> Page:
    # the table needs the width, so no sidebars (the tabs still lead everywhere)
    md = "\n".join(["---", "title: Incidents", "hide: [navigation, toc]", "---", "", "# Incidents", "",
                    placeholder("listing"), ""])
    return Page(INDEX, "Incidents", md, in_nav=True, make=partial(_index_fragments, kb, directory_urls))


# The index's columns: (sort key, title); pmkb.js sorts by them.
_COLUMNS = (("id", "ID"), ("title", "Title"), ("sev", "Severity"), ("date", "Started"), ("status", "Status"),
            ("cat", "Root-cause categories"))


def _index_fragments(kb: KnowledgeBase, directory_urls: bool) -> Filling:
    src, tz = INDEX, kb.settings.tz
    rank = kb.taxonomy.severity_rank
    rows = []
    for inc in _newest_first(kb):
        local = inc.started.astimezone(tz)
        rows.append({"i": inc, "href": rel_url(src, incident_src(inc.id), directory_urls),
                     "date": local.date().isoformat(), "year": local.year, "rank": rank.get(inc.severity, len(rank)),
                     "models": list(dict.fromkeys(m.name for m in inc.models))})
    cats = sorted({c for i in kb.incidents for c in i.categories})
    filters = [
        {"key": "sev", "label": "Severity", "options": [s.id for s in kb.taxonomy.severities]},
        {"key": "cat", "label": "Category", "options": cats},
        {"key": "svc", "label": "Service", "options": sorted({s for i in kb.incidents for s in i.services})},
        {"key": "model", "label": "Model", "options": sorted({m for r in rows for m in r["models"]})},
        {"key": "team", "label": "Team", "options": sorted({i.team for i in kb.incidents if i.team})},
        {"key": "year", "label": "Year", "options": sorted({r["year"] for r in rows}, reverse=True)},
    ]
    columns = [{"key": k, "title": t} for k, t in _COLUMNS]
    return fragments_only(render_blocks("index.html.j2", rows=rows, filters=filters, columns=columns, count=len(rows),
                                        finals=sum(i.status == "final" for i in kb.incidents)))


def category_pages(kb: KnowledgeBase, ctx: SiteContext, directory_urls: bool = True) -> list[Page]:
    """`categories/` and one page per category of the taxonomy (empty ones too: they say
    what the category is for, and that nothing fell into it), each with its recurrence
    notes and its incidents."""
    tax = kb.taxonomy
    members: dict[str, list[Incident]] = {c: [] for c in tax.categories}
    for inc in _newest_first(kb):
        for c in inc.categories:
            members[c].append(inc)
    pages = []
    lines = ["---", "title: Root-cause categories", "---", "", "# Root-cause categories", "",
             "The taxonomy every postmortem is classified by (`schema/taxonomy.yml`): layers, their "
             "categories, and how many incidents fell into each.", ""]
    for layer in tax.layers:
        total = len({i.id for c in layer.categories for i in members[c.id]})
        lines += [f"## {plain(layer.title)}", "", f'<p class="pmkb-lead">{plain(layer.description)} '
                  f"<small>{total} incident{'s' if total != 1 else ''}</small></p>", "",
                  '<div class="pmkb-categories"><table>',
                  "<thead><tr><th>Category</th><th>Incidents</th><th>Last seen</th><th>Description</th></tr></thead><tbody>"]
        for cat in layer.categories:
            incs = members[cat.id]
            href = rel_url("categories/index.md", category_src(cat.id), directory_urls)
            last = incs[0].started.astimezone(kb.settings.tz).date().isoformat() if incs else "–"
            lines.append(f'<tr><td><a href="{href}">{plain(cat.title)}</a><br><code>{plain(cat.id)}</code></td>'
                         f"<td>{len(incs)}</td> <td>{last}</td> <td>{plain(cat.description)}</td></tr>")
        lines += ["</tbody></table></div>", ""]
    pages.append(Page("categories/index.md", "Root-cause categories", "\n".join(lines), in_nav=True))

    for cat_id, cat in tax.categories.items():
        src = category_src(cat_id)
        layer = tax.layer(cat.layer)
        incs = members[cat_id]
        sev = Counter(i.severity for i in incs)
        out = ["---", f"title: {yaml_string(str(plain(cat.title)))}", "---", "",
               f'<h1>{plain(cat.title)} <code>{plain(cat_id)}</code></h1>', "",
               f'<p class="pmkb-lead">{plain(cat.description)}</p>', "",
               f'<p>Layer: <a href="{rel_url(src, "categories/index.md", directory_urls)}">{plain(layer.title if layer else cat.layer)}</a>. '
               f"{len(incs)} incident{'s' if len(incs) != 1 else ''}"
               + (": " + ", ".join(f"{n} {plain(s)}" for s, n in sorted(sev.items(), key=lambda kv: tax.severity_rank.get(kv[0], 99))) if incs else "")
               + ".</p>", ""]
        out += ["## Recurrence", "", placeholder("recurrence"), ""]
        if incs:
            out += ["## Incidents", "", placeholder("incidents"), ""]
        pages.append(Page(src, cat.title, "\n".join(out),
                          make=partial(_category_fragments, kb, cat_id, incs, ctx, directory_urls)))
    return pages


def _category_fragments(kb: KnowledgeBase, cat_id: str, incs: list[Incident], ctx: SiteContext,
                        directory_urls: bool) -> Filling:
    src = category_src(cat_id)
    fragments = {"recurrence": category_notes(kb, cat_id, ctx, directory_urls)}
    if incs:
        rows = [f'<tr><td><a href="{rel_url(src, incident_src(inc.id), directory_urls)}">{inc.id}</a></td>'
                f"<td>{plain(inc.title)}</td><td>{plain(inc.severity)}</td>"
                f"<td>{inc.started.astimezone(kb.settings.tz).date().isoformat()}</td><td>{inc.status}</td></tr>"
                for inc in incs]
        fragments["incidents"] = ('<div class="pmkb-index" data-search-exclude data-pagefind-ignore><table><thead><tr><th>ID</th><th>Title</th>'
                                  "<th>Severity</th><th>Started</th><th>Status</th></tr></thead><tbody>"
                                  + "\n".join(rows) + "</tbody></table></div>")
    return fragments_only(fragments)
