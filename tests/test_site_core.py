"""The core without MkDocs: site.build_site makes everything in the caller's process, or
hands over deferred work that makes the same pages and files; Pagefind missing is a
message saying what to install."""

from __future__ import annotations

import io
import sys
from datetime import date

import pytest

from conftest import ROOT
from pmkb import Loader, SiteContext, build_site, load_settings
from pmkb.adapters.pagefind import PagefindError, index_site

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
    tasks = work.tasks(tmp_path)
    keys = [key for task in tasks for key in task.keys]
    # every key the adapter asks for is made by exactly one task, and each task makes its keys
    assert sorted(keys) == sorted({p.src_uri for p in deferred.pages if p.deferred} | set(deferred.later)
                                  | set(deferred.exports))
    assert len(tasks[0].keys) <= 4 < len(tasks[1].keys)    # the first page is soon ready
    made = {}
    for task in tasks:
        out = task.run()
        assert set(out) == set(task.keys)
        made.update(out)
    for page in inline.pages:
        if page.edit_path:
            assert made[page.src_uri] == (page.fragments, page.search_text, page.headings)
    files = {f.dest_uri: f.content for f in inline.files}
    # a chart its page does not show is made as None, and the inline build has no file for it
    assert deferred.later and all(made[dest] == files.get(dest) for dest in deferred.later)
    out = io.BytesIO()
    inline.streamed[0].write(out)
    assert deferred.exports == ["incidents.json"] and (tmp_path / "incidents.json").read_bytes() == out.getvalue()


@pytest.mark.parametrize("said", ["/usr/bin/python3: No module named pagefind",
                                  "Error: the pagefind binary could not be found"])
def test_missing_pagefind_is_an_error_with_what_to_install(tmp_path, monkeypatch, said):
    """`search_index: pagefind` without Pagefind installed: a message saying what to install."""
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\necho '{said}' >&2\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    with pytest.raises(PagefindError, match=r"pip install 'pagefind\[bin\]'"):
        index_site(tmp_path)
