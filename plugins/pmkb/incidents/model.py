"""The incident model: typed, immutable, built only from front matter that validated."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any


class Constructed:
    """Pickled as a call of its constructor with the fields it takes. Incidents and
    diagnostics cross between processes (the workers that check files, the preview's
    cache), and the default way, for a dataclass with slots, calls `dataclasses.fields`
    once per object read back: two thirds of the time to read 10,000 incidents."""
    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple]:
        cls = type(self)
        names = _INIT_FIELDS.get(cls)
        if names is None:
            names = _INIT_FIELDS[cls] = tuple(f.name for f in fields(cls) if f.init)   # type: ignore[arg-type]
        return cls, tuple(getattr(self, name) for name in names)


_INIT_FIELDS: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class RootCause(Constructed):
    category: str      # full taxonomy id, layer/name
    description: str


@dataclass(frozen=True, slots=True)
class ActionItem(Constructed):
    title: str
    type: str          # prevention | detection | mitigation | process
    owner: str
    due: date
    status: str        # open | in-progress | done | wont-do
    completed: date | None
    ticket: str | None
    addresses: tuple[str, ...]   # effective categories: given, or the incident's own
    position: int                # index in the file's action_items

    @property
    def is_open(self) -> bool:
        return self.status in ("open", "in-progress")

    def overdue(self, today: date) -> bool:
        return self.is_open and self.due < today


@dataclass(frozen=True, slots=True)
class TimelineEvent(Constructed):
    at: datetime
    event: str
    kind: str | None


@dataclass(frozen=True, slots=True)
class ModelRef(Constructed):
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class DatasetRef(Constructed):
    name: str
    version: str | None


@dataclass(frozen=True, slots=True)
class Link(Constructed):
    """Where else the incident lives (the chat channel, a ticket, the original document)."""
    title: str
    url: str           # http(s) only: the schema refuses any other scheme


@dataclass(frozen=True, slots=True)
class DimensionFinding(Constructed):
    id: str
    contribution: str   # none | low | medium | high
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Source(Constructed):
    path: str           # relative to incidents_dir, POSIX
    shown: str          # as diagnostics show it (relative to the knowledge base root)
    body: str           # Markdown after the front matter
    body_line: int
    digest: str         # content hash of the whole file: the cache key


@dataclass(frozen=True)
class Incident(Constructed):
    id: str
    title: str
    status: str
    severity: str
    started: datetime               # aware, UTC
    detected: datetime | None
    mitigated: datetime | None
    resolved: datetime | None
    summary: str | None
    detection: str | None
    services: tuple[str, ...]
    team: str | None
    authors: tuple[str, ...]
    impact: str | None
    users_affected: int | None
    models: tuple[ModelRef, ...]
    datasets: tuple[DatasetRef, ...]
    dimensions: tuple[DimensionFinding, ...]
    root_causes: tuple[RootCause, ...]
    trigger: str | None
    action_items: tuple[ActionItem, ...]
    timeline: tuple[TimelineEvent, ...]
    related: tuple[str, ...]        # explicit links, as written
    tags: tuple[str, ...]
    front_matter: dict[str, Any]    # as written (validated): exports keep every given field
    source: Source
    links: tuple[Link, ...] = ()
    categories: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(dict.fromkeys(rc.category for rc in self.root_causes)))

    @property
    def slug(self) -> str:
        return self.id.lower()

    @property
    def url(self) -> str:
        return f"incidents/{self.slug}/"

    @property
    def order_key(self) -> tuple[datetime, str]:
        return (self.started, self.id)
