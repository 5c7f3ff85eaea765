"""The `pmkb` command line (SPEC section 8).

Settings come from the `postmortems` entry of mkdocs.yml, like the site's. Exit codes of
`validate`: 0 valid, 1 errors (or warnings with --strict), 2 could not run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..adapters.engines import DEFAULT_ENGINE, ENGINES, Engine, EngineError, check_installed
from ..adapters.engines import build as run_build
from ..adapters.engines import serve as run_serve
from ..adapters.staging import StagingError
from ..incidents.diagnostics import FORMATTERS, Diagnostic
from ..knowledge.kb import KnowledgeBaseError, Loader, NoIncidentsFolder
from ..knowledge.similar import read_incident_like
from ..knowledge.similar import similar as find_similar
from ..pages.addresses import docs_clash_diagnostics
from ..reading.files import FileProblem, read_bounded
from ..reading.frontmatter import MAX_BYTES, ReadProblem
from ..settings import Settings, SettingsError, load_settings
from .newincident import NewIncidentError, create_incident


class _Exit2Group(click.Group):
    """Usage errors exit 2 (click's default too); unexpected failures also exit 2, briefly."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - a tool's own bug still gets a message, not a traceback
            click.echo(f"pmkb: internal error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(2)


config_option = click.option("-f", "--config-file", type=click.Path(dir_okay=False, path_type=Path),
                             default=None, help="The knowledge base's mkdocs.yml (default: ./mkdocs.yml).")


def _settings(config_file: Path | None) -> Settings:
    path = config_file or Path("mkdocs.yml")
    try:
        return load_settings(path)
    except SettingsError as exc:
        click.echo(f"pmkb: {exc}", err=True)
        sys.exit(2)


@click.group(cls=_Exit2Group)
@click.version_option(package_name="pmkb")
def main() -> None:
    """Postmortem knowledge base: validate, create and relate incident postmortems."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATTERS)), default="text", show_default=True,
              help="text: path:line:column lines; github: Actions annotations; json: a list of objects.")
@config_option
def validate(paths: tuple[Path, ...], strict: bool, fmt: str, config_file: Path | None) -> None:
    """Validate the knowledge base, or only the given incident files against it."""
    settings = _settings(config_file)
    missing = [p for p in paths if not p.is_file()]
    if missing:
        click.echo(f"pmkb: no such file: {', '.join(map(str, missing))}", err=True)
        sys.exit(2)
    try:
        loader = Loader()
        checked = loader.check(settings, only=list(paths) if paths else None)
        diags: list[Diagnostic] = checked.diagnostics
        count = checked.valid
        if not paths and not any(d.is_error for d in diags):
            # what the site build refuses, reported here first: files of docs/ that clash
            diags = diags + docs_clash_diagnostics(settings, lambda: loader.load(settings))
    except NoIncidentsFolder as exc:  # nothing to validate: "could not run"
        click.echo(FORMATTERS[fmt](exc.diagnostics), nl=False)
        sys.exit(2)
    except KnowledgeBaseError as exc:  # the taxonomy has errors: listed like any file's
        diags, count = exc.diagnostics, 0
    click.echo(FORMATTERS[fmt](diags), nl=False)
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    if fmt == "text":
        click.echo(f"{count} incident(s) valid; {errors} error(s), {warnings} warning(s)", err=True)
    sys.exit(1 if errors or (strict and warnings) else 0)


@main.command()
@click.argument("title")
@click.option("--severity", "-s", default=None, help="A severity id of the taxonomy (default: the least severe).")
@click.option("--id", "incident_id", default=None, help="The id (default: the next free INC-<year>-<NNN>).")
@click.option("--template", "-t", default=None,
              help="A template name from incidents/_templates/ (e.g. ml, platform); default: the first there, or the built-in one.")
@config_option
def new(title: str, severity: str | None, incident_id: str | None, template: str | None, config_file: Path | None) -> None:
    """Write a new incident from a template and print its path."""
    settings = _settings(config_file)
    try:
        path = create_incident(settings, title, severity=severity, incident_id=incident_id, template=template)
    except (NewIncidentError, KnowledgeBaseError) as exc:
        click.echo(f"pmkb: {exc}", err=True)
        sys.exit(2)
    click.echo(settings.shown(path))

@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one incident per line; json: a list of objects.")
@click.option("--limit", "-n", type=click.IntRange(min=0), default=10, show_default=True,
              help="At most this many incidents (0: all).")
@config_option
def similar(path: Path, fmt: str, limit: int, config_file: Path | None) -> None:
    """List past incidents sharing root-cause categories, models or services with PATH.

    PATH may be a draft that does not validate yet, inside the knowledge base or not.
    """
    settings = _settings(config_file)
    try:
        # bounded like every incident read: /dev/zero or a pipe is a message, not a hang
        data = read_bounded(path, MAX_BYTES, "file")
    except FileProblem as exc:
        message = str(exc) if exc.size is None else f"the file is {exc.size:,} bytes; an incident file may be at most 1 MiB"
        click.echo(f"pmkb: {path}: {message}", err=True)
        sys.exit(2)
    try:
        draft = read_incident_like(data, path)
    except ReadProblem as exc:
        click.echo(f"pmkb: {path}:{exc.line}:{exc.column}: {exc.message}", err=True)
        sys.exit(2)
    try:
        kb = Loader().load(settings)
    except KnowledgeBaseError as exc:
        click.echo("".join(f"pmkb: {d.text()}\n" for d in exc.diagnostics), err=True, nl=False)
        sys.exit(2)
    for note in draft.notes:
        click.echo(f"pmkb: note: {path}: {note}", err=True)
    unknown = [c for c in draft.categories if c not in kb.taxonomy.categories]
    if unknown:
        click.echo(f"pmkb: note: not categories of the taxonomy, so they match nothing: {', '.join(unknown)}", err=True)
    matches = find_similar(kb, draft, limit or None)
    if fmt == "json":
        click.echo(json.dumps([m.to_dict() for m in matches], indent=2, ensure_ascii=False, allow_nan=False))
        return
    if not (draft.categories or draft.models or draft.services):
        click.echo(f"pmkb: {path} names no root-cause categories, models or services yet; add them to find similar incidents",
                   err=True)
        return
    for m in matches:
        title = " ".join(m.incident.title.split())  # one line per incident, whatever the title holds
        mark = " (already related)" if m.already_related else ""
        click.echo(f"{m.incident.id}  {m.score:5.2f}  {title}  [{m.reasons()}]{mark}")
    if not matches:
        click.echo(f"pmkb: no incident shares a root-cause category, model or service with {path}", err=True)
    else:
        click.echo("pmkb: add the ones that teach the same lesson to 'related:'", err=True)


engine_option = click.option("--engine", "-e", type=click.Choice(sorted(ENGINES)), default=DEFAULT_ENGINE,
                             show_default=True,
                             help="The site engine. mkdocs and properdocs run the postmortems plugin; for zensical, "
                                  "which ignores plugins, pmkb writes the generated pages first and Zensical builds them.")


def _engine(name: str) -> Engine:
    engine = ENGINES[name]
    try:
        check_installed(engine)
    except EngineError as exc:
        click.echo(f"pmkb: {exc}", err=True)
        sys.exit(2)
    return engine


def _config_path(config_file: Path | None) -> Path:
    return config_file or Path("mkdocs.yml")


def _say(line: str) -> None:
    click.echo(line, err=True)


@main.command()
@engine_option
@click.option("-d", "--site-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the site (default: the configuration's site_dir, ./site).")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@config_option
def build(engine: str, site_dir: Path | None, strict: bool, config_file: Path | None) -> None:
    """Build the site. Exit 0 built, 1 validation errors (or warnings with --strict), 2 could not run."""
    settings = _settings(config_file)
    chosen = _engine(engine)
    try:
        code = run_build(chosen, _config_path(config_file), settings, site_dir, strict, _say)
    except StagingError as exc:
        click.echo(f"pmkb: {exc}", err=True)
        sys.exit(2)
    sys.exit(code)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@engine_option
@click.option("-a", "--dev-addr", "address", default="127.0.0.1:8000", show_default=True, metavar="HOST:PORT",
              help="Where to listen (loopback by default).")
@config_option
def serve(paths: tuple[Path, ...], engine: str, address: str, config_file: Path | None) -> None:
    """Live preview. With PATHs: a fast preview of those incidents against the whole
    knowledge base, refreshed on save. Without: the whole site, built by the chosen engine
    and rebuilt when an incident, a docs page or the settings change."""
    settings = _settings(config_file)
    if paths:
        missing = [p for p in paths if not p.is_file()]
        if missing:
            click.echo(f"pmkb: no such file: {', '.join(map(str, missing))}", err=True)
            sys.exit(2)
        from ..adapters.preview.server import run  # the preview's imports only when previewing
        sys.exit(run(settings, config_file or Path("mkdocs.yml"), list(paths), address))
    chosen = _engine(engine)
    try:
        code = run_serve(chosen, _config_path(config_file), settings, address, _say)
    except StagingError as exc:
        click.echo(f"pmkb: {exc}", err=True)
        sys.exit(2)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
