"""The sentences and limits the pages share when they speak of recurrence, fixes and small
numbers: one wording on the trend pages, the ledger, the category and incident pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .blocks import figure_table, h
from .htmlutil import percent, rel_url
from .page import SiteContext

if TYPE_CHECKING:
    from ..knowledge.kb import KnowledgeBase

SMALL_N = 5             # below this many values a mean, median or p90 is an anecdote, not a trend
SMALL_N_NOTE = "One unusual incident moves such figures a lot; read them as anecdotes, not trends."
LIST_LIMIT = 50         # rows of long lists on a page; the JSON exports hold them all

DURATION_TITLES = {
    "time_to_detect": "Time to detect",
    "time_to_diagnose": "Time to diagnose",
    "time_to_mitigate": "Time to mitigate",
    "time_to_resolve": "Time to resolve",
}
# Page meta that keeps a page out of the search index (Material's search plugin reads it;
# the Pagefind path leaves such pages unmarked). Trend and ledger pages are tables of
# figures: search is for incidents, and their headings made thousands of empty entries.
SEARCH_EXCLUDED = "search:\n  exclude: true\n"


def scope_phrase(kb: "KnowledgeBase") -> str:
    """Where a problem must come back to count, in the words of the pages."""
    if kb.settings.recurrence_scope == "category":
        return "anywhere in the organisation"
    return "on the same service, model or data set"


def scope_sentence(kb: "KnowledgeBase") -> str:
    """One sentence saying what counts as a recurrence under the knowledge base's setting."""
    window = kb.settings.recurrence_window_days
    if kb.settings.recurrence_scope == "category":
        return (f"An incident is a recurrence when an earlier incident anywhere in the organisation had one of its "
                f"root-cause categories within {window} days (<code>recurrence_scope: category</code>).")
    return (f"An incident is a recurrence when an earlier incident on the same service, model or data set had one "
            f"of its root-cause categories within {window} days (<code>recurrence_scope: system</code>).")


def fix_rule(kb: "KnowledgeBase") -> str:
    """The definition of a fix and its states, in two sentences of the pages (HTML)."""
    window = kb.settings.recurrence_window_days
    where = ("anywhere in the organisation" if kb.settings.recurrence_scope == "category"
             else "on a service, model or data set of the fix's own incident")
    return (f"A <em>fix</em> is a done action item with a completion date. It <strong>did not hold</strong> when, "
            f"within {window} days of its completion, a later incident {where} had a root cause it addressed; it "
            f"<strong>held</strong> once {window} days have passed without that, and is <em>pending</em> until then.")


FIX_TYPE_TITLES = {"prevention": "Prevention", "detection": "Detection", "mitigation": "Mitigation", "process": "Process"}


def fix_type_table(fixes: dict[str, Any]) -> str:
    """HTML: the fixes per action type and overall (the `fixes` object of trends.json):
    which kinds of remediation hold."""
    def row(name: str, c: dict[str, Any]) -> list[str]:
        return [name, str(c["done"]), str(c["did_not_hold"]), str(c["held"]), str(c["pending"]),
                percent(c["hold_rate"]) + (f" <small>(n={c['held'] + c['did_not_hold']})</small>"
                                           if c["held"] + c["did_not_hold"] else "")]
    rows = [row(FIX_TYPE_TITLES.get(t, h(t)), c) for t, c in fixes["by_type"].items()]
    rows.append(["<strong>All</strong>"] + row("", fixes["overall"])[1:])
    return figure_table(["Action type", "fixes", "did not hold", "held", "pending", "hold rate"], rows)


def metrics_page(ctx: SiteContext) -> str | None:
    """The src_uri of the metric definitions page: `metrics.md` of the docs folder unless
    `ctx.extra["metrics_page"]` names another, or is None: a knowledge base without the
    page must not get broken links (`mkdocs build --strict` fails on them)."""
    return ctx.extra.get("metrics_page", "metrics.md")


def metrics_link(ctx: SiteContext, from_src: str, template: str, directory_urls: bool = True) -> str:
    """`template` with the relative address of the metric definitions page filled in, or
    nothing when the site has none."""
    page = metrics_page(ctx)
    return template.format(rel_url(from_src, page, directory_urls)) if page else ""
