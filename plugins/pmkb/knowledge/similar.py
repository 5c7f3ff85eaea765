"""`pmkb similar`: past incidents that share root causes, models or services with a draft.

The draft is read leniently: it is usually half-written when an engineer asks, so it need
not validate, and whatever YAML can be read before the first syntax error still counts.

Scoring: each shared item adds `weight(kind) * (1 + rarity)`, where rarity is 1 for an
item only one past incident has and 0 for one every past incident has (a log-scaled
inverse document frequency). The kind weights (categories 9, models 3, services 1) are
spaced so that a rarity bonus never lets one shared model outrank one shared category,
nor one shared service outrank one shared model: a root cause is the strongest evidence
that two incidents teach the same lesson, a shared service the weakest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..incidents.model import Incident
from ..reading.frontmatter import ReadProblem, decode, split
from ..reading.yamlsafe import YamlProblem, parse
from .kb import KnowledgeBase

KIND_WEIGHTS: dict[str, float] = {"categories": 9.0, "models": 3.0, "services": 1.0}
KINDS = tuple(KIND_WEIGHTS)


@dataclass(frozen=True)
class IncidentLike:
    """What similarity looks at, from a valid incident or from a draft that is not (yet)."""

    id: str | None = None
    title: str | None = None
    categories: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    models: tuple[str, ...] = ()          # model names; the version does not matter here
    related: tuple[str, ...] = ()
    path: Path | None = None              # the draft's file, to leave itself out when it is loaded too
    notes: tuple[str, ...] = ()           # what could not be read, for the user

    def features(self, kind: str) -> tuple[str, ...]:
        return getattr(self, kind)


@dataclass(frozen=True)
class Match:
    incident: Incident
    score: float
    matched: dict[str, tuple[str, ...]] = field(default_factory=dict)   # kind -> shared items, in the draft's order
    already_related: bool = False

    def reasons(self) -> str:
        return "; ".join(f"{kind}: {', '.join(items)}" for kind, items in self.matched.items() if items)

    def to_dict(self) -> dict[str, Any]:
        i = self.incident
        return {
            "id": i.id, "title": i.title, "url": i.url, "path": i.source.shown, "status": i.status,
            "severity": i.severity, "started": i.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "score": round(self.score, 3),
            "matched": {kind: list(self.matched.get(kind, ())) for kind in KINDS},
            "already_related": self.already_related,
        }


def read_incident_like(data: bytes, path: Path | None = None) -> IncidentLike:
    """Read what can be read of a (draft) incident file. Raises ReadProblem when the file
    has no front matter to read at all."""
    text = decode(data)
    unclosed: tuple[str, ...] = ()
    try:
        front = split(text).front
    except ReadProblem:
        if not text.startswith("---"):
            raise
        # An unclosed front matter is common while typing: the lenient parse below stops
        # at the first line of Markdown that is not YAML.
        front = text.split("\n", 1)[1] if "\n" in text else ""
        unclosed = ("the front matter is not closed (no second '---' line)",)
    fm, notes = _lenient_parse(front)
    notes = unclosed + notes
    if not isinstance(fm, dict):
        return IncidentLike(path=path, notes=notes + ("the front matter is not a mapping of fields",))
    categories = []
    for rc in _list(fm.get("root_causes")):
        value = rc.get("category") if isinstance(rc, dict) else rc
        if isinstance(value, str) and value.strip():
            categories.append(value.strip())
    models = []
    for m in _list(fm.get("models")):
        value = m.get("name") if isinstance(m, dict) else m
        if isinstance(value, str) and value.strip():
            models.append(value.strip())
    services = [s.strip() for s in _list(fm.get("services")) if isinstance(s, str) and s.strip()]
    related = [r for r in _list(fm.get("related")) if isinstance(r, str)]
    return IncidentLike(
        id=fm["id"] if isinstance(fm.get("id"), str) else None,
        title=fm["title"] if isinstance(fm.get("title"), str) else None,
        categories=_unique(categories), services=_unique(services), models=_unique(models),
        related=tuple(related), path=path, notes=notes)


def _lenient_parse(front: str) -> tuple[Any, tuple[str, ...]]:
    """Parse the YAML; on a syntax error, keep the lines before it and try again."""
    lines = front.split("\n")
    notes: list[str] = []
    # Each retry drops at least one line; the bound keeps a pathological file (an unclosed
    # bracket on line 1 of 10,000) from costing thousands of parses.
    for _ in range(64):
        if not lines:
            break
        try:
            return parse("\n".join(lines)).value, tuple(notes)
        except YamlProblem as exc:
            if not notes:
                # +1: the front matter starts on the file's second line
                notes.append(f"line {exc.line + 1}: {exc.message}; only the fields above it were read")
            keep = min(len(lines) - 1, max(exc.line - 1, 0))
            lines = lines[:keep]
    return None, tuple(notes)


def _list(value: Any) -> list:
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, (str, dict)) else []


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def rarity(frequency: int, population: int) -> float:
    """1 for an item one incident has, 0 for one every incident has, log-scaled between."""
    if population <= 1 or frequency <= 1:
        return 1.0
    return max(0.0, math.log(population / frequency) / math.log(population))


def similar(kb: KnowledgeBase, incident_like: IncidentLike, limit: int | None = 10) -> list[Match]:
    """The incidents of the knowledge base most similar to `incident_like`, best first.

    Ties go to the most recent incident (then the smaller id), so a reader sees the
    freshest write-up of a recurring problem first. `limit` None or 0: all matches.
    """
    own_path = incident_like.path.resolve() if incident_like.path is not None else None
    pool = [i for i in kb.incidents
            if i.id != incident_like.id
            and not (own_path is not None and (kb.settings.incidents_dir / i.source.path).resolve() == own_path)]
    wanted = {kind: set(incident_like.features(kind)) for kind in KINDS}
    frequency: dict[tuple[str, str], int] = {}
    for inc in pool:
        for kind, items in _features(inc).items():
            for item in items:
                if item in wanted[kind]:
                    frequency[(kind, item)] = frequency.get((kind, item), 0) + 1
    related = set(incident_like.related)
    matches = []
    for inc in pool:
        have = _features(inc)
        matched = {kind: tuple(x for x in incident_like.features(kind) if x in have[kind]) for kind in KINDS}
        score = sum(KIND_WEIGHTS[kind] * (1.0 + rarity(frequency[(kind, x)], len(pool)))
                    for kind, items in matched.items() for x in items)
        if score > 0:
            matches.append(Match(inc, score, {k: v for k, v in matched.items() if v}, inc.id in related))
    # Scores are sums of the same few floats; rounding keeps equal sums equal for the tie-break.
    matches.sort(key=lambda m: (-round(m.score, 9), _newest_first(m.incident)))
    return matches[:limit] if limit else matches


def _features(incident: Incident) -> dict[str, set[str]]:
    return {"categories": set(incident.categories), "services": set(incident.services),
            "models": {m.name for m in incident.models}}


def _newest_first(incident: Incident) -> tuple:
    # Negate the instant so that one ascending sort puts the newest first and, among
    # incidents that started together, the smaller id first.
    return (-incident.started.timestamp(), incident.id)
