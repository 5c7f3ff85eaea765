"""`pmkb new` (SPEC section 8): next free id, --id and --severity checks, and a written
file that validates as a draft straight away."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import incident_text
from pmkb.cli import main
from pmkb.cli.newincident import next_id

EPOCH_2025_06_15 = "1749988800"       # 2025-06-15T12:00:00Z
EPOCH_2025_12_31_2330 = "1767223800"  # 2025-12-31T23:30:00Z: already 2026 in Berlin

SECTIONS = ("## Summary", "## Impact", "## What the model (or system) was supposed to do", "## Timeline",
            "## Diagnosis by failure dimension", "## Root causes", "## What went well", "## Action items",
            "## Lessons learned")


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_2025_06_15)


def cli(kb, *args: str):
    result = CliRunner().invoke(main, [args[0], "-f", str(kb.root / "mkdocs.yml"), *args[1:]])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def new(kb, *args: str) -> Path:
    result = cli(kb, "new", *args)
    assert result.exit_code == 0, result.output
    path = kb.root / result.stdout.strip()
    assert path.is_file(), result.stdout
    return path


# -- ids ----------------------------------------------------------------------------------

def test_first_incident_of_the_year(kb):
    path = new(kb, "First")
    assert path == kb.root / "incidents" / "2025" / "inc-2025-001.md"
    assert cli(kb, "new", "x").stdout.strip() == "incidents/2025/inc-2025-002.md"


def test_next_free_id_follows_the_highest_of_the_year(kb):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    kb.add("old/b.md", incident_text("INC-2025-007"))          # any folder counts
    kb.add("2024/c.md", incident_text("INC-2024-042"))         # another year does not
    kb.add("2025/d.md", incident_text("OPS-2025-900"))         # another prefix does not
    kb.add("2025/_draft.md", incident_text("INC-2025-500"))   # excluded files are not incidents
    path = new(kb, "Next")
    assert path.name == "inc-2025-008.md"
    assert "id: INC-2025-008" in path.read_text(encoding="utf-8")


def test_year_is_that_of_the_knowledge_base_time_zone(kb, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_2025_12_31_2330)
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    assert new(kb, "UTC year").name == "inc-2025-002.md"
    kb.write_config(timezone="Europe/Berlin")
    path = new(kb, "Berlin year")
    assert path == kb.root / "incidents" / "2026" / "inc-2026-001.md"
    assert "started: 2026-01-01 00:30" in path.read_text(encoding="utf-8")


def test_next_id_unit():
    assert next_id(set(), 2025) == "INC-2025-001"
    assert next_id({"INC-2025-009", "INC-2025-010", "INC-2025-X1"}, 2025) == "INC-2025-011"
    assert next_id({"INC-2025-999"}, 2025) == "INC-2025-1000"


def test_explicit_id(kb):
    path = new(kb, "Custom", "--id", "OPS-2025-Q2-7")
    assert path == kb.root / "incidents" / "2025" / "ops-2025-q2-7.md"
    assert cli(kb, "validate", "--strict").exit_code == 0


@pytest.mark.parametrize("bad", ["inc-2025-001", "INC", "INC_1", "INC-" + "1" * 37, "-INC-1"])
def test_invalid_explicit_id(kb, bad):
    result = cli(kb, "new", "T", "--id", bad)
    assert result.exit_code == 2
    assert "is not a valid id" in result.stderr and "INC-2025-014" in result.stderr
    assert not list((kb.root / "incidents").rglob("*.md"))


def test_explicit_id_collision(kb):
    kb.add("2024/x.md", incident_text("INC-2025-003"))
    result = cli(kb, "new", "T", "--id", "INC-2025-003")
    assert result.exit_code == 2 and "'INC-2025-003' is already used" in result.stderr


def test_existing_target_file_is_not_overwritten(kb):
    target = kb.add("2025/inc-2025-001.md", "not an incident, but mine\n")
    result = cli(kb, "new", "T")
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert target.read_text(encoding="utf-8") == "not an incident, but mine\n"


# -- severity and title -------------------------------------------------------------------

def test_default_severity_is_the_least_severe(kb):
    new(kb, "T")
    [inc] = kb.load().incidents
    assert inc.severity == "SEV4"


def test_severity_option(kb):
    new(kb, "T", "--severity", "SEV1")
    [inc] = kb.load().incidents
    assert inc.severity == "SEV1"


@pytest.mark.parametrize("bad, hint", [("sev1", "SEV1"), ("SEV0", None), ("critical", None)])
def test_unknown_severity_with_did_you_mean(kb, bad, hint):
    result = cli(kb, "new", "T", "--severity", bad)
    assert result.exit_code == 2
    assert f"'{bad}' is not a severity of the taxonomy" in result.stderr and "valid: SEV1, SEV2, SEV3, SEV4" in result.stderr
    if hint:
        assert f"did you mean '{hint}'" in result.stderr


@pytest.mark.parametrize("title", ["", "   ", "t" * 201])
def test_bad_titles_exit_2(kb, title):
    result = cli(kb, "new", title)
    assert result.exit_code == 2 and result.stderr.startswith("pmkb: ")


TITLES = [
    'He said "no": stop',
    "It's broken: again",
    "<script>alert('x')</script> & <b>bold</b>",
    "- leading dash",
    "# not a comment",
    "key: value, [list], {map}",
    "yes",
    "3.10",
    "null",
    "%TAG ! tag:x",
    "{{ id }} {% raw %}",
    "back\\slash and tab\t",
    "Émojis 🔥 and ünïcödé",
    "line\u2028separator and NEL\x85",
    "t" * 200,
]


@pytest.mark.parametrize("title", TITLES)
def test_titles_round_trip_exactly(kb, title):
    new(kb, "--", title)
    [inc] = kb.load().incidents
    assert inc.title == title


# -- the written file ---------------------------------------------------------------------

def test_written_file_validates_as_a_draft_straight_away(kb):
    path = new(kb, "Fraud scores collapsed", "--severity", "SEV2")
    result = cli(kb, "validate", "--strict", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    [inc] = kb.load().incidents
    assert (inc.id, inc.title, inc.status, inc.severity) == ("INC-2025-001", "Fraud scores collapsed", "draft", "SEV2")
    assert inc.started.isoformat() == "2025-06-15T12:00:00+00:00"
    assert inc.source.path == "2025/inc-2025-001.md"
    assert inc.timeline and inc.timeline[0].at == inc.started
    assert {d.id for d in inc.dimensions} == {"serving", "model", "data"}
    assert path.read_text(encoding="utf-8").startswith("---\n")


def test_written_file_has_the_sections(kb):
    new(kb, "T")
    [inc] = kb.load().incidents
    body = inc.source.body
    positions = [body.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    diagnosis = body.split("## Diagnosis by failure dimension")[1].split("## Root causes")[0]
    for dim in ("### Serving infrastructure", "### Model quality", "### Data pipeline"):  # one per taxonomy dimension
        assert dim in diagnosis
    assert "endpoints, containers, autoscaling, latency, availability." in diagnosis


def test_written_file_follows_a_replaced_taxonomy(kb):
    (kb.root / "schema" / "mine.yml").write_text(
        "severities:\n  - {id: P0, title: Page}\n  - {id: P1, title: Ticket}\n"
        "detection_sources:\n  - {id: pager, title: Pager}\n"
        "dimensions:\n  - {id: infra, title: Infrastructure, description: Machines and networks.}\n"
        "  - {id: 'odd: id', title: Odd}\n"
        "layers:\n  - id: ops\n    title: Ops\n    categories:\n      - {id: toil, title: Toil}\n", encoding="utf-8")
    kb.write_config(taxonomy="schema/mine.yml")
    new(kb, "T")
    assert cli(kb, "validate", "--strict").exit_code == 0
    [inc] = kb.load().incidents
    assert inc.severity == "P1"
    assert [d.id for d in inc.dimensions] == ["infra", "odd: id"]
    assert "### Infrastructure\n\nMachines and networks." in inc.source.body


def test_naive_started_in_the_knowledge_base_time_zone(kb):
    kb.write_config(timezone="America/New_York")
    path = new(kb, "T")
    assert "started: 2025-06-15 08:00" in path.read_text(encoding="utf-8")
    [inc] = kb.load().incidents
    assert inc.started.isoformat() == "2025-06-15T12:00:00+00:00"


def test_templates_folder_and_template_option(kb):
    templates = kb.root / "incidents" / "_templates"
    templates.mkdir()
    (templates / "short.md").write_text("---\nid: {{ id }}\ntitle: {{ title | yaml }}\nstatus: draft\n"
                                        "severity: {{ severity }}\nstarted: {{ started }}\n---\n\nShort one.\n",
                                        encoding="utf-8")
    path = new(kb, "From template")
    assert path.read_text(encoding="utf-8").endswith("Short one.\n")
    result = cli(kb, "new", "T", "--template", "shrot")
    assert result.exit_code == 2 and "did you mean 'short'" in result.stderr
    assert cli(kb, "validate", "--strict").exit_code == 0


def test_broken_template_exits_2(kb):
    templates = kb.root / "incidents" / "_templates"
    templates.mkdir()
    (templates / "bad.md").write_text("---\nid: {{ id }\n---\n", encoding="utf-8")
    result = cli(kb, "new", "T", "--template", "bad")
    assert result.exit_code == 2 and "is broken" in result.stderr


def test_new_without_config_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new", "T"])
    assert result.exit_code == 2 and "mkdocs.yml" in result.stderr
