"""Checking one incident file and building its Incident (SPEC section 2).

`check_file` is a pure function of the file's bytes and the rules (taxonomy, schema, time
zone): it returns the incident, when the file is valid, and every diagnostic it found.
Checks across files (duplicate ids, links to incidents that do not exist) live in kb.py.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Iterator

from .diagnostics import Diagnostic
from .frontmatter import ReadProblem, decode, split
from .model import (ActionItem, DatasetRef, DimensionFinding, Incident, Link, ModelRef, RootCause, Source,
                    TimelineEvent)
from .schema import SchemaChecker, field_name
from .suggest import did_you_mean
from .taxonomy import Taxonomy
from .timestamps import TimeProblem, in_gap, parse_date, parse_timestamp
from .yamlsafe import Parsed, YamlProblem, locate, parse, raw_scalar

TIME_FIELDS = ("started", "detected", "mitigated", "resolved")
# (earlier, later): a broken rule is reported at the later (right-hand) field
ORDER_RULES = (("started", "detected"), ("started", "mitigated"), ("started", "resolved"),
               ("detected", "resolved"), ("mitigated", "resolved"))


@dataclass(frozen=True)
class Rules:
    taxonomy: Taxonomy
    schema: SchemaChecker
    tz: tzinfo


@dataclass
class FileResult:
    path: str                          # relative to incidents_dir
    shown: str
    incident: Incident | None
    diagnostics: list[Diagnostic]
    id: str | None = None              # the id, when readable, even if the file has errors
    id_line: int = 1
    related: tuple[tuple[str, int, int], ...] = ()   # (id, line, column) of each explicit link
    # (facet kind, value, line, column) of each name it gives (services, team, models,
    # datasets, tags): the knowledge base compares spellings across files
    names: tuple[tuple[str, str, int, int], ...] = ()
    started: datetime | None = None    # when readable, even if the file has errors (for the span check)
    started_at: tuple[int, int] = (1, 1)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


class _Reporter:
    def __init__(self, shown: str, parsed: Parsed | None):
        self.shown, self.parsed = shown, parsed
        self.diags: list[Diagnostic] = []

    def at(self, path: tuple, key: bool = False) -> tuple[int, int]:
        pos = locate(self.parsed.root, path, key=key) if (self.parsed and path) else None
        # front matter starts on line 2 of the file, after the opening ---
        return (pos[0] + 2, pos[1] + 1) if pos else (1, 1)

    def add(self, severity: str, message: str, path: tuple = (), key: bool = False, line: int | None = None, column: int = 1) -> None:
        if line is None:
            line, column = self.at(path, key)
        self.diags.append(Diagnostic(self.shown, line, column, severity, message))  # type: ignore[arg-type]

    def error(self, message: str, path: tuple = (), key: bool = False) -> None:
        self.add("error", message, path, key)

    def warning(self, message: str, path: tuple = (), key: bool = False) -> None:
        self.add("warning", message, path, key)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def check_file(data: bytes, path: str, shown: str, rules: Rules, build: bool = True,
               data_digest: str | None = None) -> FileResult:
    """Every problem of one file, and its Incident when there is no error.

    With build=False the checks are the same but no Incident is made (validation only).
    `data_digest` is digest(data) when the caller already has it."""
    rep = _Reporter(shown, None)
    try:
        text = decode(data)
        parts = split(text)
    except ReadProblem as exc:
        rep.add("error", exc.message, line=exc.line, column=exc.column)
        return FileResult(path, shown, None, rep.diags)
    try:
        parsed = parse(parts.front, first_line=2)
    except YamlProblem as exc:
        rep.add("error", exc.message, line=exc.line + 1, column=exc.column)
        return FileResult(path, shown, None, rep.diags)
    rep.parsed = parsed
    for p in parsed.problems:
        rep.add("error", p.message, line=p.line + 1, column=p.column)
    fm = parsed.value
    if not isinstance(fm, dict):
        rep.error("the front matter must be a mapping of fields (id: ..., title: ..., ...)")
        return FileResult(path, shown, None, rep.diags)

    for problem_path, at_key, message in rules.schema.problems(fm, lambda path: raw_scalar(parsed.root, path)):
        rep.error(message, problem_path, key=at_key)
    _check_values(fm, rep)
    times = _check_semantics(fm, rules, rep)

    result = FileResult(path, shown, None, rep.diags)
    if isinstance(fm.get("id"), str):
        result.id = fm["id"]
        result.id_line = rep.at(("id",))[0]
    if ("started",) in times:
        result.started, result.started_at = times[("started",)], rep.at(("started",))
    if isinstance(fm.get("related"), list):
        result.related = tuple((r, *rep.at(("related", i))) for i, r in enumerate(fm["related"]) if isinstance(r, str))
    result.names = tuple((kind, value, *rep.at(path)) for kind, value, path in _names(fm))
    if result.ok and build:
        source = Source(path, shown, parts.body, parts.body_line, data_digest or digest(data))
        result.incident = _build(fm, times, source)
    return result


# (facet kind, field, key inside an item or None)
_NAME_FIELDS = (("services", "services", None), ("models", "models", "name"), ("datasets", "datasets", "name"),
                ("tags", "tags", None))


def _names(fm: dict) -> Iterator[tuple[str, str, tuple]]:
    """(facet kind, value, path) of each name the front matter gives."""
    if isinstance(fm.get("team"), str):
        yield "teams", fm["team"], ("team",)
    for kind, key, inner in _NAME_FIELDS:
        values = fm.get(key)
        if not isinstance(values, list):
            continue
        for i, v in enumerate(values):
            if inner is not None:
                if isinstance(v, dict) and isinstance(v.get(inner), str):
                    yield kind, v[inner], (key, i, inner)
            elif isinstance(v, str):
                yield kind, v, (key, i)
def _check_values(fm: dict[str, Any], rep: _Reporter) -> None:
    """Numbers no export can hold in the `x-` keys (which hold anything): `.nan` and `.inf`
    are not JSON. Every other field has a type that the schema checks, and a float there is
    already an error. (Text may hold any character: pages and the feed make each safe.)"""
    extensions = {key: value for key, value in fm.items() if isinstance(key, str) and key.startswith("x-")}
    for path in _non_finite(extensions, ()) if extensions else ():
        rep.error(f"{field_name(path)}: {get_in(fm, path)} is not a number JSON can hold (.nan, .inf); write a number, "
                  "or the text in quotes", path)


_NESTED = (dict, list, float)


def _non_finite(value: Any, path: tuple) -> list[tuple]:
    """Paths of the non-finite floats in `value`. Only containers and floats are visited
    (text, the bulk of a file, is skipped without making a path)."""
    if type(value) is float:
        return [] if math.isfinite(value) else [path]
    items = value.items() if isinstance(value, dict) else enumerate(value)
    out = []
    for key, item in items:
        if isinstance(item, _NESTED):
            out += _non_finite(item, path + (key,))
    return out


def get_in(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _items(fm: dict, key: str) -> Iterator[tuple[int, dict]]:
    value = fm.get(key)
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def _check_semantics(fm: dict[str, Any], rules: Rules, rep: _Reporter) -> dict[tuple, Any]:
    """Taxonomy ids, timestamps and their order, and the rules for final write-ups."""
    tax = rules.taxonomy
    times: dict[tuple, Any] = {}

    def term(key: str, kind: str, label: str) -> None:
        value = fm.get(key)
        ids = [t.id for t in getattr(tax, kind)]
        if isinstance(value, str) and value not in ids:
            rep.error(f"{key}: '{value}' is not a {label} of the taxonomy{did_you_mean(value, ids)}; "
                      f"valid: {', '.join(ids)}", (key,))

    term("severity", "severities", "severity")
    term("detection", "detection_sources", "detection source")
    dims = fm.get("dimensions")
    if isinstance(dims, dict):
        dim_ids = [d.id for d in tax.dimensions]
        for d in dims:
            if d not in dim_ids:
                rep.error(f"dimensions: '{d}' is not a failure dimension of the taxonomy{did_you_mean(d, dim_ids)}; "
                          f"valid: {', '.join(dim_ids)}", ("dimensions", d), key=True)

    def category(value: Any, where: tuple) -> None:
        if isinstance(value, str) and value not in tax.categories:
            hint = did_you_mean(value, tax.categories)
            extra = "" if hint else (" (a category id is 'layer/name', e.g. data/schema-change)" if "/" not in value else
                                     "; see the categories page or schema/taxonomy.yml")
            rep.error(f"{field_name(where)}: '{value}' is not a root-cause category of the taxonomy{hint}{extra}", where)

    for i, rc in _items(fm, "root_causes"):
        category(rc.get("category"), ("root_causes", i, "category"))
    for i, item in _items(fm, "action_items"):
        addresses = item.get("addresses")
        if isinstance(addresses, list):
            for j, c in enumerate(addresses):
                category(c, ("action_items", i, "addresses", j))

    # timestamps
    for key in TIME_FIELDS:
        value = fm.get(key)
        if isinstance(value, str):
            try:
                times[(key,)] = parse_timestamp(value, rules.tz)
            except TimeProblem as exc:
                rep.error(f"{key}: {exc}", (key,))
    for i, ev in _items(fm, "timeline"):
        if isinstance(ev.get("at"), str):
            try:
                times[("timeline", i, "at")] = parse_timestamp(ev["at"], rules.tz)
            except TimeProblem as exc:
                rep.error(f"timeline[{i}].at: {exc}", ("timeline", i, "at"))
    for i, item in _items(fm, "action_items"):
        for key in ("due", "completed"):
            if isinstance(item.get(key), str):
                try:
                    times[("action_items", i, key)] = parse_date(item[key])
                except TimeProblem as exc:
                    rep.error(f"action_items[{i}].{key}: {exc}", ("action_items", i, key))
        if item.get("status") == "done" and "completed" not in item:
            rep.warning(f"action_items[{i}] is done but has no 'completed' date; add it, or it cannot show whether the fix held",
                        ("action_items", i))
    gaps = {}
    for key in TIME_FIELDS:
        if (key,) in times:
            read_as = in_gap(fm[key], rules.tz)
            if read_as is not None:
                gaps[key] = read_as
                rep.warning(f"{key}: {fm[key]} does not exist in {rules.tz} (the clocks were put forward past it); it "
                            f"is read as {read_as}; give the time with its offset to say which instant you mean", (key,))
    for early, late in ORDER_RULES:
        a, b = times.get((early,)), times.get((late,))
        if a is not None and b is not None and b < a:
            gap = "".join(f"; {k} {fm[k]} falls in a daylight-saving gap and is read as {gaps[k]}"
                          for k in (early, late) if k in gaps)
            rep.error(f"{late} ({fm[late]}) is before {early} ({fm[early]}){gap}; {late} must not be earlier than {early}",
                      (late,))
    detected = times.get(("detected",))
    if detected is not None:
        for i, ev in _items(fm, "timeline"):
            at = times.get(("timeline", i, "at"))
            if ev.get("kind") == "diagnosis" and at is not None and at < detected:
                rep.warning(f"timeline[{i}] is a diagnosis at {ev['at']}, before the incident was detected ({fm['detected']}); "
                            "check the times or the kind", ("timeline", i, "at"))

    if isinstance(fm.get("id"), str) and fm["id"].endswith("\n"):
        # the schema's '$' (Python re) lets a final line break through; the page address cannot hold one
        rep.error("id: must not end with a line break", ("id",))

    related = fm.get("related")
    if isinstance(related, list) and isinstance(fm.get("id"), str) and fm["id"] in related:
        rep.error("related: an incident cannot be related to itself", ("related", related.index(fm["id"])))
    if isinstance(related, list):
        seen: set[str] = set()
        for i, rid in enumerate(related):
            if not isinstance(rid, str):
                continue
            if rid in seen:
                rep.warning(f"related: '{rid}' is listed twice; it is shown once", ("related", i))
            seen.add(rid)

    if fm.get("status") == "final":
        if not fm.get("root_causes"):
            where = ("root_causes",) if "root_causes" in fm else ("status",)
            rep.error("a final postmortem needs at least one root cause (root_causes: - category: layer/name ...); "
                      "keep status: draft or review until the analysis is done", where)
        for key, why in (("summary", "one paragraph: what happened, when, who was affected"),
                         ("detected", "when the organisation knew; time to detect depends on it"),
                         ("resolved", "when it was fully resolved; time to resolve depends on it")):
            if key not in fm:
                rep.warning(f"a final postmortem should have '{key}' ({why})")
        if not any(fm.get(key) for key in ("services", "models", "datasets")):
            # Recurrence and fixes count between incidents that share a system (SPEC section 6).
            rep.warning("a final postmortem should name at least one affected system in 'services', 'models' or "
                        "'datasets'; without one it can never show as a recurrence, nor show whether a fix held")
    return times


def _tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, list) else ()


def _build(fm: dict[str, Any], times: dict[tuple, Any], source: Source) -> Incident:
    root_causes = tuple(RootCause(rc["category"], rc["description"]) for rc in fm.get("root_causes", ()))
    own = tuple(dict.fromkeys(rc.category for rc in root_causes))
    actions = tuple(
        ActionItem(title=a["title"], type=a["type"], owner=a["owner"], due=times[("action_items", i, "due")],
                   status=a["status"], completed=times.get(("action_items", i, "completed")), ticket=a.get("ticket"),
                   addresses=tuple(a["addresses"]) if "addresses" in a else own, position=i)
        for i, a in enumerate(fm.get("action_items", ())))
    timeline = tuple(TimelineEvent(times[("timeline", i, "at")], ev["event"], ev.get("kind"))
                     for i, ev in enumerate(fm.get("timeline", ())))
    started: datetime = times[("started",)]
    return Incident(
        id=fm["id"], title=fm["title"], status=fm["status"], severity=fm["severity"], started=started,
        detected=times.get(("detected",)), mitigated=times.get(("mitigated",)), resolved=times.get(("resolved",)),
        summary=fm.get("summary"), detection=fm.get("detection"), services=_tuple(fm.get("services")),
        team=fm.get("team"), authors=_tuple(fm.get("authors")), impact=fm.get("impact"),
        users_affected=int(fm["users_affected"]) if fm.get("users_affected") is not None else None,
        models=tuple(ModelRef(m["name"], m["version"]) for m in fm.get("models", ())),
        datasets=tuple(DatasetRef(d["name"], d.get("version")) for d in fm.get("datasets", ())),
        dimensions=tuple(DimensionFinding(k, v["contribution"], _tuple(v.get("evidence")))
                         for k, v in (fm.get("dimensions") or {}).items()),
        root_causes=root_causes, trigger=fm.get("trigger"), action_items=actions, timeline=timeline,
        related=tuple(dict.fromkeys(_tuple(fm.get("related")))), tags=_tuple(fm.get("tags")), front_matter=fm, source=source,
        links=tuple(Link(ln["title"], ln["url"]) for ln in fm.get("links", ())))
