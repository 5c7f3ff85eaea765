"""The plugin's settings in mkdocs.yml (SPEC section 4), with the core's defaults."""

from __future__ import annotations

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config

from ..settings import DEFAULTS, RECURRENCE_SCOPES


class PostmortemsConfig(Config):
    incidents_dir = opt.Type(str, default=DEFAULTS["incidents_dir"])
    """Folder of incident files, relative to mkdocs.yml (outside `docs/`)."""

    taxonomy = opt.Type(str, default=DEFAULTS["taxonomy"])
    """The taxonomy file, relative to mkdocs.yml."""

    timezone = opt.Type(str, default=DEFAULTS["timezone"])
    """IANA zone for timestamps without an offset, and for months, quarters and 'today'."""

    recurrence_window_days = opt.Type(int, default=DEFAULTS["recurrence_window_days"])
    """An incident recurs a category seen within this many days before it; a fix that did
    not fail within this many days of its completion held."""

    recurrence_scope = opt.Choice(RECURRENCE_SCOPES, default=DEFAULTS["recurrence_scope"])
    """`system`: recurrence and fixes count only between incidents that share a service,
    model or data set. `category`: the whole organisation counts as one system."""

    related_limit = opt.Type(int, default=DEFAULTS["related_limit"])
    """How many related incidents an incident page lists (explicit links always all)."""

    search_index = opt.Choice(("theme", "pagefind"), default="theme")
    """`theme`: the theme's search plugin (one index file, fine to a few thousand incidents).
    `pagefind`: also build a chunked Pagefind index and a `find/` search page, which
    stays small to download at any size (remove `search` from plugins to drop the big
    index)."""
