"""Property-based tests: no input makes the validator raise, every diagnostic has a real
place, and the compiled fast checker agrees with jsonschema."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from functools import cache

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import ROOT, incident_text
from pmkb import Rules, check_file, load_checker, load_taxonomy, zone
from pmkb.cli.newincident import _yaml_text
from pmkb.reading.yamlsafe import parse

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(SETTINGS, max_examples=150)  # for the costlier generated incidents
KEYS = list(load_checker().schema["properties"])


@cache
def rules(tz: str) -> Rules:
    return Rules(load_taxonomy(ROOT / "schema" / "taxonomy.yml"), load_checker(), zone(tz))


def assert_sane(data: bytes, tz: str = "UTC"):
    result = check_file(data, "2025/x.md", "incidents/2025/x.md", rules(tz))
    text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.count("\n") + 1     # as editors count them (YAML would count U+2028 too)
    for d in result.diagnostics:
        assert d.path == "incidents/2025/x.md"
        assert d.severity in ("error", "warning")
        assert isinstance(d.line, int) and isinstance(d.column, int)
        assert 1 <= d.line <= lines + 1, (d, lines)
        assert d.column >= 1
        assert d.message and "\n" not in d.text()
    has_error = any(d.is_error for d in result.diagnostics)
    assert (result.incident is None) == has_error   # an incident, or an error saying why not
    if result.incident is not None:
        assert result.incident.started.utcoffset().total_seconds() == 0
    return result


# -- arbitrary input ----------------------------------------------------------------------

@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data):
    assert_sane(data)


@SETTINGS
@given(st.binary(max_size=1000))
def test_arbitrary_bytes_inside_fences(data):
    assert_sane(b"---\n" + data + b"\n---\nbody\n")


@SETTINGS
@given(st.text(max_size=1000))
def test_arbitrary_text(text):
    assert_sane(text.encode("utf-8"))
    assert_sane(("---\n" + text + "\n---\n").encode("utf-8"))


YAMLISH = st.text(alphabet="-:[]{}&*!|>'\"#%@`?,. \n\t\r\\abcxyz0129<=~\u00e9\ufeff", max_size=400)


@SETTINGS
@given(YAMLISH)
def test_yaml_punctuation_soup(text):
    assert_sane(("---\n" + text + "\n---\n").encode("utf-8"))
    assert_sane(incident_text(extra="x-soup: 1\n").replace("x-soup: 1\n", text + "\n").encode("utf-8"))


# -- YAML-ish documents -------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1)).map(lambda d: d.strftime("%Y-%m-%d %H:%M")),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["SEV1", "SEV9", "draft", "final", "data/schema-change", "schema-change", "done", "3.10", "INC-2025-001"]),
)
KEY = st.one_of(st.sampled_from(KEYS + ["x-extra", "contribution", "category", "description", "at", "event", "kind",
                                        "name", "version", "title", "type", "owner", "due", "status", "completed"]),
                st.text(max_size=12))
DOCS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEY, inner, max_size=6),
                    max_leaves=25)


def dumped(doc) -> bytes:
    return ("---\n" + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False) + "---\nBody\n").encode("utf-8")


@SETTINGS
@given(DOCS, st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns"]))
def test_arbitrary_documents(doc, tz):
    assert_sane(dumped(doc), tz)


# -- valid incidents and their mutations --------------------------------------------------

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
STAMP = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%d %H:%M"))
DATE = st.dates().map(lambda d: d.isoformat())
TAX = load_taxonomy(ROOT / "schema" / "taxonomy.yml")
CATEGORY = st.sampled_from(sorted(TAX.categories))

ACTION = st.fixed_dictionaries(
    {"title": TEXT, "type": st.sampled_from(["prevention", "detection", "mitigation", "process"]), "owner": TEXT,
     "due": DATE, "status": st.sampled_from(["open", "in-progress", "done", "wont-do"])},
    optional={"completed": DATE, "ticket": st.just("https://tracker.example.com/T-1"),
              "addresses": st.lists(CATEGORY, max_size=2)})

INCIDENT = st.fixed_dictionaries(
    {"id": st.from_regex(r"\A[A-Z][A-Z0-9]{0,4}(-[A-Z0-9]{1,4}){1,3}\Z"), "title": TEXT,
     "status": st.sampled_from(["draft", "review", "final"]), "severity": st.sampled_from([s.id for s in TAX.severities]),
     "started": STAMP},
    optional={
        "summary": TEXT, "detected": STAMP, "mitigated": STAMP, "resolved": STAMP,
        "detection": st.sampled_from([s.id for s in TAX.detection_sources]),
        "services": st.lists(TEXT, max_size=3), "team": TEXT, "authors": st.lists(TEXT, max_size=2), "impact": TEXT,
        "users_affected": st.integers(min_value=0, max_value=10**9),
        "models": st.lists(st.fixed_dictionaries({"name": TEXT, "version": TEXT}), max_size=2),
        "datasets": st.lists(st.fixed_dictionaries({"name": TEXT}, optional={"version": TEXT}), max_size=2),
        "dimensions": st.dictionaries(st.sampled_from([d.id for d in TAX.dimensions]), st.fixed_dictionaries(
            {"contribution": st.sampled_from(["none", "low", "medium", "high"])},
            optional={"evidence": st.lists(TEXT, max_size=2)}), max_size=3),
        "root_causes": st.lists(st.fixed_dictionaries({"category": CATEGORY, "description": TEXT}), min_size=1, max_size=3),
        "trigger": TEXT, "action_items": st.lists(ACTION, max_size=2),
        "timeline": st.lists(st.fixed_dictionaries({"at": STAMP, "event": TEXT}, optional={"kind": st.sampled_from(
            ["trigger", "detection", "diagnosis", "mitigation", "deploy", "other"])}), max_size=3),
        "related": st.lists(st.sampled_from(["INC-2024-001", "INC-2025-002"]), max_size=2),
        "tags": st.lists(st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,10}\Z"), max_size=3),
        "x-extra": st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=5),
    })


def paths(value, prefix=()):
    """Every path into a document, containers included."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


