"""`pmkb similar`: ranking, reasons, lenient reading of drafts, and the command line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import incident_text
from pmkb.cli import main
from pmkb.knowledge.similar import KIND_WEIGHTS, IncidentLike, rarity, read_incident_like, similar

# A knowledge base with known overlaps against DRAFT below:
#   001 shares everything; 002 the rare category (2 incidents have it); 003 and 004 the
#   common one (3 have it; 004 is newer); 005 only the model; 006 only the service;
#   007 nothing.
PAST = {
    "INC-2025-001": ("2025-01-10 10:00", """
        services: [fraud-api]
        models: [{name: fraud-gbm, version: "7.1"}]
        root_causes:
          - {category: data/schema-change, description: a}
          - {category: monitoring/missing-alert, description: b}
        """),
    "INC-2025-002": ("2025-02-01 10:00", """
        services: [feature-pipeline]
        root_causes: [{category: data/schema-change, description: a}]
        """),
    "INC-2025-003": ("2025-03-01 10:00", "root_causes: [{category: monitoring/missing-alert, description: b}]"),
    "INC-2025-004": ("2025-04-01 10:00", "root_causes: [{category: monitoring/missing-alert, description: b}]"),
    "INC-2025-005": ("2025-05-01 10:00", 'models: [{name: fraud-gbm, version: "6.0"}]'),
    "INC-2025-006": ("2025-05-02 10:00", "services: [fraud-api]"),
    "INC-2025-007": ("2025-06-01 10:00", """
        services: [search-api]
        models: [{name: ranker, version: "1"}]
        root_causes: [{category: infrastructure/capacity, description: c}]
        """),
}
EXPECTED_ORDER = ["INC-2025-001", "INC-2025-002", "INC-2025-004", "INC-2025-003", "INC-2025-005", "INC-2025-006"]

DRAFT = """\
---
id: INC-2025-100
title: Scores collapsed again
status: draft
severity: SEV2
started: 2025-07-01 09:00
services: [fraud-api]
models:
  - {name: fraud-gbm, version: "7.2"}
root_causes:
  - {category: data/schema-change, description: renamed field}
  - {category: monitoring/missing-alert, description: no null-rate alert}
related: [INC-2025-003]
---
Body.
"""


@pytest.fixture
def past(kb):
    for i, (iid, (started, extra)) in enumerate(PAST.items()):
        kb.add(f"2025/{iid.lower()}.md", incident_text(iid, title=f"Incident {i + 1}", started=started,
                                                      extra=textwrap.dedent(extra)))
    assert not kb.load().diagnostics
    return kb


def run(kb, *args: str):
    result = CliRunner().invoke(main, ["similar", *args, "-f", str(kb.root / "mkdocs.yml")])
    assert "Traceback" not in result.output
    return result


def draft_file(tmp_path: Path, text: str = DRAFT) -> Path:
    path = tmp_path / "elsewhere" / "draft.md"   # not inside the knowledge base
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_ranking_and_reasons(past, tmp_path):
    matches = similar(past.load(), read_incident_like(draft_file(tmp_path).read_bytes()), limit=None)
    assert [m.incident.id for m in matches] == EXPECTED_ORDER
    by_id = {m.incident.id: m for m in matches}
    assert by_id["INC-2025-001"].matched == {"categories": ("data/schema-change", "monitoring/missing-alert"),
                                             "models": ("fraud-gbm",), "services": ("fraud-api",)}
    assert by_id["INC-2025-002"].matched == {"categories": ("data/schema-change",)}
    assert by_id["INC-2025-005"].matched == {"models": ("fraud-gbm",)}
    assert by_id["INC-2025-006"].matched == {"services": ("fraud-api",)}
    assert by_id["INC-2025-006"].reasons() == "services: fraud-api"
    # 003 and 004 share exactly the same thing: equal scores, the newer one first
    assert by_id["INC-2025-003"].score == by_id["INC-2025-004"].score
    assert by_id["INC-2025-002"].score > by_id["INC-2025-004"].score   # the rarer category weighs more
    assert by_id["INC-2025-003"].already_related and not by_id["INC-2025-004"].already_related
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)


def test_limit(past, tmp_path):
    matches = similar(past.load(), read_incident_like(draft_file(tmp_path).read_bytes()), limit=2)
    assert [m.incident.id for m in matches] == EXPECTED_ORDER[:2]


def test_kinds_keep_their_order_whatever_the_rarity():
    # One shared category, however common, outranks one shared model, however rare, and
    # likewise models over services: the rarity bonus at most doubles a kind's weight.
    assert rarity(10, 10) == 0.0 and rarity(1, 10) == 1.0
    assert 0 < rarity(3, 10) < rarity(2, 10) < 1
    assert KIND_WEIGHTS["categories"] * 1 > KIND_WEIGHTS["models"] * 2
    assert KIND_WEIGHTS["models"] * 1 > KIND_WEIGHTS["services"] * 2


def test_common_category_beats_rare_model(kb):
    for n in range(1, 5):
        kb.add(f"c{n}.md", incident_text(f"INC-2025-00{n}", started=f"2025-01-0{n} 10:00",
                                         extra="root_causes: [{category: monitoring/missing-alert, description: x}]"))
    kb.add("m.md", incident_text("INC-2025-009", started="2025-02-01 10:00", extra='models: [{name: rare, version: "1"}]'))
    draft = IncidentLike(categories=("monitoring/missing-alert",), models=("rare",))
    ids = [m.incident.id for m in similar(kb.load(), draft, limit=None)]
    assert ids == ["INC-2025-004", "INC-2025-003", "INC-2025-002", "INC-2025-001", "INC-2025-009"]


def test_cli_text(past, tmp_path):
    result = run(past, str(draft_file(tmp_path)), "--limit", "0")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == EXPECTED_ORDER
    assert lines[0].endswith("[categories: data/schema-change, monitoring/missing-alert; models: fraud-gbm; services: fraud-api]")
    assert "Incident 2" in lines[1] and lines[1].endswith("[categories: data/schema-change]")
    assert lines[3].endswith("[categories: monitoring/missing-alert] (already related)")
    scores = [float(line.split()[1]) for line in lines]
    assert scores == sorted(scores, reverse=True)


def test_cli_json(past, tmp_path):
    result = run(past, str(draft_file(tmp_path)), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["id"] for d in data] == EXPECTED_ORDER
    first = data[0]
    assert first["title"] == "Incident 1" and first["url"] == "incidents/inc-2025-001/"
    assert first["matched"] == {"categories": ["data/schema-change", "monitoring/missing-alert"],
                                "models": ["fraud-gbm"], "services": ["fraud-api"]}
    assert data[-1]["matched"] == {"categories": [], "models": [], "services": ["fraud-api"]}
    assert all(isinstance(d["score"], (int, float)) for d in data)


def test_excludes_itself_when_inside_the_knowledge_base(past):
    # An existing incident asks for its own neighbours: it must not list itself.
    path = past.root / "incidents" / "2025" / "inc-2025-001.md"
    data = json.loads(run(past, str(path), "--format", "json").stdout)
    ids = [d["id"] for d in data]
    assert "INC-2025-001" not in ids
    assert ids[:2] == ["INC-2025-002", "INC-2025-004"]


def test_same_id_elsewhere_is_excluded(past, tmp_path):
    path = draft_file(tmp_path, DRAFT.replace("INC-2025-100", "INC-2025-002"))
    ids = [d["id"] for d in json.loads(run(past, str(path), "--format", "json").stdout)]
    assert ids == [i for i in EXPECTED_ORDER if i != "INC-2025-002"]


def test_invalid_draft_is_read_as_far_as_possible(past, tmp_path):
    # unknown key, a bad severity, no started, and a YAML syntax error at the end
    text = """\
