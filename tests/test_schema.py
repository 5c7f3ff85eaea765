"""Front matter against schema/incident.schema.json: types, enums, patterns, lengths,
required and unknown fields, the x- extension point, and the compiled fast checker."""


import json

import jsonschema
import pytest

from checkhelpers import check, one_error, pos
from conftest import ROOT, incident_text
from pmkb import load_checker
from pmkb.incidents.schema import SCHEMA_PATH, SchemaChecker, compile_schema


def test_published_schema_is_the_packaged_one():
    assert json.loads((ROOT / "schema" / "incident.schema.json").read_text()) == json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


# -- types --------------------------------------------------------------------------------

def test_model_version_written_as_a_number_says_put_it_in_quotes():
    text = incident_text(extra="models:\n  - {name: fraud-scorer, version: 3.10}")
    d = one_error(text)
    assert (d.line, d.column) == pos(text, "3.10") == (8, 35)
    assert "models[0].version must be text" in d.message
    assert 'put it in quotes: "3.10"' in d.message and "3.1" in d.message


def test_dataset_version_as_an_integer():
    d = one_error(incident_text(extra="datasets:\n  - name: events\n    version: 20250601"))
    assert (d.line, d.column) == (9, 14) and 'put it in quotes: "20250601"' in d.message


@pytest.mark.parametrize("extra, line, col, words", [
    ("services: scoring-api", 7, 11, "services must be a list, not text; write a list, e.g. [scoring-api]"),
    ("users_affected: many", 7, 17, "users_affected must be a whole number, not text"),
    ("users_affected: 1.5", 7, 17, "users_affected must be a whole number, not a number (1.5)"),
    ("team: [a, b]", 7, 7, "team must be text, not a list"),
    ("summary: yes", 7, 10, 'put it in quotes: "yes"'),
    ("impact:", 7, 8, "impact must be text, not empty"),
    ("dimensions: [serving]", 7, 13, "dimensions must be a mapping, not a list"),
    ("root_causes: {category: data/schema-change}", 7, 14, "root_causes must be a list, not a mapping"),
    ("timeline:\n  - not an event", 8, 5, "timeline[0] must be a mapping, not text"),
    ("authors: [ada, 12]", 7, 16, "authors[1] must be text, not a number (12)"),
])
def test_wrong_types(extra, line, col, words):
    d = one_error(incident_text(extra=extra))
    assert (d.line, d.column) == (line, col), d.text()
    assert words in d.message


def test_numeric_title_keeps_what_was_written():
    d = one_error(incident_text().replace("title: 'Something broke'", "title: 2.50"))
    assert (d.line, d.column) == (3, 8) and 'put it in quotes: "2.50"' in d.message


def test_negative_users_affected():
    d = one_error(incident_text(extra="users_affected: -3"))
    assert (d.line, d.column) == (7, 17) and "users_affected must be 0 or more, not -3" in d.message


def test_users_affected_zero_and_large_are_fine():
    assert check(incident_text(extra="users_affected: 0")).incident.users_affected == 0
    assert check(incident_text(extra="users_affected: 12_000_000")).incident.users_affected == 12_000_000


# -- enums --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, bad, words", [
    (incident_text(status="finl"), "finl", "status: 'finl' is not one of draft, review, final (did you mean 'final'?)"),
    (incident_text(status="Draft"), "Draft", "did you mean 'draft'?"),
    (incident_text(extra="dimensions:\n  data: {contribution: hgh}"), "hgh", "(did you mean 'high'?)"),
    (incident_text(extra="timeline:\n  - {at: 2025-06-01 10:00, event: e, kind: diagnose}"), "diagnose",
     "did you mean 'diagnosis'?"),
    (incident_text(extra="action_items:\n  - {title: t, type: preventive, owner: o, due: 2025-07-01, status: open}"),
     "preventive", "did you mean 'prevention'?"),
    (incident_text(extra="action_items:\n  - {title: t, type: process, owner: o, due: 2025-07-01, status: closed}"),
     "closed", "is not one of open, in-progress, done, wont-do"),
])
def test_enum_with_did_you_mean(text, bad, words):
    d = one_error(text)
    assert (d.line, d.column) == pos(text, bad), d.text()
    assert words in d.message


