"""The site as plain files, for a site engine that does not run our MkDocs plugin (Zensical).

Zensical reads `mkdocs.yml` but ignores plugins it does not know, so on its own it builds
the hand-written pages and nothing of the knowledge base. Here the core writes what the
plugin would hand MkDocs into a staging folder outside the user's `docs/`:

    <staging>/mkdocs.yml     the user's configuration, with docs_dir and site_dir pointed here
    <staging>/docs/          the user's docs, then every generated page as Markdown with its
                             fragments in place, the charts, the exports and the assets
    <staging>/overrides/     the user's theme overrides, plus ours

and the engine builds from it. The plugin's other work is done here too, engine-neutrally:
the Markdown extensions and the stylesheet and script it adds to the configuration, the
live figures of hand-written pages, and, after the build (`finish_site`), the feed link
in every page's head and the Pagefind index.

Nothing here imports a site engine.
"""

from __future__ import annotations

import html
import io
import os
import posixpath
import re
import shutil
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit, urlunsplit

import yaml

from .addresses import clashes_with_docs, clashes_within, dest_of
from .files import MARKDOWN_SUFFIXES
from .home import render_home_markers
from .htmlutil import page_url
from .kb import KnowledgeBase
from .pages import Heading, Page, SiteContext, StreamedFile, placeholder
from .pagefind import index_site, mark_body, search_page
from .settings import PLUGIN_NAME, plugin_options
from .site import FEED_URI, SCRIPT_URI, STYLE_URI, build_site
from .timestamps import today

CONFIG_NAME = "mkdocs.yml"
DOCS = "docs"
SITE = "site"
OVERRIDES = "overrides"
# The theme overrides the plugin gives MkDocs (the repository link without the theme's
# live fetch of repository facts): templates, usable by any engine of the Material family.
THEME_OVERRIDES = Path(__file__).resolve().parent / "mkdocs_plugin" / "overrides"
# The generated pages use these whatever the user's list (attr_list: the ids of the
# generated headings written as Markdown headings, see `markdown_page`).
REQUIRED_EXTENSIONS = ("admonition", "tables", "attr_list", "toc")


class StagingError(Exception):
    """The site cannot be staged (bad configuration, a docs page clashing with a generated one)."""


# --- the configuration -------------------------------------------------------------------

@dataclass(frozen=True)
class Tagged:
    """A YAML value with an application tag (`!ENV VAR`, `!!python/name:x.y`), kept as
    written so that the engine, not us, resolves it."""
    tag: str
    value: Any


class _KeepTags(yaml.SafeLoader):
    pass


def _keep(loader: yaml.SafeLoader, suffix: str, node: yaml.Node, prefix: str = "!") -> Tagged:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tagged(node.tag, value)


_KeepTags.add_multi_constructor("!", _keep)
_KeepTags.add_multi_constructor("tag:yaml.org,2002:python/", _keep)


class _WriteTags(yaml.SafeDumper):
    pass


def _write_tagged(dumper: yaml.SafeDumper, data: Tagged) -> yaml.Node:
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


_WriteTags.add_representer(Tagged, _write_tagged)