---
id: INC-2025-100
severity: SEV9
colour: red
models: [{name: fraud-gbm}]
root_causes:
  - {category: data/schema-change}
  - category: [unclosed
---
"""
    result = run(past, str(draft_file(tmp_path, text)))
    assert result.exit_code == 0, result.output
    ids = [line.split()[0] for line in result.stdout.splitlines()]
    assert ids == ["INC-2025-001", "INC-2025-002", "INC-2025-005"]
    assert "only the fields above it were read" in result.stderr


def test_unclosed_front_matter_and_bare_categories(past, tmp_path):
    text = "---\nid: INC-2025-100\nservices: fraud-api\nroot_causes: [data/schema-change]\n\n## Summary\n\nHalf written.\n"
    result = run(past, str(draft_file(tmp_path, text)), "--format", "json")
    assert result.exit_code == 0, result.output
    assert [d["id"] for d in json.loads(result.stdout)] == ["INC-2025-001", "INC-2025-002", "INC-2025-006"]
    assert "not closed" in result.stderr


def test_no_overlap_is_success(past, tmp_path):
    text = DRAFT.replace("fraud-api", "other").replace("fraud-gbm", "other-model") \
        .replace("data/schema-change", "model/bad-threshold").replace("monitoring/missing-alert", "process/knowledge-silo")
    path = draft_file(tmp_path, text)
    result = run(past, str(path))
    assert result.exit_code == 0 and result.stdout == ""
    assert "no incident shares" in result.stderr
    result = run(past, str(path), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_draft_naming_nothing_yet(past, tmp_path):
    result = run(past, str(draft_file(tmp_path, "---\nid: INC-2025-100\ntitle: New\n---\n")))
    assert result.exit_code == 0 and result.stdout == ""
    assert "names no root-cause categories" in result.stderr


def test_unknown_category_is_noted(past, tmp_path):
    result = run(past, str(draft_file(tmp_path, DRAFT.replace("data/schema-change", "data/shema-change"))))
    assert result.exit_code == 0
    assert "data/shema-change" in result.stderr
    assert "data/schema-change" not in result.stdout.splitlines()[0]


@pytest.mark.parametrize("case", ["missing", "no-front-matter", "not-utf8", "no-config", "no-incidents"])
def test_could_not_run(past, tmp_path, case):
    path = draft_file(tmp_path)
    config = past.root / "mkdocs.yml"
    if case == "missing":
        path = tmp_path / "nope.md"
    elif case == "no-front-matter":
        path.write_text("# Just a heading\n", encoding="utf-8")
    elif case == "not-utf8":
        path.write_bytes(b"---\nid: \xff\n---\n")
    elif case == "no-config":
        config = tmp_path / "missing.yml"
    elif case == "no-incidents":
        (past.root / "incidents").rename(past.root / "gone")
    result = CliRunner().invoke(main, ["similar", str(path), "-f", str(config)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("pmkb: ") and "Traceback" not in result.output
