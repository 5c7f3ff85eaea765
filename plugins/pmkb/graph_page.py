"""`graph/`: how root-cause categories connect through incidents, as a picture.

At scale a picture of every incident is a hairball; categories (a few dozen) linked by
how many incidents share them stay legible at 10 or 10,000 incidents. Nodes sit on a
circle grouped by layer, sized by incident count; edge width is the shared count.
"""

from __future__ import annotations

import networkx as nx

from .htmlutil import rel_url
from .kb import KnowledgeBase
from .pages import ChartFile, Page, category_src
from .render import plain

_PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#bab0ac", "#ff9da7")
_INK = "#8a8f98"   # reads on the light and the dark theme alike


def category_graph_spec(kb: KnowledgeBase, cg: nx.Graph) -> dict:
    """The picture of the category graph as a chart spec (charts.render draws it): nodes
    on a circle grouped by layer, sized by incident count, edges as wide as their count."""
    layer_of = {c.id: c.layer for c in kb.taxonomy.categories.values()}
    layer_ids = [layer.id for layer in kb.taxonomy.layers]
    colour = {lid: _PALETTE[k % len(_PALETTE)] for k, lid in enumerate(layer_ids)}
    nodes = sorted(cg.nodes, key=lambda c: (layer_ids.index(layer_of[c]), c))
    edges = sorted(cg.edges(data=True), key=lambda e: (e[2]["weight"], e[0], e[1]))
    return {"kind": "category-graph", "ink": _INK,
            # text stays text (searchable, selectable) in this one picture
            "rc": {"svg.fonttype": "none", "font.size": 9},
            "nodes": [[c, cg.nodes[c]["incidents"], colour[layer_of[c]]] for c in nodes],
            "edges": [[a, b, d["weight"]] for a, b, d in edges],
            "legend": [[kb.taxonomy.layer(lid).title, colour[lid]] for lid in layer_ids
                       if any(layer_of[c] == lid for c in nodes)]}


def graph_site(kb: KnowledgeBase, cg: nx.Graph, directory_urls: bool = True) -> tuple[Page, ChartFile]:
    src = "graph/index.md"
    svg = ChartFile("graph/categories.svg", category_graph_spec(kb, cg))
    pairs = sorted(cg.edges(data=True), key=lambda e: (-e[2]["weight"], e[0], e[1]))[:25]
    lines = ["---", "title: Graph", "hide: [toc]", "---", "", "# How root causes connect", "",
             '<p class="pmkb-lead">Each dot is a root-cause category, sized by its number of incidents and coloured by '
             "layer; a line joins two categories that were root causes of the same incident, thicker the more often. "
             "Categories that travel together point at the systemic weaknesses worth fixing once.</p>", "",
             f'<figure class="pmkb-graph"><img src="categories.svg" alt="Graph of {cg.number_of_nodes()} root-cause categories '
             f'joined by {cg.number_of_edges()} co-occurrences"></figure>', ""]
    if pairs:
        lines += ["## Categories that occur together", "", '<div class="pmkb-pairs"><table>',
                  "<thead><tr><th>Category</th><th>Category</th><th>Incidents with both</th></tr></thead><tbody>"]
        for a, b, d in pairs:
            lines.append(f'<tr><td><a href="{rel_url(src, category_src(a), directory_urls)}">{plain(a)}</a></td>'
                         f'<td><a href="{rel_url(src, category_src(b), directory_urls)}">{plain(b)}</a></td><td>{d["weight"]}</td></tr>')
        lines += ["</tbody></table></div>", ""]
    return Page(src, "Graph", "\n".join(lines), in_nav=True), svg