def read_config(config_file: Path) -> dict[str, Any]:
    try:
        config = yaml.load(config_file.read_text(encoding="utf-8-sig"), Loader=_KeepTags) or {}
    except OSError as exc:
        raise StagingError(f"cannot read {config_file}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise StagingError(f"{config_file} is not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise StagingError(f"{config_file} must be a YAML mapping")
    return config


def _plain(value: Any) -> Any:
    """A configuration value as the engine will read it: `!ENV` resolved as MkDocs does
    (the first variable set, else the last item as the default), other tags' values as written."""
    if isinstance(value, Tagged) and value.tag == "!ENV":
        names = value.value if isinstance(value.value, list) else [value.value]
        default = names[-1] if isinstance(value.value, list) and len(names) > 1 else None
        for name in (names[:-1] if default is not None else names):
            if str(name) in os.environ:
                return yaml.safe_load(os.environ[str(name)])
        return default
    return value.value if isinstance(value, Tagged) else value


def extension_names(extensions: Iterable[Any]) -> list[str]:
    """Names of a `markdown_extensions` list (strings, or one-key mappings with options)."""
    names = []
    for ext in extensions:
        if isinstance(ext, dict) and len(ext) == 1:
            names.append(str(next(iter(ext))))
        elif isinstance(ext, str):
            names.append(ext)
    return names


def toc_options(config: dict[str, Any]) -> dict[str, Any] | None:
    """The options of the `toc` extension, or None when the configuration does not enable it."""
    for ext in config.get("markdown_extensions") or []:
        if ext == "toc":
            return {}
        if isinstance(ext, dict) and "toc" in ext:
            return dict(ext["toc"] or {})
    return None


def derived_config(config: dict[str, Any], root: Path, nav: list | None) -> dict[str, Any]:
    """The user's configuration for a build from `staging`: docs and site inside it, paths
    the engine resolves against the configuration's folder made absolute, our plugin's
    entry removed (the engine ignores it anyway; the staging already did its work), and
    what the plugin adds to the configuration added."""
    out = dict(config)
    out["docs_dir"] = DOCS
    out["site_dir"] = SITE
    if "INHERIT" in out:
        out["INHERIT"] = str((root / str(_plain(out["INHERIT"]))).resolve())
    plugins = out.get("plugins") or []
    if isinstance(plugins, dict):
        out["plugins"] = {k: v for k, v in plugins.items() if k != PLUGIN_NAME}
    else:
        out["plugins"] = [p for p in plugins if p != PLUGIN_NAME and not (isinstance(p, dict) and PLUGIN_NAME in p)]
    theme = out.get("theme") or {}
    theme = {"name": theme} if isinstance(theme, str) else dict(theme)
    theme["custom_dir"] = OVERRIDES
    out["theme"] = theme
    extensions = list(out.get("markdown_extensions") or [])
    have = extension_names(extensions)
    extensions += [ext for ext in REQUIRED_EXTENSIONS if ext not in have]
    out["markdown_extensions"] = extensions
    css = list(out.get("extra_css") or [])
    out["extra_css"] = css if STYLE_URI in css else [*css, STYLE_URI]
    scripts = list(out.get("extra_javascript") or [])
    out["extra_javascript"] = scripts if SCRIPT_URI in [str(_plain(s)) for s in scripts] else [*scripts, SCRIPT_URI]
    if nav is not None:
        out["nav"] = nav
    return out


def auto_nav(doc_uris: Iterable[str]) -> list:
    """A navigation of the given pages nested by folder, index pages first, as MkDocs makes
    one when `nav` is not configured. Used in its place so that the engine does not list
    every generated incident page (SPEC 5: never in the navigation)."""
    tree: dict = {}
    for uri in sorted(doc_uris, key=lambda u: (u.count("/"), not u.endswith("index.md"), u)):
        node = tree
        *folders, _ = uri.split("/")
        for folder in folders:
            node = node.setdefault(folder + "/", {})
        node[uri] = None

    def entries(node: dict) -> list:
        out: list = []
        for key, child in node.items():
            if child is None:
                out.append(key)
            else:
                title = key.rstrip("/").replace("-", " ").replace("_", " ").capitalize()
                out.append({title: entries(child)})
        return out
    return entries(tree)


# --- pages as Markdown ---------------------------------------------------------------------

_BLOCK_START = re.compile(r"<(address|article|aside|blockquote|details|div|dl|fieldset|figure|footer|form|h[1-6]|"
                          r"header|hr|nav|ol|p|pre|section|table|ul|script|style|link)\b", re.I)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


class _TopLevelHeadings(HTMLParser):
    """Finds the headings with the given ids that sit at the top level of a fragment (not
    inside another element), with their offsets."""

    def __init__(self, text: str, ids: set[str]):
        super().__init__(convert_charrefs=True)
        self.ids, self.depth, self.found = ids, 0, []
        self.line_starts = [0]
        for line in text.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))

    def handle_starttag(self, tag: str, attrs: list) -> None:
        hid = dict(attrs).get("id")
        if self.depth == 0 and re.fullmatch(r"h[1-6]", tag) and hid in self.ids:
            line, col = self.getpos()
            self.found.append((self.line_starts[line - 1] + col, tag, hid))
        if tag not in _VOID:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID:
            self.depth = max(0, self.depth - 1)


