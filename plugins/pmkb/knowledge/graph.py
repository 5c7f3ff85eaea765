"""The graph of incidents and root-cause categories, and related incidents from it.

A bipartite networkx graph: incident nodes ("i", id) and category nodes ("c", id), an edge
for each root-cause category of an incident. Related incidents share categories; a shared
category counts more the rarer it is (a category held by half the knowledge base says
little), so each shared category adds log(1 + N / df) to the score.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

from ..incidents.model import Incident
from .kb import KnowledgeBase
from .metrics import memo

if TYPE_CHECKING:
    import networkx as nx

# Members of categories up to this size are enumerated; above it, only the nearest in time
# and those sharing another category are scored - exact for the top results, and linear
# where one category holds thousands of incidents.
_ENUMERATE_LIMIT = 32


@dataclass(frozen=True, slots=True)
class Related:
    id: str
    explicit: bool
    shared: tuple[str, ...]      # shared categories, rarest first
    score: float


def incident_graph(kb: KnowledgeBase) -> "nx.Graph":
    # networkx is imported where a graph is built: the site build does that in its second
    # process, and the import costs a quarter of a second.
    import networkx as nx
    g: nx.Graph = nx.Graph()
    for cat in kb.taxonomy.categories:
        g.add_node(("c", cat), kind="category")
    for inc in kb.incidents:
        g.add_node(("i", inc.id), kind="incident")
        g.add_edges_from((("i", inc.id), ("c", c)) for c in inc.categories)
    return g


def category_graph(kb: KnowledgeBase, g: "nx.Graph | None" = None) -> "nx.Graph":
    """Categories linked by how many incidents have both: the picture that scales."""
    import networkx as nx
    g = g if g is not None else incident_graph(kb)
    cg: nx.Graph = nx.Graph()
    for node, data in g.nodes(data=True):
        if data["kind"] == "category" and g.degree(node):
            cg.add_node(node[1], incidents=g.degree(node))
    for inc in kb.incidents:
        for a, b in combinations(sorted(inc.categories), 2):
            w = cg.get_edge_data(a, b, {"weight": 0})["weight"]
            cg.add_edge(a, b, weight=w + 1)
    return cg


def related_for(kb: KnowledgeBase) -> "RelatedIndex":
    """Related incidents of the knowledge base (`RelatedIndex`), one object per knowledge base."""
    return memo(kb, "graph.related", lambda: RelatedIndex(kb))


class RelatedIndex(Mapping[str, list[Related]]):
    """Related incidents, each incident's worked out when first asked for and kept: an
    incident page needs only its own, so the first page does not wait for all of them."""

    def __init__(self, kb: KnowledgeBase, g: "nx.Graph | None" = None):
        g = g if g is not None else incident_graph(kb)
        # What it needs of the knowledge base, not the knowledge base: it is memoised on it.
        self._incidents, self._by_id, self._limit = kb.incidents, kb.by_id, kb.settings.related_limit
        n = max(len(kb.incidents), 1)
        self.members: dict[str, set[str]] = {}
        self.by_time: dict[str, tuple[list, list[str]]] = {}
        self.idf: dict[str, float] = {}
        order = {inc.id: k for k, inc in enumerate(kb.incidents)}   # kb.incidents is in (started, id) order
        for cat in kb.taxonomy.categories:
            ids = [node[1] for node in g.neighbors(("c", cat))]
            if not ids:
                continue
            ids.sort(key=order.__getitem__)
            self.members[cat] = set(ids)
            self.by_time[cat] = ([kb.by_id[i].started for i in ids], ids)
            self.idf[cat] = math.log(1 + n / len(ids))
        self._known: dict[str, list[Related]] = {}

    def __getitem__(self, incident_id: str) -> list[Related]:
        found = self._known.get(incident_id)
        if found is None:
            found = self._known[incident_id] = self._related(self._by_id[incident_id])
        return found

    def __iter__(self) -> Iterator[str]:
        return (inc.id for inc in self._incidents)

    def __len__(self) -> int:
        return len(self._incidents)

    def _related(self, inc: Incident) -> list[Related]:
        by_id, members, by_time, idf = self._by_id, self.members, self.by_time, self.idf
        limit = self._limit
        out = [Related(r, True, tuple(c for c in inc.categories if r in members.get(c, ())), 0.0)
               for r in inc.related]
        room = limit - len(out)
        if room > 0 and inc.categories:
            skip = {inc.id, *inc.related}
            cats = [c for c in inc.categories if c in members]
            candidates: set[str] = set()
            large = []
            for c in cats:
                if len(members[c]) <= _ENUMERATE_LIMIT:
                    candidates |= members[c]
                else:
                    large.append(c)
            for a, b in combinations(large, 2):
                candidates |= members[a] & members[b]
            for c in large:
                times, ids = by_time[c]
                k = bisect_left(times, inc.started)
                lo, hi = max(0, k - room - len(skip)), k + room + len(skip)
                candidates.update(ids[lo:hi])
            candidates -= skip
            scored = []
            for cid in candidates:
                shared = tuple(c for c in cats if cid in members[c])
                other = by_id[cid]
                gap = abs((other.started - inc.started).total_seconds())
                scored.append((-sum(idf[c] for c in shared), gap, cid, shared))
            scored.sort()
            for neg, _gap, cid, shared in scored[:room]:
                out.append(Related(cid, False, tuple(sorted(shared, key=lambda c: -idf[c])), -neg))
        return out
