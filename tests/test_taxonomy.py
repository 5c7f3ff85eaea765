"""Taxonomy ids in incidents (severity, detection source, dimension, category) and the
taxonomy file itself."""


from pathlib import Path

import pytest

from checkhelpers import check, one_error, pos
from conftest import ROOT, incident_text
from pmkb import KnowledgeBaseError, TaxonomyError, load_taxonomy

SHIPPED = ROOT / "schema" / "taxonomy.yml"


# -- the shipped taxonomy -----------------------------------------------------------------

def test_shipped_taxonomy_covers_the_spec_layers():
    tax = load_taxonomy(SHIPPED)
    titles = {layer.title for layer in tax.layers}
    for want in ("Data", "Feature engineering", "Model logic", "Deployment pipeline", "Infrastructure", "Monitoring",
                 "Process", "External factors"):
        assert want in titles
    assert {d.id for d in tax.dimensions} >= {"serving", "model", "data"}
    assert "data/schema-change" in tax.categories
    assert all(c.id == f"{c.layer}/{c.name}" for c in tax.categories.values())
    assert all(layer.categories for layer in tax.layers)
    assert [s.id for s in tax.severities][0] == "SEV1" and tax.severity_rank["SEV1"] == 0


def test_shipped_descriptions_are_whole_sentences():
    # A comma inside an unquoted {...} value cuts the description short; every one ends with a full stop.
    tax = load_taxonomy(SHIPPED)
    terms = [*tax.severities, *tax.detection_sources, *tax.dimensions, *tax.categories.values()]
    assert all(t.description.endswith(".") for t in terms), [t.id for t in terms if not t.description.endswith(".")]
    assert tax.term("dimensions", "serving").description.endswith("autoscaling, latency, availability.")


def test_x_keys_are_allowed_in_the_taxonomy(tmp_path: Path):
    path = tmp_path / "taxonomy.yml"
    path.write_text(CUSTOM.replace("{id: toil, title: Toil}", "{id: toil, title: Toil, x-owner: sre}") + "x-version: 2\n",
                    encoding="utf-8")
    assert "ops/toil" in load_taxonomy(path).categories


# -- ids used by an incident --------------------------------------------------------------

def test_unknown_severity_lists_valid_ids():
    text = incident_text(severity="SEV5")
    d = one_error(text)
    assert (d.line, d.column) == pos(text, "SEV5")
    assert "severity: 'SEV5' is not a severity of the taxonomy" in d.message
    assert "did you mean" in d.message and "valid: SEV1, SEV2, SEV3, SEV4" in d.message


def test_severity_in_wrong_case_suggests_the_right_one():
    d = one_error(incident_text(severity="sev2"))
    assert "(did you mean 'SEV2'?)" in d.message


def test_unknown_detection_source():
    text = incident_text(extra="detection: alerting")
    d = one_error(text)
    assert (d.line, d.column) == pos(text, "alerting")
    assert "'alerting' is not a detection source of the taxonomy (did you mean 'alert'?)" in d.message
    assert "valid: alert, model-monitor" in d.message


def test_unknown_dimension_is_reported_at_its_key():
    text = incident_text(extra="dimensions:\n  serving: {contribution: low}\n  modle: {contribution: high}")
    d = one_error(text)
    assert (d.line, d.column) == pos(text, "modle")
    assert "'modle' is not a failure dimension of the taxonomy (did you mean 'model'?)" in d.message
    assert "valid: serving, model, data" in d.message


def test_unknown_category_suggests_nearest_ids():
    text = incident_text(extra="root_causes:\n  - {category: data/schema-chnge, description: d}")
    d = one_error(text)
    assert (d.line, d.column) == pos(text, "data/schema-chnge")
    assert "root_causes[0].category: 'data/schema-chnge' is not a root-cause category" in d.message
    assert "did you mean 'data/schema-change'" in d.message


def test_category_written_without_its_layer():
    text = incident_text(extra="root_causes:\n  - {category: stale-features, description: d}")
    d = one_error(text)
    assert (d.line, d.column) == pos(text, "stale-features")
    assert "(did you mean 'features/stale-features'?)" in d.message


def test_category_under_the_wrong_layer():
    d = one_error(incident_text(extra="root_causes:\n  - {category: model/schema-change, description: d}"))
    assert "did you mean 'data/schema-change'" in d.message


def test_category_with_no_close_match_explains_the_form():
    d = one_error(incident_text(extra="root_causes:\n  - {category: gremlins, description: d}"))
    assert "'layer/name'" in d.message
    d = one_error(incident_text(extra="root_causes:\n  - {category: zzz/qqqq, description: d}"))
    assert "schema/taxonomy.yml" in d.message


def test_action_item_addresses_are_categories():
    text = incident_text(extra="action_items:\n  - {title: t, type: process, owner: o, due: 2025-07-01, status: open, "
                               "addresses: [data/schema-change, data/drift]}")
    d = one_error(text)
    assert (d.line, d.column) == pos(text, "data/drift")
    assert "action_items[0].addresses[1]: 'data/drift' is not a root-cause category" in d.message
    assert "did you mean 'data/data-drift'" in d.message


