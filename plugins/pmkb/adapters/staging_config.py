"""The configuration a staged site is built with: the user's mkdocs.yml read with its tags
kept (`!ENV`, `!relative`, Python names), and written back with the staging folder's
docs and theme folders, the Markdown extensions the generated pages need, and a nav."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..pages.site import SCRIPT_URI, STYLE_URI
from ..settings import PLUGIN_NAME, SettingsError
from ..settings import read_config as settings_read_config

CONFIG_NAME = "mkdocs.yml"
DOCS = "docs"
SITE = "site"
OVERRIDES = "overrides"
# The theme overrides the plugin gives MkDocs (the repository link without the theme's
# live fetch of repository facts): templates, usable by any engine of the Material family.
THEME_OVERRIDES = Path(__file__).resolve().parent / "mkdocs" / "overrides"
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
        assert isinstance(node, yaml.MappingNode)    # the third and last kind of node
        value = loader.construct_mapping(node, deep=True)
    return Tagged(node.tag, value)


_KeepTags.add_multi_constructor("!", _keep)
_KeepTags.add_multi_constructor("tag:yaml.org,2002:python/", _keep)


class WriteTags(yaml.SafeDumper):
    pass


def _write_tagged(dumper: yaml.SafeDumper, data: Tagged) -> yaml.Node:
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


WriteTags.add_representer(Tagged, _write_tagged)


def read_config(config_file: Path) -> dict[str, Any]:
    try:
        return settings_read_config(config_file, _KeepTags)
    except SettingsError as exc:
        raise StagingError(str(exc)) from None


def plain_value(value: Any) -> Any:
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
        out["INHERIT"] = str((root / str(plain_value(out["INHERIT"]))).resolve())
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
    out["extra_javascript"] = scripts if SCRIPT_URI in [str(plain_value(s)) for s in scripts] else [*scripts, SCRIPT_URI]
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