def get(doc, path):
    for part in path:
        doc = doc[part]
    return doc


def mutate(data, doc):
    """Drop a key, change a value's type, or insert a random key, somewhere in the document."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="mutations")):
        kind = data.draw(st.sampled_from(["drop", "retype", "insert"]), label="kind")
        where = data.draw(st.sampled_from(list(paths(doc))), label="path")
        target = get(doc, where[:-1]) if where else None
        if kind == "drop" and where and isinstance(target, dict):
            del target[where[-1]]
        elif kind == "retype" and where:
            target[where[-1]] = data.draw(SCALARS | st.lists(SCALARS, max_size=2) | st.dictionaries(KEY, SCALARS, max_size=2),
                                          label="new value")
        else:
            node = get(doc, where)
            if isinstance(node, dict):
                node[data.draw(KEY, label="new key")] = data.draw(SCALARS, label="its value")
    return doc


@FEWER
@given(INCIDENT)
def test_generated_incidents_validate_or_say_why(doc):
    result = assert_sane(dumped(doc))
    # Everything the schema checks holds by construction; what may fail is semantic (order, final rules).
    for d in result.diagnostics:
        if d.is_error:
            # (a dumper may write U+2028 and its kind raw, which editors do not show as breaks)
            assert re.search(r"is before|final postmortem|no incident|related to itself|date without a time|"
                             r"not a valid|is not a valid date|is a line break to YAML", d.message), d.text()


@FEWER
@given(INCIDENT, st.data())
def test_mutated_incidents_never_raise(doc, data):
    assert_sane(dumped(mutate(data, doc)), data.draw(st.sampled_from(["UTC", "Europe/Berlin"])))


CHECKER = load_checker()


@FEWER
@given(INCIDENT, st.data())
def test_fast_checker_agrees_with_jsonschema(doc, data):
    assert CHECKER.fast is not None
    assert CHECKER.fast(doc) == CHECKER.validator.is_valid(doc) is True
    mutated = mutate(data, doc)
    valid = CHECKER.validator.is_valid(mutated)
    assert CHECKER.fast(mutated) == valid
    if not valid:
        # a rejected document always gets an error: from the schema, or from the time parser
        # for the timestamps and dates whose pattern messages the schema checker leaves to it
        result = assert_sane(dumped(mutated))
        assert result.incident is None


@SETTINGS
@given(DOCS)
def test_fast_checker_agrees_on_arbitrary_documents(doc):
    assert CHECKER.fast(doc) == CHECKER.validator.is_valid(doc)


# -- titles written by `pmkb new` ---------------------------------------------------------

@SETTINGS
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_any_title_round_trips_through_the_template_quoting(title):
    parsed = parse("title: " + _yaml_text(title) + "\n")
    assert parsed.problems == [] and parsed.value == {"title": title}


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200))
def test_any_title_gives_a_valid_incident(title):
    assume(title.strip())
    text = incident_text().replace("title: 'Something broke'", "title: " + _yaml_text(title))
    result = assert_sane(text.encode("utf-8"))
    assert result.incident is not None and result.incident.title == title
