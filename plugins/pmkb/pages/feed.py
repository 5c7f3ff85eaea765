"""The Atom feed of finished postmortems (`feed.xml`, SPEC section 5).

Only `final` write-ups go out: a reader subscribes to learn from finished analyses, not
to watch drafts change. The bytes depend only on the knowledge base, never on the clock,
so two builds of the same commit publish the same file.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urljoin

from feedgen.feed import FeedGenerator

from ..incidents.model import Incident
from ..knowledge.kb import KnowledgeBase

FEED_PATH = "feed.xml"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)   # the `updated` of a feed with no entry yet

# Characters XML 1.0 cannot carry at all; YAML escapes ("\x01") can put them in a title.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _absolute(site_url: str | None, path: str) -> str:
    if not site_url:
        return path
    # urljoin drops the last path segment unless the base ends with '/': a site served
    # from https://example.com/kb must still give https://example.com/kb/incidents/...
    return urljoin(site_url if site_url.endswith("/") else site_url + "/", path)


def entry_updated(incident: Incident) -> datetime:
    return incident.resolved or incident.started


def final_incidents(kb: KnowledgeBase) -> list[Incident]:
    """The finished postmortems, newest first: by started, then id, both descending."""
    return sorted((i for i in kb.incidents if i.status == "final"), key=lambda i: i.order_key, reverse=True)


def feed_xml(kb: KnowledgeBase, site_name: str, site_url: str | None = None) -> bytes:
    """The Atom document. Links are absolute when site_url is given, site-relative otherwise."""
    incidents = final_incidents(kb)
    site_name = _xml_text(site_name or "Postmortems")
    fg = FeedGenerator()
    # A feed id must never change; the site's address is the natural one, and without it a
    # URN built from the site name stays put across builds.
    fg.id(_absolute(site_url, FEED_PATH) if site_url else f"urn:pmkb:feed:{_slug(site_name)}")
    fg.title(f"{site_name}: postmortems")
    fg.subtitle("Final postmortems, newest first")
    fg.author({"name": site_name})
    fg.link(href=_absolute(site_url, FEED_PATH), rel="self", type="application/atom+xml")
    fg.link(href=_absolute(site_url, "incidents/"), rel="alternate", type="text/html")
    fg.generator("pmkb")  # no version: an upgrade alone should not change the bytes
    fg.updated(max((entry_updated(i) for i in incidents), default=EPOCH))
    categories = kb.taxonomy.categories
    for incident in incidents:
        fe = fg.add_entry(order="append")
        url = _absolute(site_url, incident.url)
        fe.id(url if site_url else f"urn:pmkb:incident:{incident.slug}")
        fe.title(_xml_text(f"{incident.id}: {incident.title}"))
        fe.link(href=url, rel="alternate", type="text/html")
        fe.updated(entry_updated(incident))
        fe.published(incident.started)
        for name in incident.authors:
            fe.author({"name": _xml_text(name)})
        if incident.summary:
            fe.summary(_xml_text(incident.summary))  # plain text: feedgen escapes it
        for cat in incident.categories:
            known = categories.get(cat)
            fe.category({"term": cat, "label": _xml_text(known.title) if known else cat})
    return fg.atom_str(pretty=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "postmortems"
