"""The taxonomy file: severities, detection sources, dimensions, layers and categories."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic
from .files import FileProblem, read_bounded
from .suggest import did_you_mean
from .yamlsafe import YamlProblem, locate, parse


@dataclass(frozen=True, slots=True)
class Term:
    id: str
    title: str
    description: str = ""
    unrated: bool = False     # a severity that means "not rated yet": shown neutral, never ranked


@dataclass(frozen=True, slots=True)
class Team:
    """A team and the people in it: action items are owned by people, the ledger rolls
    them up by team. An owner may also be the team's id itself."""
    id: str
    title: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Category:
    id: str           # full id, layer/name
    layer: str
    name: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Layer:
    id: str
    title: str
    description: str
    categories: tuple[Category, ...]


@dataclass(frozen=True)
class Taxonomy:
    severities: tuple[Term, ...]
    detection_sources: tuple[Term, ...]
    dimensions: tuple[Term, ...]
    layers: tuple[Layer, ...]
    teams: tuple[Team, ...] = ()
    categories: dict[str, Category] = field(init=False)
    severity_rank: dict[str, int] = field(init=False)
    team_of: dict[str, str] = field(init=False)      # person (or team id) -> team id

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", {c.id: c for layer in self.layers for c in layer.categories})
        object.__setattr__(self, "severity_rank", {s.id: i for i, s in enumerate(self.severities)})
        team_of = {t.id: t.id for t in self.teams}
        team_of.update({m: t.id for t in self.teams for m in t.members})
        object.__setattr__(self, "team_of", team_of)

    def unrated(self, severity: str) -> bool:
        """True for a severity that says the incident was not rated (see `unrated_severity`)."""
        term = self.term("severities", severity)
        return term.unrated if term else False

    def rated_rank(self, severity: str) -> int:
        """The severity's rank among the rated ones, most severe 0, for ordering and colour;
        an unrated or unknown severity comes after every rated one (nothing says how severe
        it was)."""
        rated = [s.id for s in self.severities if not s.unrated]
        return rated.index(severity) if severity in rated else len(rated)

    def term(self, kind: str, term_id: str | None) -> Term | None:
        return next((t for t in getattr(self, kind) if t.id == term_id), None)

    def layer(self, layer_id: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.id == layer_id), None)


# Severity ids that say "not rated" without the taxonomy's `unrated: true`: the words
# knowledge bases imported from elsewhere use.
UNRATED_IDS = frozenset({"unrated", "unknown", "unclassified", "none", "n/a", "na", "tbd", "untriaged"})


def unrated_severity(term_id: str, flag: object) -> bool:
    return flag is True or (flag is None and term_id.strip().lower() in UNRATED_IDS)
# Layer and category ids are parts of page addresses (categories/<layer>/<category>/) and of
# links: held to lower-case letters, digits and inner '-', '_', '.', so that none is empty,
# '..', holds a quote or a slash, or differs from another only in case. (Other ids go into
# text, attributes and exports, always escaped, never into a path.)
ADDRESS_ID = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
ID_LIMIT = 64
MAX_BYTES = 4 * 1024 * 1024


def _bad_id(value: object, pattern: re.Pattern[str]) -> bool:
    return not (isinstance(value, str) and len(value) <= ID_LIMIT and pattern.fullmatch(value))


def _id_rule(pattern: re.Pattern[str]) -> str:
    return f"lower-case letters and digits, parts joined by '-', '_' or '.', at most {ID_LIMIT} characters"


class TaxonomyError(Exception):
    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(d.text() for d in diagnostics))
        self.diagnostics = diagnostics


