"""The incident model: typed, immutable, built only from front matter that validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RootCause:
    category: str      # full taxonomy id, layer/name
    description: str


@dataclass(frozen=True, slots=True)
class ActionItem:
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
class TimelineEvent:
    at: datetime
    event: str
    kind: str | None


@dataclass(frozen=True, slots=True)
class ModelRef:
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class DatasetRef:
    name: str
    version: str | None


@dataclass(frozen=True, slots=True)
class Link:
    """Where else the incident lives (the chat channel, a ticket, the original document)."""
    title: str
    url: str           # http(s) only: the schema refuses any other scheme


@dataclass(frozen=True, slots=True)
class DimensionFinding:
    id: str
    contribution: str   # none | low | medium | high
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Source:
    path: str           # relative to incidents_dir, POSIX
    shown: str          # as diagnostics show it (relative to the knowledge base root)
    body: str           # Markdown after the front matter
    body_line: int
    digest: str         # content hash of the whole file: the cache key


@dataclass(frozen=True)
class Incident:
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
