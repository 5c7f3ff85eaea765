"""Incident templates: the shipped ones, and a knowledge base's own (`pmkb new --template`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from pmkb.cli import main

SHIPPED = ROOT / "incidents" / "_templates"
TRICKY_TITLE = 'Scores: "all low" # not a comment {{ not jinja }} - 100% <b>'
EPOCH_2025_06_15 = "1749988800"   # 2025-06-15 12:00 UTC


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_2025_06_15)


def cli(kb, *args: str):
    result = CliRunner().invoke(main, [*args, "-f", str(kb.root / "mkdocs.yml")])
    assert "Traceback" not in result.output
    return result


def new(kb, *args: str) -> Path:
    result = cli(kb, "new", *args)
    assert result.exit_code == 0, result.output
    path = kb.root / result.stdout.strip()
    assert path.is_file()
    return path


def with_shipped_templates(kb) -> None:
    shutil.copytree(SHIPPED, kb.root / "incidents" / "_templates")


def test_shipped_templates_exist():
    assert {p.stem for p in SHIPPED.glob("*.md")} >= {"ml", "platform"}


@pytest.mark.parametrize("name", ["ml", "platform"])
@pytest.mark.parametrize("severity", [None, "SEV1"])
def test_shipped_template_validates_as_a_draft(kb, name, severity):
    with_shipped_templates(kb)
    path = new(kb, TRICKY_TITLE, "--template", name, *(["--severity", severity] if severity else []))
    assert path == kb.root / "incidents" / "2025" / "inc-2025-001.md"
    result = cli(kb, "validate", "--strict")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""            # not even a warning
    (incident,) = kb.load().incidents
    assert incident.id == "INC-2025-001" and incident.title == TRICKY_TITLE
    assert incident.status == "draft" and incident.severity == (severity or "SEV4")
    assert incident.started.isoformat() == "2025-06-15T12:00:00+00:00"
    assert incident.timeline and incident.timeline[0].kind == "trigger"
    body = incident.source.body
    for heading in ("## Summary", "## Impact", "## Timeline", "## Root causes", "## Action items"):
        assert heading in body
    assert "blameless" in body.lower()     # the guidance for writing it is there


def test_ml_template_covers_the_three_dimensions(kb):
    with_shipped_templates(kb)
    new(kb, "Model drift", "--template", "ml")
    (incident,) = kb.load().incidents
    assert [d.id for d in incident.dimensions] == ["serving", "model", "data"]
    for heading in ("### Serving", "### Model quality", "### Data pipeline"):
        assert heading in incident.source.body


def test_templates_are_not_incidents(kb):
    with_shipped_templates(kb)
    loaded = kb.load()
    assert loaded.incidents == [] and loaded.diagnostics == []


def test_without_template_name_the_first_one_is_used(kb):
    with_shipped_templates(kb)
    path = new(kb, "Default template")
    assert "an ML incident" in path.read_text(encoding="utf-8")   # ml sorts before platform


CUSTOM = """\
---
# custom template of the risk team
id: {{ id }}
title: {{ title | yaml }}
status: draft
severity: {{ severity }}
started: {{ started }}
team: risk-ml
services: [fraud-scoring-api]
tags: [custom-{{ year }}]
x-created: "{{ today }}"
x-severities: "{{ severities | join(' ') }}"
---

## What the fraud model decided

Written on {{ today }}.
"""


def test_custom_template(kb):
    templates = kb.root / "incidents" / "_templates"
    templates.mkdir(parents=True)
    (templates / "custom.md").write_text(CUSTOM, encoding="utf-8")
    path = new(kb, TRICKY_TITLE, "--template", "custom", "--severity", "SEV2")
    text = path.read_text(encoding="utf-8")
    assert "# custom template of the risk team" in text and "Written on 2025-06-15." in text
    result = cli(kb, "validate", "--strict")
    assert result.exit_code == 0, result.output
    (incident,) = kb.load().incidents
    assert incident.title == TRICKY_TITLE and incident.team == "risk-ml" and incident.severity == "SEV2"
    assert incident.tags == ("custom-2025",)
    assert incident.front_matter["x-created"] == "2025-06-15"
    assert incident.front_matter["x-severities"] == "SEV1 SEV2 SEV3 SEV4"
    # the next one gets the next id
    assert new(kb, "Second", "--template", "custom").name == "inc-2025-002.md"


def test_unknown_template_names_the_available_ones(kb):
    templates = kb.root / "incidents" / "_templates"
    templates.mkdir(parents=True)
    (templates / "custom.md").write_text(CUSTOM, encoding="utf-8")
    result = cli(kb, "new", "x", "--template", "custon")
    assert result.exit_code == 2
    assert "custom" in result.stderr
    assert not (kb.root / "incidents" / "2025").exists()


def test_broken_custom_template_is_reported(kb):
    templates = kb.root / "incidents" / "_templates"
    templates.mkdir(parents=True)
    (templates / "broken.md").write_text("---\nid: {{ id }}\nowner: {{ owner }}\n---\n", encoding="utf-8")
    result = cli(kb, "new", "x", "--template", "broken")
    assert result.exit_code == 2 and "broken" in result.stderr
