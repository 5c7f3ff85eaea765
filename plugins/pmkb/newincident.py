"""`pmkb new`: a new incident file from a template, with the next free id."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from .files import FileProblem, read_bounded
from .htmlutil import yaml_string
from .kb import KnowledgeBaseError, discover
from .settings import Settings
from .suggest import did_you_mean
from .taxonomy import TaxonomyError, load_taxonomy
from .timestamps import now

BUILTIN_TEMPLATE = Path(__file__).resolve().parent / "data" / "template.md"
ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")  # a taxonomy id that YAML reads as itself, unquoted
_ID_LINE = re.compile(r"^id:\s*['\"]?([A-Z][A-Z0-9-]*)", re.M)


class NewIncidentError(Exception):
    pass


def templates_dir(settings: Settings) -> Path:
    return settings.incidents_dir / "_templates"


def available_templates(settings: Settings) -> list[str]:
    folder = templates_dir(settings)
    return sorted(p.stem for p in folder.glob("*.md")) if folder.is_dir() else []


def find_template(settings: Settings, name: str | None) -> Path:
    names = available_templates(settings)
    if name is None:
        if not names:
            return BUILTIN_TEMPLATE
        return templates_dir(settings) / f"{'default' if 'default' in names else names[0]}.md"
    if name in names:
        return templates_dir(settings) / f"{name}.md"
    where = f"; templates in {settings.shown(templates_dir(settings))}: {', '.join(names)}" if names else \
        f"; add {settings.shown(templates_dir(settings))}/{name}.md to create it"
    raise NewIncidentError(f"no template named '{name}'{did_you_mean(name, names)}{where}")


def existing_ids(settings: Settings) -> set[str]:
    """Ids of every incident file, read cheaply from the id line (no full validation)."""
    files, _ = discover(settings.incidents_dir) if settings.incidents_dir.is_dir() else ([], [])
    ids = set()
    for path in files:
        try:
            # bounded, and never waiting on a named pipe; what cannot be read, validate reports
            head = read_bounded(path, 1 << 20, "incident file")[:4096].decode("utf-8-sig", errors="replace")
        except FileProblem:
            continue
        m = _ID_LINE.search(head)
        if m:
            ids.add(m.group(1))
    return ids


def next_id(ids: set[str], year: int) -> str:
    prefix = f"INC-{year}-"
    numbers = [int(i[len(prefix):]) for i in ids if i.startswith(prefix) and i[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def _yaml_text(value: str) -> str:
    return yaml_string(value)


def _yaml_key(value: str) -> str:
    return value if _PLAIN_KEY.match(value) else _yaml_text(value)


def render_template(template_text: str, **values: object) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    env.filters["yaml"] = _yaml_text
    env.filters["yaml_key"] = _yaml_key
    return env.from_string(template_text).render(**values)


def create_incident(settings: Settings, title: str, severity: str | None = None,
                    incident_id: str | None = None, template: str | None = None) -> Path:
    if not title.strip():
        raise NewIncidentError("give the incident a title, e.g. pmkb new \"Fraud scores collapsed after schema change\"")
    if len(title) > 200:
        raise NewIncidentError(f"the title is {len(title)} characters long; at most 200 are allowed")
    try:
        taxonomy = load_taxonomy(settings.taxonomy, settings.shown(settings.taxonomy))
    except TaxonomyError as exc:
        raise KnowledgeBaseError(exc.diagnostics) from None
    severities = [s.id for s in taxonomy.severities]
    if severity is None:
        severity = severities[-1]
    elif severity not in severities:
        raise NewIncidentError(f"'{severity}' is not a severity of the taxonomy{did_you_mean(severity, severities)}; "
                               f"valid: {', '.join(severities)}")
    current = now(settings.tz)
    ids = existing_ids(settings)
    if incident_id is None:
        incident_id = next_id(ids, current.year)
    elif not ID_PATTERN.fullmatch(incident_id) or len(incident_id) > 40:
        raise NewIncidentError(f"'{incident_id}' is not a valid id: use upper-case letters and digits in "
                               "dash-separated parts, such as INC-2025-014")
    elif incident_id in ids:
        raise NewIncidentError(f"the id '{incident_id}' is already used; leave out --id to get the next free one")
    template_path = find_template(settings, template)
    try:
        source = read_bounded(template_path, 1 << 20, "template").decode("utf-8")
    except (FileProblem, UnicodeDecodeError) as exc:
        raise NewIncidentError(f"the template {settings.shown(template_path)} cannot be read: {exc}") from None
    try:
        text = render_template(source, id=incident_id, title=title,
                               severity=severity, started=current.strftime("%Y-%m-%d %H:%M"),
                               today=current.date().isoformat(), year=current.year,
                               severities=severities, dimensions=taxonomy.dimensions)
    except jinja2.TemplateError as exc:
        raise NewIncidentError(f"the template {settings.shown(template_path)} is broken: {exc}") from None
    target = settings.incidents_dir / str(current.year) / f"{incident_id.lower()}.md"
    if target.exists():
        raise NewIncidentError(f"{settings.shown(target)} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
