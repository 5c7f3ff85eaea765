"""`pmkb validate` (SPEC section 8): formats, exit codes, settings, given files."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import incident_text
from pmkb.cli import main

TEXT_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning): (?P<message>.+)$")


def run(*args: str, cwd=None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.fixture
def broken_kb(kb):
    kb.add("2025/good.md", incident_text("INC-2025-001"))
    kb.add("2025/bad.md", incident_text("INC-2025-002", severity="SEV9", extra="sumary: typo"))
    kb.add("2025/warn.md", incident_text("INC-2025-003", extra="action_items:\n  - {title: t, type: process, owner: o, "
                                                               "due: 2025-07-01, status: done}"))
    return kb


# -- formats ------------------------------------------------------------------------------

def test_valid_knowledge_base_exits_0(kb, monkeypatch):
    kb.add("a.md", incident_text())
    result = run("validate", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "1 incident(s) valid; 0 error(s), 0 warning(s)" in result.stderr


def test_text_format_is_path_line_column_severity_message(broken_kb, monkeypatch):
    result = run("validate", cwd=broken_kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    parsed = [TEXT_LINE.match(line) for line in lines]
    assert all(parsed), lines
    got = [(m["path"], int(m["line"]), int(m["column"]), m["severity"]) for m in parsed]
    assert got == [("incidents/2025/bad.md", 5, 11, "error"), ("incidents/2025/bad.md", 7, 1, "error"),
                   ("incidents/2025/warn.md", 8, 5, "warning")]
    assert "SEV9" in parsed[0]["message"] and "did you mean 'summary'" in parsed[1]["message"]
    assert "2 incident(s) valid; 2 error(s), 1 warning(s)" in result.stderr  # good.md and warn.md


def test_json_format(broken_kb, monkeypatch):
    result = run("validate", "--format", "json", cwd=broken_kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == 3
    for item in data:
        assert set(item) == {"path", "line", "column", "severity", "message"}
        assert isinstance(item["line"], int) and isinstance(item["column"], int)
        assert item["line"] >= 1 and item["column"] >= 1 and item["severity"] in ("error", "warning")
    assert [(d["path"], d["line"], d["column"]) for d in data] == [
        ("incidents/2025/bad.md", 5, 11), ("incidents/2025/bad.md", 7, 1), ("incidents/2025/warn.md", 8, 5)]


def test_json_format_when_valid_is_an_empty_list(kb, monkeypatch):
    kb.add("a.md", incident_text())
    result = run("validate", "--format", "json", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_github_format(broken_kb, monkeypatch):
    result = run("validate", "--format", "github", cwd=broken_kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error file=incidents/2025/bad.md,line=5,col=11::severity: 'SEV9'")
    assert lines[2].startswith("::warning file=incidents/2025/warn.md,line=8,col=5::action_items[0] is done")


def test_github_format_escapes_paths_and_messages(kb, monkeypatch):
    kb.add("a,b:c.md", incident_text(severity="SEV%0"))
    result = run("validate", "--format", "github", cwd=kb.root, monkeypatch=monkeypatch)
    [line] = result.stdout.splitlines()
    assert line.startswith("::error file=incidents/a%2Cb%3Ac.md,line=5,col=11::")
    assert "'SEV%250'" in line


def test_unknown_format_is_a_usage_error(kb, monkeypatch):
    result = run("validate", "--format", "xml", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and "xml" in result.stderr


# -- exit codes ---------------------------------------------------------------------------

def test_strict_fails_on_warnings(kb, monkeypatch):
    kb.add("a.md", incident_text(status="final", extra="services: [api]\n"
                                                      "root_causes:\n  - {category: data/schema-change, description: d}"))
    assert run("validate", cwd=kb.root, monkeypatch=monkeypatch).exit_code == 0
    strict = run("validate", "--strict", cwd=kb.root, monkeypatch=monkeypatch)
    assert strict.exit_code == 1
    assert strict.stdout.count(": warning: ") == 3


def test_no_mkdocs_yml_exits_2(tmp_path, monkeypatch):
    result = run("validate", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 2
    assert "mkdocs.yml" in result.stderr and result.stdout == ""


def test_mkdocs_yml_without_the_plugin_exits_2(kb, monkeypatch):
    (kb.root / "mkdocs.yml").write_text("site_name: X\nplugins:\n  - search\n", encoding="utf-8")
    result = run("validate", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and "postmortems" in result.stderr


def test_mkdocs_yml_with_plugins_as_a_mapping_and_env_tags(kb, monkeypatch):
    (kb.root / "mkdocs.yml").write_text("site_name: !ENV [SITE, X]\nplugins:\n  search: {}\n  postmortems:\n"
                                        "    timezone: Europe/Berlin\n", encoding="utf-8")
    kb.add("a.md", incident_text())
    result = run("validate", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("options, words", [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "Europe/Berln"}, "IANA"),
    ({"recurrence_window_days": -1}, "recurrence_window_days"),
    ({"related_limit": "many"}, "related_limit"),
])
def test_bad_settings_exit_2(kb, monkeypatch, options, words):
    kb.write_config(**options)
    kb.add("a.md", incident_text())
    result = run("validate", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and words in result.stderr


def test_invalid_mkdocs_yml_exits_2(kb, monkeypatch):
    (kb.root / "mkdocs.yml").write_text("plugins: [\n", encoding="utf-8")
    result = run("validate", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and "not valid YAML" in result.stderr


def test_missing_given_file_exits_2(kb, monkeypatch):
    result = run("validate", "incidents/nope.md", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_missing_incidents_folder_is_reported_not_a_crash(kb, monkeypatch):
    kb.write_config(incidents_dir="postmortems")
    result = run("validate", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 2  # could not run: there is nothing to validate
    assert result.stdout.startswith("postmortems:1:1: error: the incidents folder does not exist")


def test_broken_taxonomy_is_reported_with_its_position(kb, monkeypatch):
    (kb.root / "schema" / "taxonomy.yml").write_text("severities: []\n", encoding="utf-8")
    result = run("validate", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code != 0
    assert "schema/taxonomy.yml:1:" in result.stdout and "'severities' must be a non-empty list" in result.stdout


# -- -f / --config-file -------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["-f", "--config-file"])
def test_config_file_option_from_another_folder(broken_kb, tmp_path, monkeypatch, flag):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run("validate", flag, str(broken_kb.root / "mkdocs.yml"), "--format", "json", cwd=elsewhere,
                 monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert {d["path"] for d in json.loads(result.stdout)} == {"incidents/2025/bad.md", "incidents/2025/warn.md"}


def test_config_file_settings_are_relative_to_it(kb, tmp_path, monkeypatch):
    (kb.root / "incidents").rename(kb.root / "pm")
    (kb.root / "pm" / "a.md").write_text(incident_text(started="2025-06-01 10:00"), encoding="utf-8")
    cfg = kb.write_config(incidents_dir="pm", timezone="Europe/Berlin")
    monkeypatch.chdir(tmp_path)
    result = run("validate", "-f", str(cfg))
    assert result.exit_code == 0 and "1 incident(s) valid" in result.stderr


def test_missing_config_file_exits_2(tmp_path, monkeypatch):
    result = run("validate", "-f", str(tmp_path / "nope.yml"), cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and "nope.yml" in result.stderr


# -- given files --------------------------------------------------------------------------

def test_given_files_only_get_their_own_diagnostics(broken_kb, monkeypatch):
    result = run("validate", "incidents/2025/good.md", cwd=broken_kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 0 and result.stdout == ""
    result = run("validate", "incidents/2025/warn.md", "--format", "json", cwd=broken_kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 0
    assert [d["path"] for d in json.loads(result.stdout)] == ["incidents/2025/warn.md"]
    result = run("validate", "incidents/2025/warn.md", "--strict", cwd=broken_kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 1


def test_given_file_is_checked_against_the_whole_knowledge_base(kb, monkeypatch):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    kb.add("2025/b.md", incident_text("INC-2025-002", severity="SEV9"))  # broken, but not given
    kb.add("2025/c.md", incident_text("INC-2025-001", extra="related: [INC-2025-002, INC-2025-099]"))
    result = run("validate", "--format", "json", "incidents/2025/c.md", cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert {d["path"] for d in data} == {"incidents/2025/c.md"}
    messages = " | ".join(d["message"] for d in data)
    assert "already used by incidents/2025/a.md" in messages
    # INC-2025-002 exists (broken, but it exists): only the unknown id is a dangling link
    assert "no incident has the id 'INC-2025-099'" in messages and "no incident has the id 'INC-2025-002'" not in messages


def test_new_file_outside_the_incidents_folder_is_validated_against_the_knowledge_base(kb, tmp_path, monkeypatch):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    draft = tmp_path / "draft.md"
    draft.write_text(incident_text("INC-2025-001", extra="related: [INC-2025-001]"), encoding="utf-8")
    ok = tmp_path / "ok.md"
    ok.write_text(incident_text("INC-2025-002", extra="related: [INC-2025-001]"), encoding="utf-8")
    result = run("validate", "--format", "json", str(draft), str(ok), cwd=kb.root, monkeypatch=monkeypatch)
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert {d["path"] for d in data} == {str(draft)}
    messages = [d["message"] for d in data]
    assert any("already used by incidents/2025/a.md" in m for m in messages)
    assert any("related to itself" in m for m in messages)
    # A valid new file passes on its own, and the knowledge base does not count it twice.
    result = run("validate", str(ok), cwd=kb.root, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output


def test_several_given_files(broken_kb, monkeypatch):
    result = run("validate", "--format", "json", "incidents/2025/bad.md", "incidents/2025/good.md",
                 cwd=broken_kb.root, monkeypatch=monkeypatch)
    assert {d["path"] for d in json.loads(result.stdout)} == {"incidents/2025/bad.md"}
    assert result.exit_code == 1


# -- the installed command ----------------------------------------------------------------

def test_entry_point_runs_as_a_process(broken_kb):
    proc = subprocess.run([sys.executable, "-m", "pmkb.cli", "validate", "--format", "json"], cwd=broken_kb.root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert len(json.loads(proc.stdout)) == 3
    assert "Traceback" not in proc.stderr