def test_enum_without_close_match_lists_the_values():
    d = one_error(incident_text(status="xyz"))
    assert "is not one of draft, review, final" in d.message and "did you mean" not in d.message


# -- patterns and lengths -----------------------------------------------------------------

@pytest.mark.parametrize("bad", ["inc-2025-001", "INC", "INC-", "INC--1", "2025-INC-1", "INC_2025_1", "INC-2025-01a", "INC 1"])
def test_id_pattern(bad):
    d = one_error(incident_text(id=f"'{bad}'"))
    assert (d.line, d.column) == (2, 5)
    assert f"'{bad}' is not a valid id" in d.message and "INC-2025-014" in d.message


@pytest.mark.parametrize("good", ["INC-1", "A-B", "INC-2025-001", "OPS-2025-Q2-7", "X" * 36 + "-123"])
def test_valid_ids(good):
    result = check(incident_text(id=good))
    assert result.incident is not None and result.incident.id == good


def test_id_too_long():
    long_id = "INC-" + "1" * 37
    d = one_error(incident_text(id=long_id))
    assert d.line == 2 and "41 characters long; at most 40" in d.message


def test_id_with_a_final_line_break_is_refused():
    d = one_error(incident_text(id='"INC-2025-001\\n"'))
    assert d.line == 2 and "line break" in d.message


def test_title_too_long_and_empty():
    d = one_error(incident_text(title="t" * 201))
    assert (d.line, d.column) == (3, 8) and "title is 201 characters long; at most 200 are allowed" in d.message
    assert check(incident_text(title="t" * 200)).incident is not None
    d = one_error(incident_text(title=""))
    assert (d.line, d.column) == (3, 8) and "title must not be empty" in d.message


def test_tags_must_be_lower_case():
    d = one_error(incident_text(extra="tags: [ok, Bad-Tag]"))
    assert (d.line, d.column) == (7, 12) and "tags[1]: 'Bad-Tag' is not a tag" in d.message and "'bad-tag'" in d.message


def test_ticket_must_be_a_link():
    d = one_error(incident_text(extra="action_items:\n  - {title: t, type: process, owner: o, due: 2025-07-01, status: open, "
                                      "ticket: JIRA-12}"))
    assert d.line == 8 and "'JIRA-12' is not a link" in d.message


# -- required and unknown fields ----------------------------------------------------------

def test_missing_top_level_field_is_reported_at_line_1_column_1():
    text = incident_text().replace("severity: SEV3\n", "")
    d = one_error(text)
    assert (d.line, d.column) == (1, 1)
    assert "missing required field 'severity'" in d.message and "SEV2" in d.message


def test_every_missing_field_is_reported_once():
    result = check("---\nid: INC-2025-001\n---\n")
    messages = [d.message for d in result.diagnostics]
    assert sorted(messages) == sorted(set(messages))
    for key in ("title", "status", "severity", "started"):
        assert sum(f"missing required field '{key}'" in m for m in messages) == 1
    assert all((d.line, d.column) == (1, 1) for d in result.diagnostics)


@pytest.mark.parametrize("extra, line, col, words", [
    ("root_causes:\n  - category: data/schema-change", 8, 5, "root_causes[0]: missing required field 'description'"),
    ("models:\n  - {name: m}", 8, 5, "models[0]: missing required field 'version'"),
    ("timeline:\n  - {event: e}", 8, 5, "timeline[0]: missing required field 'at'"),
    ("dimensions:\n  data: {evidence: [a]}", 8, 9, "dimensions.data: missing required field 'contribution'"),
    ("action_items:\n  - title: t\n    type: process\n    owner: o\n    status: open", 8, 5,
     "action_items[0]: missing required field 'due'"),
])
def test_missing_nested_field_is_reported_at_the_item(extra, line, col, words):
    d = one_error(incident_text(extra=extra))
    assert (d.line, d.column) == (line, col), d.text()
    assert words in d.message


