"""site.build_site without MkDocs: everything made in the caller's process, or handed over
as deferred work that makes the same pages and files."""

from __future__ import annotations

import io
from datetime import date

from conftest import ROOT
from pmkb.kb import Loader
from pmkb.pages import SiteContext
from pmkb.settings import load_settings
from pmkb.site import build_site

CTX = SiteContext(today=date(2026, 1, 1), heading_link="¶")


def test_inline_and_deferred_build_give_the_same_site(tmp_path):
    kb = Loader(workers=1).load(load_settings(ROOT / "mkdocs.yml"))
    inline = build_site(kb, CTX)
    assert not any(p.deferred for p in inline.pages) and not inline.later and not inline.exports
    incident_pages = [p for p in inline.pages if p.edit_path]
    assert len(incident_pages) == len(kb.incidents)
    assert all(set(p.fragments) == {"top", "bottom"} and p.headings["bottom"] for p in incident_pages)

    handed: list = []
    deferred = build_site(kb, CTX, defer=handed.append)
    assert [p.src_uri for p in deferred.pages] == [p.src_uri for p in inline.pages]
    (work,) = handed
    made = {item[0]: item for item in work.run(tmp_path)}
    for page in inline.pages:
        if page.edit_path:
            _, fragments, search_text, headings = made[page.src_uri]
            assert (fragments, search_text, headings) == (page.fragments, page.search_text, page.headings)
    files = {f.dest_uri: f.content for f in inline.files}
    assert deferred.later and all(made[dest][1] == files[dest] for dest in deferred.later)
    out = io.BytesIO()
    inline.streamed[0].write(out)
    assert deferred.exports == ["incidents.json"] and (tmp_path / "incidents.json").read_bytes() == out.getvalue()
