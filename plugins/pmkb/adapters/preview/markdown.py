"""A previewed page's Markdown made HTML as the site makes it: the Markdown extensions and
theme colours of mkdocs.yml, links to incident pages and heading ids as MkDocs gives them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import markdown as markdown_lib

from ...pages.page import Heading, fill, rename_heading_ids, unique_heading_ids
from ...settings import SettingsError, read_config

# MkDocs always loads these; the plugin adds admonition and tables (mkdocs_plugin/plugin.py).
_BASE_EXTENSIONS = ("toc", "tables", "fenced_code", "admonition")
_MD_LINK = re.compile(r'(href="[^"#?:]*/)index\.md(?=["#?])')


def page_html(md: markdown_lib.Markdown, page_markdown: str, fragments: dict[str, str],
              headings: dict[str, list[Heading]]) -> tuple[str, list[dict]]:
    """The page's HTML with the generated fragments in place, and its table of contents."""
    html = md_links(md.convert(without_meta(page_markdown)))
    toc_tokens = getattr(md, "toc_tokens", [])
    renames = unique_heading_ids(headings, token_ids(toc_tokens))
    if renames:
        fragments = {k: rename_heading_ids(v, renames) for k, v in fragments.items()}
    return fill(html, fragments), toc(headings, renames, toc_tokens)


def without_meta(page_markdown: str) -> str:
    """The page's Markdown without the meta block that MkDocs reads (title, description)."""
    if page_markdown.startswith("---\n"):
        end = page_markdown.find("\n---\n", 4)
        if end >= 0:
            return page_markdown[end + 5:]
    return page_markdown


def md_links(html: str) -> str:
    """Links to incident pages as MkDocs makes them: `../inc-x/index.md` -> `../inc-x/`."""
    return _MD_LINK.sub(r"\1", html)


def token_ids(tokens: list[dict]) -> set[str]:
    ids: set[str] = set()
    for t in tokens:
        ids.add(t["id"])
        ids |= token_ids(t.get("children", []))
    return ids


def toc(headings: dict[str, list[Heading]], renames: dict[str, str], tokens: list[dict]) -> list[dict]:
    """The page's table of contents, flat, with levels: the generated sections above the
    body, the author's headings, the generated sections below (as the site lists them)."""
    def flat(items: list[dict]) -> list[dict]:
        out = []
        for t in items:
            out.append({"id": t["id"], "title": t["name"], "level": t["level"], "html": False})
            out += flat(t.get("children", []))
        return out
    gen = {where: [{"id": renames.get(hid, hid), "title": title, "level": level, "html": True}
                   for hid, title, level in hs] for where, hs in headings.items()}
    items = gen.get("top", []) + [t for t in flat(tokens) if t["level"] > 1] + gen.get("bottom", [])
    return items


def site_config(config_file: Path) -> dict[str, Any]:
    """What the page needs of mkdocs.yml: the site's name and address, its Markdown
    extensions and the theme's colours."""
    try:
        raw = read_config(config_file)
    except SettingsError:   # the settings were read from it already: this is a change since
        raw = {}
    extensions: list[str] = []
    configs: dict[str, dict] = {}
    for item in raw.get("markdown_extensions") or []:
        if isinstance(item, str):
            extensions.append(item)
        elif isinstance(item, dict) and item:
            name, conf = next(iter(item.items()))
            extensions.append(str(name))
            if isinstance(conf, dict):
                configs[str(name)] = conf
    for name in _BASE_EXTENSIONS:
        if name not in extensions:
            extensions.append(name)
    permalink = configs.get("toc", {}).get("permalink")
    theme = raw.get("theme")
    theme = theme if isinstance(theme, dict) else {}
    palette = theme.get("palette")
    first = palette[0] if isinstance(palette, list) and palette and isinstance(palette[0], dict) else (
        palette if isinstance(palette, dict) else {})
    return {"site_name": str(raw.get("site_name") or "Postmortem knowledge base"),
            "site_url": str(raw.get("site_url") or ""),
            "extensions": extensions, "extension_configs": configs,
            "heading_link": ("¶" if permalink is True else str(permalink)) if permalink else None,
            "primary": str(first.get("primary") or "indigo").replace(" ", "-"),
            "accent": str(first.get("accent") or "indigo").replace(" ", "-")}


def markdown_factory(config: dict[str, Any]) -> Callable[[], markdown_lib.Markdown]:
    """A fresh Markdown converter per page, with the site's extensions; an extension
    that cannot be loaded here (a theme's own) is left out rather than failing the preview."""
    extensions = list(config["extensions"])
    configs = dict(config["extension_configs"])
    usable = []
    for name in extensions:
        try:
            markdown_lib.Markdown(extensions=[name], extension_configs={name: configs.get(name, {})})
            usable.append(name)
        except Exception:  # noqa: BLE001 - e.g. material.extensions.emoji needs its theme
            continue

    def make() -> markdown_lib.Markdown:
        return markdown_lib.Markdown(extensions=usable, extension_configs={n: configs[n] for n in usable if n in configs})
    return make