def test_unknown_field_with_did_you_mean():
    d = one_error(incident_text(extra="sumary: text"))
    assert (d.line, d.column) == (7, 1)
    assert "unknown field 'sumary' (did you mean 'summary'?)" in d.message and "'x-'" in d.message


def test_unknown_nested_field():
    text = incident_text(extra="action_items:\n  - {title: t, type: process, owner: o, due: 2025-07-01, status: open, "
                               "ownr: b}")
    d = one_error(text)
    assert (d.line, d.column) == pos(text, "ownr") and "unknown field 'action_items[0].ownr' (did you mean 'owner'?)" in d.message


def test_unknown_field_without_a_near_miss():
    d = one_error(incident_text(extra="qwertyuiop: 1"))
    assert "unknown field 'qwertyuiop'" in d.message and "did you mean" not in d.message


def test_every_problem_of_a_file_is_listed():
    result = check(incident_text(status="finl", extra="sumary: s\nusers_affected: -1\ntags: [A]"))
    lines = sorted(d.line for d in result.diagnostics if d.is_error)
    assert lines == [4, 7, 8, 9]


def test_x_keys_are_accepted_and_kept():
    text = incident_text(extra="x-cost-eur: 1200\nx-links: {runbook: 'https://r', list: [1, 2]}\nx-: empty name")
    result = check(text)
    assert result.diagnostics == []
    fm = result.incident.front_matter
    assert fm["x-cost-eur"] == 1200 and fm["x-links"] == {"runbook": "https://r", "list": [1, 2]} and fm["x-"] == "empty name"


def test_x_prefix_must_be_lower_case_dash():
    d = one_error(incident_text(extra="X-cost: 1"))
    assert "unknown field 'X-cost'" in d.message


# -- the compiled fast checker ------------------------------------------------------------

def test_fast_checker_is_used_for_the_shipped_schema():
    assert load_checker().fast is not None


@pytest.mark.parametrize("schema, values", [
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None]),
    ({"type": ["string", "null"]}, ["a", None, 0, []]),
    ({"enum": ["a", "b"]}, ["a", "c", 1, None]),
    ({"type": "string", "pattern": "^a+$", "minLength": 2, "maxLength": 3}, ["aa", "a", "aaaa", "ab", 5]),
    ({"minimum": 0}, [0, -1, -0.5, "x", True]),
    ({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}, "additionalProperties": False,
      "patternProperties": {"^x-": {}}}, [{"a": "1"}, {}, {"a": 1}, {"a": "1", "b": 2}, {"a": "1", "x-b": 2}, []]),
    ({"type": "array", "items": {"type": "string"}}, [[], ["a"], ["a", 1], "a"]),
    ({"$defs": {"t": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/t"}}}, [{"a": "x"}, {"a": 1}, 3]),
    ({"additionalProperties": {"type": "integer"}}, [{"a": 1}, {"a": "1"}]),
])
def test_compiled_checker_agrees_with_jsonschema(schema, values):
    fast = compile_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for value in values:
        assert fast(value) == validator.is_valid(value), (schema, value)


def test_unknown_keyword_falls_back_to_jsonschema():
    schema = {"type": "object", "properties": {"a": {"type": "string", "format": "email"}}, "minProperties": 1}
    checker = SchemaChecker(schema)
    assert checker.fast is None
    assert checker.is_valid({"a": "x"}) and not checker.is_valid({})
    assert [m for _, _, m in checker.problems({})]


def test_problems_empty_when_valid():
    checker = load_checker()
    fm = {"id": "INC-1", "title": "t", "status": "draft", "severity": "SEV1", "started": "2025-06-01 10:00"}
    assert checker.problems(fm) == []
