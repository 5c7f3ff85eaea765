"""The facts an incident names (services, team, models, data sets, tags) and their pages'
addresses (SPEC section 5: `services/<name>/`, `teams/<name>/`, `models/<name>/`,
`datasets/<name>/`, `tags/<tag>/`).

An address is the value made safe and lower-cased, so names that differ only by case
(GitHub, Github) share one page; the validator warns about such spellings
(`name_variants`). Kept free of page rendering: the incident page, the index and the
validator all need the same names and addresses.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    from .model import Incident


@dataclass(frozen=True)
class Facet:
    kind: str          # the address's first part, and the key in FACETS
    field: str         # the front-matter field the values come from
    noun: str          # one value, as the page says it: "service"
    plural: str
    values: Callable[["Incident"], tuple[str, ...]]


FACETS: dict[str, Facet] = {f.kind: f for f in (
    Facet("services", "services", "service", "services", lambda i: tuple(dict.fromkeys(i.services))),
    Facet("teams", "team", "team", "teams", lambda i: (i.team,) if i.team else ()),
    Facet("models", "models", "model", "models", lambda i: tuple(dict.fromkeys(m.name for m in i.models))),
    Facet("datasets", "datasets", "data set", "data sets", lambda i: tuple(dict.fromkeys(d.name for d in i.datasets))),
    Facet("tags", "tags", "tag", "tags", lambda i: tuple(dict.fromkeys(i.tags))),
)}

_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def _base(name: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    # no leading or trailing dots or dashes: never "." or "..", never a hidden folder
    return _UNSAFE.sub("-", ascii_.lower()).strip("-.")[:60].strip("-.")


def addresses(names: Iterable[str]) -> dict[str, str]:
    """The address part of each name: lower-case ASCII letters, digits, '.', '_' and '-'.
    Names equal but for case share one (one page for GitHub and Github). Names that
    would otherwise collide (`a b` and `a-b`), or leave nothing usable (`Ωmega`), get a
    short hash of their lower-cased form, so every page keeps a stable address."""
    names = sorted(set(names))
    by_base: dict[str, set[str]] = defaultdict(set)
    for n in names:
        by_base[_base(n)].add(n.lower())
    out = {}
    for n in names:
        b = _base(n)
        if not b or len(by_base[b]) > 1:
            h = hashlib.sha256(n.lower().encode()).hexdigest()[:8]
            b = f"{b}-{h}" if b else h
        out[n] = b
    return out


def page_src(kind: str, address: str) -> str:
    return f"{kind}/{address}/index.md"


@dataclass(frozen=True)
class FacetIndex:
    """Every value of every facet: its page and its incidents."""
    address: dict[str, dict[str, str]]              # kind -> value -> address part
    members: dict[str, dict[str, list["Incident"]]]  # kind -> address part -> incidents, (started, id) order
    spellings: dict[str, dict[str, list[str]]]       # kind -> address part -> values, most used first

    def src(self, kind: str, value: str) -> str:
        return page_src(kind, self.address[kind][value])


def facet_index(incidents: Iterable["Incident"]) -> FacetIndex:
    incidents = list(incidents)
    seen: dict[str, dict[str, list["Incident"]]] = {k: defaultdict(list) for k in FACETS}
    for inc in incidents:
        for kind, facet in FACETS.items():
            for v in facet.values(inc):
                seen[kind][v].append(inc)
    address = {k: addresses(seen[k]) for k in FACETS}
    members: dict[str, dict[str, list["Incident"]]] = {}
    spellings: dict[str, dict[str, list[str]]] = {}
    for kind in FACETS:
        groups: dict[str, list[str]] = defaultdict(list)
        for v in seen[kind]:
            groups[address[kind][v]].append(v)
        members[kind], spellings[kind] = {}, {}
        for addr, values in groups.items():
            values.sort(key=lambda v: (-len(seen[kind][v]), v))
            spellings[kind][addr] = values
            if len(values) == 1:
                members[kind][addr] = seen[kind][values[0]]
            else:
                ids = {i.id for v in values for i in seen[kind][v]}
                members[kind][addr] = [i for i in incidents if i.id in ids]
    return FacetIndex(address, members, spellings)


def name_key(name: str) -> str:
    """What is left of a name when case and punctuation are set aside: DataDog, Datadog
    and data-dog give the same key."""
    return re.sub(r"[\W_]+", "", name.casefold())


@dataclass(frozen=True)
class Variant:
    """One spelling of a name that others spell differently (case or punctuation only)."""
    kind: str
    value: str
    usual: str          # the spelling to use: the most used (ties: the first by sort order)
    uses: int           # incidents that write `usual`


def name_variants(uses: dict[str, dict[str, int]]) -> dict[tuple[str, str], Variant]:
    """(kind, value) -> Variant for every value written otherwise elsewhere, given
    `uses[kind][value]` = how many incidents write that value. The usual spelling itself
    is not listed."""
    out: dict[tuple[str, str], Variant] = {}
    for kind, counts in uses.items():
        groups: dict[str, list[str]] = defaultdict(list)
        for v in counts:
            key = name_key(v)
            if key:
                groups[key].append(v)
        for values in groups.values():
            if len(values) < 2:
                continue
            usual = min(values, key=lambda v: (-counts[v], v))
            for v in values:
                if v != usual:
                    out[(kind, v)] = Variant(kind, v, usual, counts[usual])
    return out
