"""Reading a large knowledge base in several processes gives exactly what one process gives.

Above PARALLEL_THRESHOLD files the loader checks files in forked workers and in the parent
(knowledge.checking, on the pool of pmkb.workers). The incidents, their order and every diagnostic must not depend
on that: 450 synthetic incidents, some of them broken on purpose, are loaded both ways.
"""

from __future__ import annotations

import sys

import pytest

from conftest import KB, ROOT
from pmkb import Loader
from pmkb.knowledge import checking

sys.path.insert(0, str(ROOT / "tools"))
import synth  # noqa: E402  (tools/ is not a package)

N = checking.PARALLEL_THRESHOLD + 50


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> KB:
    kb = KB(tmp_path_factory.mktemp("parallel"))
    kb.write_config()
    synth.generate(N, kb.root, seed=3)
    files = sorted((kb.root / "incidents").rglob("*.md"))
    # a few kinds of broken file, spread over the list so that workers and parent each get some
    files[7].write_text(files[7].read_text(encoding="utf-8").replace("severity: ", "severity: SEV9 #", 1), encoding="utf-8")
    files[200].write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    files[-3].write_bytes(b"---\nid: \xff\n---\n")
    dup = files[-1].read_text(encoding="utf-8")
    (files[-1].parent / "copy-of-last.md").write_text(dup, encoding="utf-8")   # a duplicate id
    return kb


def _view(loaded):
    return ([(i.id, i.source.path, i.started, i.title, i.categories, len(i.action_items)) for i in loaded.incidents],
            [d.text() for d in loaded.diagnostics])


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_parallel_and_serial_loads_agree(large):
    settings = large.settings
    serial = Loader(workers=1).load(settings)
    parallel = Loader(workers=2).load(settings)
    assert len(serial.incidents) >= N - 4 and len(serial.errors) >= 4
    assert _view(parallel) == _view(serial)
    checked_serial = Loader(workers=1).check(settings)
    checked_parallel = Loader(workers=2).check(settings)
    assert [d.text() for d in checked_parallel.diagnostics] == [d.text() for d in checked_serial.diagnostics]
