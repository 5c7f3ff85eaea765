"""The knowledge base's settings, read from the plugin's entry in mkdocs.yml.

The command line and the site read the same entry, so they never disagree. This module
reads mkdocs.yml as plain YAML (no MkDocs import): the MkDocs adapter declares the same
options, with the same defaults, from DEFAULTS below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo
from pathlib import Path
from typing import Any

import yaml

from .reading.timestamps import TimeProblem, source_date_epoch, zone

PLUGIN_NAME = "postmortems"

DEFAULTS: dict[str, Any] = {
    "incidents_dir": "incidents",
    "taxonomy": "schema/taxonomy.yml",
    "timezone": "UTC",
    "recurrence_window_days": 365,
    "recurrence_scope": "system",
    "related_limit": 5,
}
# What must be shared for a later incident to count as the same problem come back
# (SPEC section 6): a system and a category, or a category anywhere in the organisation.
RECURRENCE_SCOPES = ("system", "category")
# A window longer than the calendar (year 1 to 9999) means "always": larger values are taken
# as this one, which keeps date arithmetic with the window inside the calendar.
MAX_WINDOW_DAYS = (date.max - date.min).days


@dataclass(frozen=True)
class Settings:
    root: Path                    # the folder of mkdocs.yml: relative settings start here
    incidents_dir: Path
    taxonomy: Path
    timezone: str = "UTC"
    recurrence_window_days: int = 365
    related_limit: int = 5
    recurrence_scope: str = "system"
    docs_dir: Path | None = None  # MkDocs' docs folder, when known (for clashes with generated files)

    @property
    def tz(self) -> tzinfo:
        return zone(self.timezone)

    def shown(self, path: Path) -> str:
        """A path as diagnostics show it: relative to the knowledge base root when inside it."""
        try:
            # the folder resolved, not the file: a symlink is shown where it is, not where it points
            return (path.absolute().parent.resolve() / path.name).relative_to(self.root.resolve()).as_posix()
        except (ValueError, OSError, RuntimeError):
            return str(path)

    @classmethod
    def from_options(cls, root: Path, options: dict[str, Any], docs_dir: Path | None = None,
                     site_dir: Path | None = None) -> "Settings":
        """The settings, checked. `docs_dir` and `site_dir` (MkDocs' folders, when known) must
        not overlap the incidents folder: both the command line and the site refuse it."""
        opts = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
        for key in ("recurrence_window_days", "related_limit"):
            if not isinstance(opts[key], int) or isinstance(opts[key], bool) or opts[key] < 0:
                raise SettingsError(f"plugin setting '{key}' must be a whole number >= 0, got {opts[key]!r}")
        if opts["recurrence_scope"] not in RECURRENCE_SCOPES:
            raise SettingsError(f"plugin setting 'recurrence_scope' must be one of {', '.join(RECURRENCE_SCOPES)}, "
                                f"got {opts['recurrence_scope']!r}")
        try:
            zone(str(opts["timezone"]))
        except TimeProblem as exc:
            raise SettingsError(f"plugin setting 'timezone': {exc}") from None
        try:
            source_date_epoch()    # checked here, so a build stops with the message, not an overflow
        except TimeProblem as exc:
            raise SettingsError(str(exc)) from None
        root = _resolve(root, "the folder of mkdocs.yml")
        incidents_dir = _resolve(root / str(opts["incidents_dir"]), "plugin setting 'incidents_dir'")
        _check_apart(incidents_dir, docs_dir, site_dir)
        return cls(root=root, incidents_dir=incidents_dir,
                   taxonomy=_resolve(root / str(opts["taxonomy"]), "plugin setting 'taxonomy'"),
                   timezone=str(opts["timezone"]),
                   recurrence_window_days=min(opts["recurrence_window_days"], MAX_WINDOW_DAYS),
                   related_limit=opts["related_limit"], recurrence_scope=opts["recurrence_scope"],
                   docs_dir=_resolve(docs_dir, "docs_dir") if docs_dir is not None else None)


def _resolve(path: Path, what: str) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):   # Python 3.11 raises RuntimeError for a link loop
        raise SettingsError(f"{what}: {path} is a symbolic link that loops; point it at a real path") from None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _check_apart(incidents_dir: Path, docs_dir: Path | None, site_dir: Path | None) -> None:
    """The incidents folder, MkDocs' docs folder and its site folder must not overlap."""
    if docs_dir is not None:
        docs = _resolve(docs_dir, "docs_dir")
        if _inside(incidents_dir, docs):
            raise SettingsError("plugin setting 'incidents_dir' must be outside docs_dir; incident pages are generated "
                                "from it")
        if _inside(docs, incidents_dir):
            raise SettingsError(f"plugin setting 'incidents_dir' ({incidents_dir}) holds the docs folder ({docs}): every "
                                "hand-written page would be read as an incident; point it at the incidents folder")
    if site_dir is not None:
        site = _resolve(site_dir, "site_dir")
        if _inside(site, incidents_dir) or _inside(incidents_dir, site):
            raise SettingsError(f"plugin setting 'incidents_dir' ({incidents_dir}) and the site folder ({site}) overlap: "
                                "a build would publish or delete its own input; keep them apart")


class SettingsError(Exception):
    pass


class _LenientLoader(yaml.SafeLoader):
    """mkdocs.yml may hold !ENV and !!python/name tags; their values do not matter here."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    assert isinstance(node, yaml.MappingNode)    # the third and last kind of node
    return loader.construct_mapping(node)


_LenientLoader.add_multi_constructor("!", _any_tag)
_LenientLoader.add_multi_constructor("tag:yaml.org,2002:python/", _any_tag)


def plugin_options(config: dict[str, Any]) -> dict[str, Any] | None:
    """The options of the `postmortems` entry of a parsed mkdocs.yml, or None if absent."""
    plugins = config.get("plugins") or []
    entries = plugins.items() if isinstance(plugins, dict) else (
        (next(iter(p.items())) if isinstance(p, dict) and p else (p, {})) for p in plugins)
    for name, opts in entries:
        if name == PLUGIN_NAME:
            return dict(opts or {})
    return None


def read_config(config_file: Path, loader: type[yaml.SafeLoader] = _LenientLoader) -> dict[str, Any]:
    """mkdocs.yml as a mapping, read with `loader` (the settings take any tag as plain data;
    the staging keeps tags to write them back)."""
    try:
        config = yaml.load(config_file.read_text(encoding="utf-8-sig"), Loader=loader) or {}
    except OSError as exc:
        raise SettingsError(f"cannot read {config_file}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{config_file} is not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise SettingsError(f"{config_file} must be a YAML mapping")
    return config


def load_settings(config_file: Path) -> Settings:
    config = read_config(config_file)
    options = plugin_options(config)
    if options is None:
        raise SettingsError(f"{config_file} does not enable the '{PLUGIN_NAME}' plugin; add it under 'plugins:'")
    # MkDocs' folders, as MkDocs reads them (relative to mkdocs.yml), to keep them apart
    root = config_file.parent
    folders = [root / str(config.get(key) or default) for key, default in (("docs_dir", "docs"), ("site_dir", "site"))]
    return Settings.from_options(root, options, *folders)
