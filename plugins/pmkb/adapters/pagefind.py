"""The scalable search path: a chunked static index built by Pagefind.

Material's built-in search downloads one JSON file holding the text of every page: with
thousands of postmortems that is tens of megabytes before the first result. Pagefind
splits its index into small fragments fetched on demand, so a search downloads a few
hundred kilobytes whatever the size of the knowledge base. Its binary ships on PyPI
(`pagefind[bin]`); nothing is fetched from elsewhere at build or view time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from ..pages.page import Page, placeholder

BUNDLE = "pagefind"           # folder of the index inside the site
SEARCH_PAGE = "find/index.md"


class PagefindError(Exception):
    pass


def index_site(site_dir: Path, timeout: float = 1800) -> str:
    """Run Pagefind over the built site; returns its summary line."""
    # Permalink marks and the related-incident lists would make every result mention others.
    cmd = [sys.executable, "-m", "pagefind", "--site", str(site_dir), "--output-subdir", BUNDLE,
           "--exclude-selectors", ".headerlink, .pmkb-related"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PagefindError(f"could not run Pagefind: {exc}") from None
    if done.returncode != 0:
        said = done.stderr + done.stdout
        missing = "binary" in said or "No module named pagefind" in said
        hint = " (install it with: pip install 'pagefind[bin]')" if missing else ""
        raise PagefindError(f"Pagefind failed{hint}: {(done.stderr or done.stdout).strip()[-2000:]}")
    lines = [ln.strip() for ln in done.stdout.splitlines() if "Indexed" in ln or "Finished" in ln]
    return "; ".join(lines)


def search_page(site_url: str = "") -> Page:
    """`find/`: the Pagefind search box and results, on a page of the site."""
    base = urlsplit(site_url).path or "/"
    options = json.dumps({"element": "#pmkb-find", "showSubResults": True, "showImages": False,
                          "baseUrl": base if base.endswith("/") else base + "/"})
    fragment = (f'<link href="../{BUNDLE}/pagefind-ui.css" rel="stylesheet">'
                '<div id="pmkb-find" class="pmkb-find"></div>'
                f'<script src="../{BUNDLE}/pagefind-ui.js"></script>'
                f"<script>new PagefindUI({options});</script>")
    markdown = "\n".join(["---", "title: Search", "search:", "  exclude: true", "---", "", "# Search the postmortems", "",
                          "Type an id, a service, a model or any word of a write-up.", "", placeholder("find"), ""])
    return Page(SEARCH_PAGE, "Search", markdown, in_nav=True, fragments={"find": fragment})


def mark_body(html: str) -> str:
    """Index only the page content, not the navigation around it."""
    return html.replace('<article class="md-content__inner md-typeset">',
                        '<article class="md-content__inner md-typeset" data-pagefind-body>', 1)
