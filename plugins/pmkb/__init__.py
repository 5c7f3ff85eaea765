"""pmkb: turn a repository of incident postmortems into a searchable knowledge base.

The core library (everything in this package except `pmkb.mkdocs_plugin`) imports no
MkDocs: files -> incidents -> knowledge base (graph, metrics) -> pages, charts, exports.
"""

__version__ = "0.1.0"
