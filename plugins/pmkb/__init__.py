"""pmkb: turn a repository of incident postmortems into a searchable knowledge base.

The packages follow the data, one stage after another; each imports only from the
stages before it:

    settings.py   the knowledge base's settings, read from the plugin's entry in mkdocs.yml
    reading/      1. files -> front matter and body        (frontmatter, yamlsafe, timestamps)
    incidents/    2. front matter -> checked Incident      (schema, taxonomy, validate, model,
                     or diagnostics                         diagnostics)
    knowledge/    3. incidents -> KnowledgeBase, and what   (kb, graph, metrics, recurrence,
                     is computed over it                    planning, overdue, facets, similar)
    pages/        4. knowledge base -> pages, charts,       (site, incident_page, trends, actions,
                     exports, feed                          charts, exports, templates, assets)
    adapters/     5. pages -> a built or served site        (mkdocs/ the MkDocs plugin, engines and
                                                            staging for the other engines, preview/
                                                            `pmkb serve PATH`, pagefind)
    cli/          the `pmkb` command line, apart: it drives stages 1-3 and the adapters
    workers.py    the one way work runs in other processes: a pool of forked workers
                  (checking many files, the site build's deferred work, the preview's cache)

Only `adapters/mkdocs` imports MkDocs. Importing `pmkb` and loading a knowledge base
imports neither MkDocs, matplotlib nor networkx (tests/test_layout.py): the command line
stays quick and the core usable without a site engine.

The names below are the public API, used by the adapters and the tests.
"""

from typing import Any

from .incidents.diagnostics import Diagnostic
from .incidents.model import Incident
from .incidents.schema import load_checker
from .incidents.taxonomy import Taxonomy, TaxonomyError, load_taxonomy
from .incidents.validate import Rules, check_file
from .knowledge.kb import KnowledgeBase, KnowledgeBaseError, Loader
from .pages.page import SiteContext
from .reading.timestamps import today, zone
from .settings import Settings, SettingsError, load_settings

__version__ = "0.1.0"

# The page stage is imported on first use (PEP 562): `pmkb validate` never needs it.
_LAZY = {"build_site": "pmkb.pages.site", "related_for": "pmkb.knowledge.graph"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pmkb' has no attribute {name!r}")


__all__ = ["Diagnostic", "Incident", "KnowledgeBase", "KnowledgeBaseError", "Loader", "Rules", "Settings",
           "SettingsError", "SiteContext", "Taxonomy", "TaxonomyError", "build_site", "check_file", "load_checker",
           "load_settings", "load_taxonomy", "related_for", "today", "zone"]
