"""Stage 3, knowledge: every incident file read and checked across files into the
`KnowledgeBase`, and what is computed over it: the graph, metrics, recurrence and fixes
that did not hold, planning periods, overdue items, facets, similar incidents. Data in,
data out; no HTML."""
