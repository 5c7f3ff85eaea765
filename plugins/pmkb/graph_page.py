"""`graph/`: how root-cause categories connect through incidents, as a picture.

At scale a picture of every incident is a hairball; categories (a few dozen) linked by
how many incidents share them stay legible at 10 or 10,000 incidents. Nodes sit on a
circle grouped by layer, sized by incident count; edge width is the shared count.
"""

from __future__ import annotations

import io
import math

import networkx as nx

from .htmlutil import rel_url
from .kb import KnowledgeBase
from .pages import Page, StaticFile, category_src
from .render import plain

_PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#bab0ac", "#ff9da7")
_INK = "#8a8f98"   # reads on the light and the dark theme alike


def draw_category_graph(kb: KnowledgeBase, cg: nx.Graph) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    layer_of = {c.id: c.layer for c in kb.taxonomy.categories.values()}
    layer_ids = [layer.id for layer in kb.taxonomy.layers]
    colour = {lid: _PALETTE[k % len(_PALETTE)] for k, lid in enumerate(layer_ids)}
    nodes = sorted(cg.nodes, key=lambda c: (layer_ids.index(layer_of[c]), c))
    with matplotlib.rc_context({"svg.hashsalt": "pmkb", "svg.fonttype": "none", "font.size": 9}):
        fig = Figure(figsize=(11, 10))
        ax = fig.add_axes((0.0, 0.0, 0.8, 1.0))
        ax.set_axis_off()
        ax.set_aspect("equal")
        # Room outside the circle for the radial labels (the longest ids run ~35 characters).
        ax.set_xlim(-1.95, 1.95)
        ax.set_ylim(-1.95, 1.95)
        n = max(len(nodes), 1)
        pos = {c: (math.cos(2 * math.pi * k / n), math.sin(2 * math.pi * k / n)) for k, c in enumerate(nodes)}
        max_w = max((d["weight"] for _, _, d in cg.edges(data=True)), default=1)
        edges = sorted(cg.edges(data=True), key=lambda e: (e[2]["weight"], e[0], e[1]))
        # One collection for all edges: a plot call per edge costs seconds at a few hundred edges.
        ax.add_collection(LineCollection(
            [(pos[a], pos[b]) for a, b, _ in edges],
            linewidths=[0.6 + 5 * d["weight"] / max_w for _, _, d in edges],
            colors=[(0.54, 0.56, 0.6, 0.25 + 0.6 * d["weight"] / max_w) for _, _, d in edges], zorder=1))
        max_n = max((cg.nodes[c]["incidents"] for c in nodes), default=1)
        ax.scatter([pos[c][0] for c in nodes], [pos[c][1] for c in nodes],
                   s=[60 + 900 * cg.nodes[c]["incidents"] / max_n for c in nodes],
                   color=[colour[layer_of[c]] for c in nodes], zorder=2, edgecolors="white", linewidths=0.8)
        for c in nodes:
            x, y = pos[c]
            angle = math.degrees(math.atan2(y, x))
            flip = 90 < angle or angle < -90
            ax.text(x * 1.09, y * 1.09, f"{c} ({cg.nodes[c]['incidents']})", color=_INK, fontsize=8.5,
                    rotation=angle + 180 if flip else angle, rotation_mode="anchor",
                    ha="right" if flip else "left", va="center", zorder=3)
        handles = [ax.scatter([], [], color=colour[lid], s=60, label=kb.taxonomy.layer(lid).title) for lid in layer_ids
                   if any(layer_of[c] == lid for c in nodes)]
        if handles:
            leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
                            fontsize=10, title="Layer", title_fontsize=10)
            for t in [*leg.get_texts(), leg.get_title()]:
                t.set_color(_INK)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", transparent=True, metadata={"Date": None}, bbox_inches="tight", pad_inches=0.1)
    return buf.getvalue().encode("utf-8")


def graph_site(kb: KnowledgeBase, cg: nx.Graph, directory_urls: bool = True) -> tuple[Page, StaticFile]:
    src = "graph/index.md"
    svg = StaticFile("graph/categories.svg", draw_category_graph(kb, cg))
    pairs = sorted(cg.edges(data=True), key=lambda e: (-e[2]["weight"], e[0], e[1]))[:25]
    lines = ["---", "title: Graph", "---", "", "# How root causes connect", "",
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
