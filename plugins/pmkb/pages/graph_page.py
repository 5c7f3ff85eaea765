"""`graph/`: how root-cause categories connect through incidents, as a picture.

At scale a picture of every incident is a hairball; categories (a few dozen) linked by
how many incidents share them stay legible at 10 or 10,000 incidents. Nodes sit on a
circle grouped by layer, sized by incident count; edge width is the shared count.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from ..knowledge.graph import category_graph
from ..knowledge.kb import KnowledgeBase
from . import charts
from .chart_style import PALETTE, TEXT
from .htmlutil import rel_url
from .page import Filling, Page, category_src, fragments_only, placeholder
from .render import plain

if TYPE_CHECKING:
    import networkx as nx



def category_graph_spec(kb: KnowledgeBase, cg: "nx.Graph") -> dict:
    """The picture of the category graph as a chart spec (charts.render draws it): nodes
    on a circle grouped by layer, sized by incident count, edges as wide as their count."""
    layer_of = {c.id: c.layer for c in kb.taxonomy.categories.values()}
    layer_ids = [layer.id for layer in kb.taxonomy.layers]
    colour = {lid: PALETTE[k % len(PALETTE)] for k, lid in enumerate(layer_ids)}
    nodes = sorted(cg.nodes, key=lambda c: (layer_ids.index(layer_of[c]), c))
    edges = sorted(cg.edges(data=True), key=lambda e: (e[2]["weight"], e[0], e[1]))
    return {"kind": "category-graph", "ink": TEXT,   # drawn for the light scheme, as the charts are
            # text stays text (searchable, selectable) in this one picture
            "rc": {"svg.fonttype": "none", "font.size": 9},
            "nodes": [[c, cg.nodes[c]["incidents"], colour[layer_of[c]]] for c in nodes],
            "edges": [[a, b, d["weight"]] for a, b, d in edges],
            "legend": [[_layer_title(kb, lid), colour[lid]] for lid in layer_ids
                       if any(layer_of[c] == lid for c in nodes)]}


GRAPH_SVG = "graph/categories.svg"


def graph_chart(kb: KnowledgeBase) -> bytes:
    """The picture, drawn (charts.render caches it by content)."""
    return charts.render(category_graph_spec(kb, category_graph(kb)))


def graph_page(kb: KnowledgeBase, directory_urls: bool = True) -> Page:
    """`graph/`: the picture (`graph_chart`, at GRAPH_SVG) and the pairs of categories that
    occur together most. Both are made with the graph, by the page's `make`."""
    src = "graph/index.md"
    lines = ["---", "title: Graph", "hide: [toc]", "---", "", "# How root causes connect", "",
             '<p class="pmkb-lead">Each dot is a root-cause category, sized by its number of incidents and coloured by '
             "layer; a line joins two categories that were root causes of the same incident, thicker the more often. "
             "Categories that travel together point at the systemic weaknesses worth fixing once.</p>", "",
             placeholder("figure"), ""]
    # Known without the graph: a pair exists when an incident has two categories.
    if any(len(inc.categories) > 1 for inc in kb.incidents):
        lines += ["## Categories that occur together", "", placeholder("pairs"), ""]
    return Page(src, "Graph", "\n".join(lines), in_nav=True, make=partial(_graph_fragments, kb, src, directory_urls))


def _graph_fragments(kb: KnowledgeBase, src: str, directory_urls: bool) -> Filling:
    cg = category_graph(kb)
    figure = (f'<figure class="pmkb-graph"><img src="{rel_url(src, GRAPH_SVG, directory_urls)}" '
              f'alt="Graph of {cg.number_of_nodes()} root-cause categories joined by {cg.number_of_edges()} '
              'co-occurrences"></figure>')
    pairs = sorted(cg.edges(data=True), key=lambda e: (-e[2]["weight"], e[0], e[1]))[:25]
    rows = [f'<tr><td><a href="{rel_url(src, category_src(a), directory_urls)}">{plain(a)}</a></td>'
            f'<td><a href="{rel_url(src, category_src(b), directory_urls)}">{plain(b)}</a></td><td>{d["weight"]}</td></tr>'
            for a, b, d in pairs]
    table = ('<div class="pmkb-pairs"><table>\n'
             "<thead><tr><th>Category</th><th>Category</th><th>Incidents with both</th></tr></thead><tbody>\n"
             + "\n".join(rows) + "\n</tbody></table></div>")
    return fragments_only({"figure": figure, "pairs": table})


def _layer_title(kb: KnowledgeBase, layer_id: str) -> str:
    layer = kb.taxonomy.layer(layer_id)
    return layer.title if layer else layer_id