def load_taxonomy(path: Path, shown: str | None = None) -> Taxonomy:
    """Read and check the taxonomy file; raise TaxonomyError listing every problem."""
    shown = shown or str(path)
    diags: list[Diagnostic] = []

    def problem(message: str, where: tuple = ()) -> None:
        pos = locate(parsed.root, where) if where else None
        line, col = (pos[0] + 1, pos[1] + 1) if pos else (1, 1)
        diags.append(Diagnostic(shown, line, col, "error", message))

    try:
        text = read_bounded(path, MAX_BYTES, "taxonomy file").decode("utf-8-sig")
    except (FileProblem, UnicodeDecodeError) as exc:
        raise TaxonomyError([Diagnostic(shown, 1, 1, "error", f"cannot read the taxonomy file: {exc}")]) from None
    try:
        parsed = parse(text)
    except YamlProblem as exc:
        raise TaxonomyError([Diagnostic(shown, exc.line, exc.column, "error", exc.message)]) from None
    for p in parsed.problems:
        diags.append(Diagnostic(shown, p.line, p.column, "error", p.message))
    data = parsed.value
    if not isinstance(data, dict):
        raise TaxonomyError(diags + [Diagnostic(shown, 1, 1, "error", "the taxonomy must be a mapping with severities, detection_sources, dimensions and layers")])

    def unknown_keys(item: dict, allowed: tuple[str, ...], where: tuple) -> None:
        for k in item:
            if k not in allowed and not k.startswith("x-"):
                # {id: a, description: one, two} reads 'two' as a key: the usual way to lose half a description
                hint = (" (a comma inside {...} ends a value: put text with commas in quotes)" if item[k] is None
                        else did_you_mean(k, allowed))
                problem(f"unknown key '{k}'{hint}; the keys here are {', '.join(allowed)}", where + (k,))

    def terms(key: str) -> tuple[Term, ...]:
        items = data.get(key)
        if not isinstance(items, list) or not items:
            problem(f"'{key}' must be a non-empty list of {{id, title, description}}", (key,))
            return ()
        out, seen = [], set()
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
                problem(f"{key}[{i}] needs an 'id' (text)", (key, i))
                continue
            if item["id"] in seen:
                problem(f"{key}: id '{item['id']}' is listed twice", (key, i))
            seen.add(item["id"])
            allowed = ("id", "title", "description") + (("unrated",) if key == "severities" else ())
            unknown_keys(item, allowed, (key, i))
            flag = item.get("unrated")
            if flag is not None and not isinstance(flag, bool):
                problem(f"{key}[{i}].unrated must be true or false", (key, i, "unrated"))
            out.append(Term(item["id"], str(item.get("title") or item["id"]), str(item.get("description") or ""),
                            unrated_severity(item["id"], flag) if key == "severities" else False))
        return tuple(out)

    def teams() -> tuple[Team, ...]:
        """Optional `teams: [{id, title?, members: [person, ...]}]`: a person in two teams is
        an error naming both (the roll-up would count their items twice)."""
        items = data.get("teams")
        if items is None:
            return ()
        if not isinstance(items, list):
            problem("'teams' must be a list of {id, title, members}", ("teams",))
            return ()
        out: list[Team] = []
        ids: set[str] = set()
        member_at: dict[str, tuple[str, int, int]] = {}
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
                problem(f"teams[{i}] needs an 'id' (text)", ("teams", i))
                continue
            tid = item["id"]
            if tid in ids:
                problem(f"teams: id '{tid}' is listed twice", ("teams", i))
            ids.add(tid)
            unknown_keys(item, ("id", "title", "description", "members"), ("teams", i))
            members = item.get("members") or []
            if not isinstance(members, list):
                problem(f"teams[{i}].members must be a list of names", ("teams", i, "members"))
                members = []
            names = []
            for j, m in enumerate(members):
                if not isinstance(m, str) or not m.strip():
                    problem(f"teams[{i}].members[{j}] must be a name (text)", ("teams", i, "members", j))
                    continue
                if m in member_at:
                    other, oi, oj = member_at[m]
                    pos = locate(parsed.root, ("teams", oi, "members", oj))
                    where = f" (line {pos[0] + 1})" if pos else ""
                    problem(f"'{m}' is a member of team '{other}'{where} and of team '{tid}': a person belongs "
                            "to one team", ("teams", i, "members", j))
                    continue
                member_at[m] = (tid, i, j)
                names.append(m)
            out.append(Team(tid, str(item.get("title") or tid), tuple(names)))
        for tid in ids & set(member_at):
            problem(f"'{tid}' is both a team id and a member of team '{member_at[tid][0]}'",
                    ("teams", member_at[tid][1], "members", member_at[tid][2]))
        return tuple(out)

    unknown_keys(data, ("severities", "detection_sources", "dimensions", "layers", "teams"), ())
    severities = terms("severities")
    sources = terms("detection_sources")
    dims = terms("dimensions")
    layers = []
    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        problem("'layers' must be a non-empty list of layers, each with categories", ("layers",))
        raw_layers = []
    seen_layers: set[str] = set()
    for i, raw in enumerate(raw_layers):
        if not isinstance(raw, dict) or _bad_id(raw.get("id"), ADDRESS_ID):
            got = f"; got {raw['id']!r}" if isinstance(raw, dict) and "id" in raw else ""
            problem(f"layers[{i}] needs an 'id' of {_id_rule(ADDRESS_ID)} (it is part of page addresses){got}",
                    ("layers", i, "id") if got else ("layers", i))
            continue
        lid = raw["id"]
        if lid in seen_layers:
            problem(f"layer '{lid}' is listed twice", ("layers", i))
        seen_layers.add(lid)
        unknown_keys(raw, ("id", "title", "description", "categories"), ("layers", i))
        cats, seen_cats = [], set()
        for j, c in enumerate(raw.get("categories") or []):
            if not isinstance(c, dict) or _bad_id(c.get("id"), ADDRESS_ID):
                got = f"; got {c['id']!r}" if isinstance(c, dict) and "id" in c else ""
                where = ("layers", i, "categories", j)
                problem(f"layers[{i}].categories[{j}] needs an 'id' of {_id_rule(ADDRESS_ID)} (it is part of page "
                        f"addresses){got}", where + ("id",) if got else where)
                continue
            if c["id"] in seen_cats:
                problem(f"category '{lid}/{c['id']}' is listed twice", ("layers", i, "categories", j))
            seen_cats.add(c["id"])
            unknown_keys(c, ("id", "title", "description"), ("layers", i, "categories", j))
            cats.append(Category(f"{lid}/{c['id']}", lid, c["id"], str(c.get("title") or c["id"]), str(c.get("description") or "")))
        if not cats:
            problem(f"layer '{lid}' has no categories", ("layers", i))
        layers.append(Layer(lid, str(raw.get("title") or lid), str(raw.get("description") or ""), tuple(cats)))
    team_list = teams()
    if diags:
        raise TaxonomyError(diags)
    return Taxonomy(severities, sources, dims, tuple(layers), team_list)