def test_every_taxonomy_problem_of_a_file_is_listed():
    text = incident_text(severity="SEV9", extra="detection: pager\ndimensions:\n  infra: {contribution: low}\n"
                                                "root_causes:\n  - {category: x/y, description: d}\n"
                                                "  - {category: capacity, description: d}")
    result = check(text)
    assert [pos(text, w) for w in ("SEV9", "pager", "infra", "x/y", "capacity")] == \
           [(d.line, d.column) for d in result.diagnostics]


def test_valid_ids_are_kept_on_the_incident():
    result = check(incident_text(severity="SEV1", extra="detection: customer\ndimensions:\n  data: {contribution: high, "
                                                        "evidence: [null rate 40%]}\nroot_causes:\n"
                                                        "  - {category: data/schema-change, description: d}\n"
                                                        "  - {category: monitoring/missing-alert, description: e}\n"
                                                        "  - {category: data/schema-change, description: again}"))
    inc = result.incident
    assert result.diagnostics == []
    assert inc.severity == "SEV1" and inc.detection == "customer"
    assert inc.dimensions[0].id == "data" and inc.dimensions[0].evidence == ("null rate 40%",)
    assert inc.categories == ("data/schema-change", "monitoring/missing-alert")


# -- a replaced taxonomy ------------------------------------------------------------------

CUSTOM = """\
severities:
  - {id: P0, title: Page now}
  - {id: P1, title: Next day}
detection_sources:
  - {id: pager, title: Pager}
dimensions:
  - {id: infra, title: Infrastructure}
layers:
  - id: ops
    title: Operations
    categories:
      - {id: toil, title: Toil}
"""


def test_knowledge_base_may_replace_the_taxonomy(kb):
    (kb.root / "schema" / "mine.yml").write_text(CUSTOM, encoding="utf-8")
    kb.write_config(taxonomy="schema/mine.yml")
    kb.add("a.md", incident_text(severity="P1", extra="detection: pager\ndimensions:\n  infra: {contribution: low}\n"
                                                      "root_causes:\n  - {category: ops/toil, description: d}"))
    kb.add("b.md", incident_text("INC-2025-002", severity="SEV3"))
    loaded = kb.load()
    assert [i.id for i in loaded.incidents] == ["INC-2025-001"]
    [d] = loaded.errors
    assert d.path == "incidents/b.md" and "valid: P0, P1" in d.message


@pytest.mark.parametrize("text, line, words", [
    ("- a\n- b\n", 1, "must be a mapping"),
    (CUSTOM.replace("severities:\n  - {id: P0, title: Page now}\n  - {id: P1, title: Next day}\n", "severities: []\n"), 1,
     "'severities' must be a non-empty list"),
    (CUSTOM.replace("{id: P1,", "{id: P0,"), 3, "id 'P0' is listed twice"),
    (CUSTOM.replace("      - {id: toil, title: Toil}\n", "      - {id: toil, title: Toil}\n      - {id: toil, title: Again}\n"),
     13, "category 'ops/toil' is listed twice"),
    (CUSTOM.replace("  - id: ops\n", "  - id: ops/x\n"), 9, "layers[0] needs an 'id'"),
    (CUSTOM.replace("      - {id: toil, title: Toil}\n", "      - {title: Toil}\n"), 12, "layers[0].categories[0] needs an 'id'"),
    (CUSTOM.replace("  - {id: pager, title: Pager}\n", "  - {title: Pager}\n"), 5, "detection_sources[0] needs an 'id'"),
    (CUSTOM + "extra: [\n", 14, "invalid YAML"),
    (CUSTOM.replace("title: Toil}", "title: Toil}\n  - {id: empty, title: Empty}"), 13, "layer 'empty' has no categories"),
    (CUSTOM.replace("dimensions:", "dimensions: &d").replace("layers:", "x: *d\nlayers:"), 6, "anchor"),
    (CUSTOM.replace("{id: pager, title: Pager}", "{id: pager, title: Pager, description: Paged, then called}"), 5,
     "unknown key 'then called' (a comma inside {...} ends a value: put text with commas in quotes)"),
    (CUSTOM.replace("{id: toil, title: Toil}", "{id: toil, titel: Toil}"), 12, "unknown key 'titel' (did you mean 'title'?)"),
    (CUSTOM.replace("    title: Operations\n", "    title: Operations\n    colour: red\n"), 11, "unknown key 'colour'"),
    (CUSTOM + "severity_levels: 3\n", 13, "unknown key 'severity_levels'"),
])
def test_bad_taxonomy_file_is_reported_with_position(tmp_path: Path, text, line, words):
    path = tmp_path / "taxonomy.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError) as exc:
        load_taxonomy(path, "schema/taxonomy.yml")
    diags = exc.value.diagnostics
    matching = [d for d in diags if words in d.message]
    assert matching, [d.text() for d in diags]
    assert matching[0].line == line and matching[0].path == "schema/taxonomy.yml"


def test_missing_taxonomy_file_stops_loading(kb):
    kb.write_config(taxonomy="schema/nope.yml")
    kb.add("a.md", incident_text())
    with pytest.raises(KnowledgeBaseError) as exc:
        kb.load()
    [d] = exc.value.diagnostics
    assert d.path == "schema/nope.yml" and "cannot read the taxonomy file" in d.message


def test_broken_taxonomy_is_a_knowledge_base_error(kb):
    (kb.root / "schema" / "taxonomy.yml").write_text("severities: [\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as exc:
        kb.load()
    assert exc.value.diagnostics[0].path == "schema/taxonomy.yml"
