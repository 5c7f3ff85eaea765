"""Where a site build spends its time: `mkdocs build` in this process, with clocks on
MkDocs' phases and, per kind of page (the first folder of its address), on Markdown,
the search plugin, the theme's templates and the postmortems plugin's own page events.

    python tools/build_phases.py [--config-file mkdocs.yml] [--site-dir DIR]

Run it in a knowledge base's folder (or one made by tools/synth.py), and in the folder
of the plain build that tools/bench_build.py --keep leaves, to compare the two. The
clocks wrap functions, so they cost a little themselves; the figures are for comparing,
the benchmark's are the ones to quote. Works with and without the postmortems plugin.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

from jinja2.environment import Template  # noqa: E402
from mkdocs.commands import build as mkdocs_build  # noqa: E402
from mkdocs.config import load_config  # noqa: E402
from mkdocs.plugins import PluginCollection  # noqa: E402
from mkdocs.structure.pages import Page  # noqa: E402

START = time.perf_counter()
spent: dict[tuple[str, str], float] = defaultdict(float)
pages: Counter[str] = Counter()
marks: dict[str, float] = {}
current: list[str | None] = [None]


def kind(url: str) -> str:
    return url.split("/")[0] or "(home)"


def clock(owner: Any, name: str, label: str) -> None:
    """Add the time spent in owner.name to the page being built, under `label`."""
    inner: Callable = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            if current[0] is not None:
                spent[(current[0], label)] += time.perf_counter() - t
    setattr(owner, name, timed)


def phase(owner: Any, name: str, label: str, per_page: bool = False) -> None:
    """Mark when owner.name first starts and last ends; per page, also count and clock it."""
    inner: Callable = getattr(owner, name)

    def marked(*args: Any, **kwargs: Any) -> Any:
        marks.setdefault(f"{label} starts", time.perf_counter() - START)
        if per_page:
            page = args[0]
            current[0] = kind(page.url)
            if label == "populate":
                pages[current[0]] += 1
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            if per_page:
                spent[(current[0], label)] += time.perf_counter() - t
            marks[f"{label} ends"] = time.perf_counter() - START
    setattr(owner, name, marked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-file", default="mkdocs.yml")
    parser.add_argument("--site-dir", help="where to build (default: a temporary folder)")
    args = parser.parse_args()

    clock(Template, "render", "templates")
    clock(Page, "render", "markdown")
    try:
        from material.plugins.search.plugin import SearchPlugin
        clock(SearchPlugin, "on_page_context", "search")
    except ImportError:
        pass
    try:
        from pmkb.adapters.mkdocs.plugin import PostmortemsPlugin
        for event in ("on_page_content", "on_page_context", "on_post_page"):
            clock(PostmortemsPlugin, event, "postmortems")
    except ImportError:
        pass
    phase(mkdocs_build, "_populate_page", "populate", per_page=True)
    phase(mkdocs_build, "_build_page", "build", per_page=True)
    phase(PluginCollection, "on_files", "on_files")

    site_dir = args.site_dir or tempfile.mkdtemp(prefix="pmkb-phases-")
    config = load_config(args.config_file, site_dir=site_dir)
    marks["config loaded"] = time.perf_counter() - START
    mkdocs_build.build(config)
    marks["end"] = time.perf_counter() - START
    times = os.times()

    print(f"# phases (s from start), site in {site_dir}")
    for name, at in sorted(marks.items(), key=lambda kv: kv[1]):
        print(f"{name:24} {at:8.2f}")
    print(f"CPU: this process {times.user + times.system:.1f} s, "
          f"its children {times.children_user + times.children_system:.1f} s")
    print("\n# per kind of page: total s (ms per page)")
    labels = ["populate", "markdown", "build", "templates", "search", "postmortems"]
    print(f"{'kind':14} {'pages':>6} " + " ".join(f"{label:>17}" for label in labels))
    for k, n in pages.most_common():
        cells = " ".join(f"{spent[(k, label)]:7.2f} ({spent[(k, label)] / n * 1000:5.2f})" for label in labels)
        print(f"{k:14} {n:6d} {cells}")


if __name__ == "__main__":
    main()