def _raw_block(fragment: str) -> str:
    """HTML that Markdown passes through untouched: it must begin with a block-level tag at
    the start of a line and stand apart from the text around it."""
    fragment = fragment.strip()
    if not fragment:
        return ""
    if not _BLOCK_START.match(fragment):
        fragment = f"<div>{fragment}</div>"
    return f"\n\n{fragment}\n\n"


def _markdown_heading(level: int, hid: str, title_html: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", "", title_html))
    text = _MD_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;")
    return f"\n\n{'#' * level} {text} {{#{hid}}}\n\n"


def fragment_markdown(fragment: str, headings: list[Heading]) -> str:
    """A fragment as Markdown: its top-level headings become Markdown headings (so the
    engine's table of contents lists them, as the plugin lists them for MkDocs), the HTML
    between them stays raw HTML blocks."""
    wanted = {hid: (title, level) for hid, title, level in headings}
    finder = _TopLevelHeadings(fragment, set(wanted))
    finder.feed(fragment)
    finder.close()
    out, at = [], 0
    for start, tag, hid in finder.found:
        end = fragment.find(f"</{tag}>", start)
        if end < 0:
            continue
        title, level = wanted[hid]
        out += [_raw_block(fragment[at:start]), _markdown_heading(level, hid, title)]
        at = end + len(tag) + 3
    out.append(_raw_block(fragment[at:]))
    return "".join(out)


_HTML_REF = re.compile(r"""(\b(?:href|src)\s*=\s*")([^"]*)(")""", re.I)


def source_relative(html_text: str, src_uri: str, directory_urls: bool) -> str:
    """The page's HTML links made relative to its source file's folder rather than to its
    address. The core writes links in HTML relative to the page's address, which MkDocs
    leaves alone; Zensical reads every relative link of a page, HTML ones included, as
    relative to the page's source file, as MkDocs reads Markdown links. The two differ for
    a page `a/b.md` served at `a/b/`: a link there must be written one folder up."""
    url = page_url(src_uri, directory_urls)
    url_dir = url[:-1] if url.endswith("/") else posixpath.dirname(url)
    src_dir = posixpath.dirname(src_uri)
    if url_dir == src_dir:
        return html_text

    def fix(m: re.Match) -> str:
        ref = m.group(2)
        parts = urlsplit(html.unescape(ref))
        if parts.scheme or parts.netloc or not parts.path or ref.startswith(("/", "#")):
            return m.group(0)
        target = posixpath.normpath(posixpath.join(url_dir, parts.path))
        new = posixpath.relpath(target, src_dir or ".") + ("/" if parts.path.endswith("/") else "")
        return m.group(1) + html.escape(urlunsplit(parts._replace(path=new)), quote=True) + m.group(3)
    return _HTML_REF.sub(fix, html_text)


def markdown_page(page: Page, directory_urls: bool = True) -> str:
    """The page's Markdown with each fragment in place of its placeholder."""
    text = page.markdown
    for name, fragment in page.fragments.items():
        mark = placeholder(name)
        if mark in text:
            text = text.replace(mark, fragment_markdown(fragment, page.headings.get(name, [])).strip("\n"), 1)
    return source_relative(text, page.src_uri, directory_urls)


# --- the staging folder ---------------------------------------------------------------------

@dataclass
class Staged:
    """What `stage` made: the folder, its configuration, and what the build needs after."""
    folder: Path
    config_file: Path
    site_dir: Path                 # where the engine writes the site (inside the folder)
    has_feed: bool
    pagefind: bool
    written: int = 0               # files written or changed this time (serve re-stages)
    # The "edit this page" target of each generated page, by the HTML file it is written to:
    # (src_uri, the incident's own file relative to docs_dir or None: nothing to edit), as
    # the plugin sets them.
    edit_links: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    unsearched: set[str] = field(default_factory=set)   # HTML files of pages kept out of search


def _docs_files(docs_dir: Path) -> dict[str, Path]:
    """The user's docs, by path relative to docs_dir; hidden files and folders left out, as MkDocs does."""
    found = {}
    for path in docs_dir.rglob("*"):
        rel = path.relative_to(docs_dir)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            found[rel.as_posix()] = path
    return found


def _sync(target: Path, wanted: dict[str, bytes | Path], prune: bool = True) -> int:
    """Make the folder hold `wanted` (bytes, or a file to copy), and with `prune` nothing
    else: files whose content is unchanged are left alone, so that an engine's own rebuild
    (`zensical serve`) sees only what changed. Returns how many files it wrote or removed."""
    changed = 0
    for rel, content in wanted.items():
        dest = target / rel
        data = content.read_bytes() if isinstance(content, Path) else content
        if dest.is_file() and dest.stat().st_size == len(data) and dest.read_bytes() == data:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".pmkb-tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
        changed += 1
    if prune and target.is_dir():
        for path in sorted(target.rglob("*"), reverse=True):
            rel = path.relative_to(target).as_posix()
            if path.is_file() and rel not in wanted:
                path.unlink()
                changed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return changed


def stage(kb: KnowledgeBase, config_file: Path, folder: Path) -> Staged:
    """Write the whole site's sources into `folder` (made if missing, kept up to date when
    it exists: only changed files are written) for an engine that does not run the plugin."""
    config = read_config(config_file)
    root = config_file.resolve().parent
    docs_dir = (root / str(_plain(config.get("docs_dir") or "docs"))).resolve()
    if not docs_dir.is_dir():
        raise StagingError(f"the docs folder {docs_dir} does not exist")
    options = plugin_options(config) or {}
    directory_urls = bool(_plain(config.get("use_directory_urls", True)))
    toc = toc_options(config) or {}
    link = toc.get("permalink")
    user_docs = _docs_files(docs_dir)
    ctx = SiteContext(today=today(kb.settings.tz), site_name=str(_plain(config.get("site_name", ""))),
                      site_url=str(_plain(config.get("site_url") or "")),
                      heading_link=("¶" if link is True else str(link)) if link else None,
                      heading_link_title=str(toc.get("permalink_title", "Permanent link")),
                      extra={"metrics_page": "metrics.md" if "metrics.md" in user_docs else None})
    site = build_site(kb, ctx, directory_urls=directory_urls)
    pagefind = options.get("search_index") == "pagefind"
    if pagefind:
        site.pages.append(search_page(ctx.site_url))

    docs: dict[str, bytes | Path] = {}       # the staged docs folder: relative path -> bytes or file to copy
    for rel, path in user_docs.items():
        docs[rel] = path
        if rel.endswith(".md"):
            text = path.read_text(encoding="utf-8-sig")
            if "<!-- postmortems:" in text:   # live figures, as the plugin fills them in
                docs[rel] = render_home_markers(text, kb, ctx, rel, directory_urls).encode("utf-8")
    generated: dict[str, bytes | Path] = {page.src_uri: markdown_page(page, directory_urls).encode("utf-8")
                                          for page in site.pages}
    generated.update({static.dest_uri: static.content for static in site.files})
    generated.update({src_uri: Path(abs_path) for src_uri, abs_path in site.assets.items()})
    generated.update({streamed.dest_uri: _streamed_bytes(streamed) for streamed in site.streamed})
    # Every output file has one source, as the plugin requires (addresses.py).
    problems = [f"{docs_dir.name}/{src} clashes with {what}: both would be written to {dest}"
                for src, dest, what in clashes_with_docs(site, sorted(user_docs), directory_urls)]
    problems += [f"{a} and {b} would both be written to {dest}" for dest, a, b in clashes_within(site, directory_urls)]
    if problems:
        raise StagingError("; ".join(problems) + "; rename or remove one of each")
    docs.update(generated)

    # Theme overrides: ours, then the user's custom_dir over them (theirs win).
    theme = config.get("theme")
    custom = _plain(theme.get("custom_dir")) if isinstance(theme, dict) else None
    overrides: dict[str, bytes | Path] = {}
    for base in [THEME_OVERRIDES] + ([(root / str(custom)).resolve()] if custom else []):
        overrides.update({p.relative_to(base).as_posix(): p for p in base.rglob("*")
                          if p.is_file() and "__pycache__" not in p.parts})

    nav = None
    if config.get("nav") is None:
        nav = auto_nav([uri for uri in user_docs if uri.endswith(".md")] + [p.src_uri for p in site.pages if p.in_nav])
    derived = derived_config(config, root, nav)
    config_text = ("# Made by pmkb from " + str(config_file.resolve()) + " for a build with an engine that does "
                   "not run the postmortems plugin. Do not edit: it is made anew on every build.\n"
                   + yaml.dump(derived, Dumper=_WriteTags, sort_keys=False, allow_unicode=True))

    folder.mkdir(parents=True, exist_ok=True)
    written = _sync(folder / DOCS, docs) + _sync(folder / OVERRIDES, overrides)
    written += _sync(folder, {CONFIG_NAME: config_text.encode("utf-8")}, prune=False)
    has_feed = any(f.dest_uri == FEED_URI for f in site.files)
    # Pagefind indexes the pages the theme's search indexes, as the plugin marks them.
    unsearched = {dest_of(uri, directory_urls) for uri, content in docs.items()
                  if uri.endswith(MARKDOWN_SUFFIXES) and _search_excluded(content)}
    edit_links = {dest_of(p.src_uri, directory_urls): (p.src_uri, None if not p.edit_path else
                  Path(os.path.relpath(kb.settings.incidents_dir / p.edit_path, docs_dir)).as_posix())
                  for p in site.pages}
    return Staged(folder, folder / CONFIG_NAME, folder / SITE, has_feed, pagefind, written, edit_links, unsearched)


def _streamed_bytes(streamed: StreamedFile) -> bytes:
    buf = io.BytesIO()
    streamed.write(buf)
    return buf.getvalue()


# --- after the engine's build ----------------------------------------------------------------

def finish_site(staged: Staged, site_dir: Path) -> str | None:
    """What the plugin does to the built pages, done to the engine's output: the feed's
    link in every page's head, "edit this page" of a generated page opening the incident's
    file (or no such button where there is no file to edit) and, when the settings ask for
    it, the Pagefind index (its summary is returned)."""
    for page in site_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        rel = page.relative_to(site_dir).as_posix()
        new = text
        if rel in staged.edit_links:
            new = _retarget_edit(new, *staged.edit_links[rel])
        if staged.has_feed and "</head>" in new:
            href = posixpath.relpath(FEED_URI, posixpath.dirname(rel) or ".")
            # rel "alternate feed", not "alternate": see the plugin's on_post_page
            new = new.replace("</head>", f'<link rel="alternate feed" type="application/atom+xml" '
                                         f'title="New postmortems" href="{href}"></head>', 1)
        if "\x00" in new:
            # a NUL from any text: HTML has no place for it (browsers show U+FFFD), as the plugin does
            new = new.replace("\x00", "\ufffd")
        if staged.pagefind and rel not in staged.unsearched:
            new = mark_body(new)
        if new != text:
            page.write_text(new, encoding="utf-8")
    return index_site(site_dir) if staged.pagefind else None


def _search_excluded(content: bytes | Path) -> bool:
    """Whether a page's front matter keeps it out of search (`search: {exclude: true}`)."""
    data = content.read_bytes() if isinstance(content, Path) else content
    text = data.decode("utf-8-sig", errors="replace")
    if not text.startswith("---"):
        return False
    end = text.find("\n---", 3)
    try:
        meta = yaml.safe_load(text[3:end]) if end > 0 else None
    except yaml.YAMLError:
        return False
    search = meta.get("search") if isinstance(meta, dict) else None
    return isinstance(search, dict) and bool(search.get("exclude"))


def _retarget_edit(text: str, src: str, target: str | None) -> str:
    """Engines of the MkDocs family link "edit" (and "view source") to the page's file in
    the repository's docs folder; a generated page has none there."""
    anchor = re.compile(r'<a href="([^"]*)/' + re.escape(src) + r'"([^>]*)>(.*?)</a>', re.S)

    def sub(m: re.Match) -> str:
        if target is None:
            return ""
        parts = urlsplit(m.group(1) + "/" + target)
        href = urlunsplit(parts._replace(path=posixpath.normpath(parts.path)))
        return f'<a href="{html.escape(href)}"{m.group(2)}>{m.group(3)}</a>'
    return anchor.sub(sub, text)
