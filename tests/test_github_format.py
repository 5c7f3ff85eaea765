"""GitHub: `pmkb validate --format github` annotations, and the ready-to-copy workflows.

Annotations are workflow commands, one per diagnostic.
GitHub's rules: in the message, `%`, CR and LF are written %25, %0D, %0A; in a property
value (the file name) also `:` and `,` as %3A and %2C, since they delimit properties.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from conftest import ROOT, incident_text
from pmkb.cli import main

COMMAND = re.compile(r"^::(error|warning) (file=[^,]*,line=\d+,col=\d+)::(.*)$")


def unescape(value: str) -> str:
    # %25 last: an escaped '%' followed by '0A' must stay literal text
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(code, char)
    return value


def validate(kb, *args: str):
    result = CliRunner().invoke(main, ["validate", *args, "-f", str(kb.root / "mkdocs.yml")])
    assert "Traceback" not in result.output
    return result


def annotations(stdout: str) -> list[dict]:
    out = []
    for line in stdout.splitlines():
        m = COMMAND.match(line)
        assert m, f"not a workflow command: {line!r}"
        props = dict(p.split("=", 1) for p in m.group(2).split(","))
        out.append({"path": unescape(props["file"]), "line": int(props["line"]), "column": int(props["col"]),
                    "severity": m.group(1), "message": unescape(m.group(3)), "raw_file": props["file"],
                    "raw_message": m.group(3)})
    return out


def test_error_annotation_position_and_escaping(kb):
    text = incident_text("INC-2025-001").replace("severity: SEV3", 'severity: "50%\\r\\nSEV"')
    kb.add("a,b:c/100%/inc-1.md", text)
    result = validate(kb, "--format", "github")
    assert result.exit_code == 1
    (ann,) = annotations(result.stdout)
    assert ann["severity"] == "error"
    assert ann["raw_file"] == "incidents/a%2Cb%3Ac/100%25/inc-1.md"
    assert ann["path"] == "incidents/a,b:c/100%/inc-1.md"
    line = text.splitlines().index('severity: "50%\\r\\nSEV"') + 1
    assert (ann["line"], ann["column"]) == (line, len("severity: ") + 1)
    assert "50%25%0D%0ASEV" in ann["raw_message"]
    assert "\r" not in result.stdout and result.stdout.count("\n") == 1
    assert "50%\r\nSEV" in ann["message"]


def test_same_diagnostics_as_json(kb):
    kb.add("2025/one.md", incident_text("INC-2025-001", severity="SEV9", extra="colour: red\nrelated: [INC-2099-001]"))
    kb.add("2025/two.md", incident_text("INC-2025-002", status="final",
                                        extra="root_causes: [{category: data/schema-change, description: x}]"))
    expected = json.loads(validate(kb, "--format", "json").stdout)
    result = validate(kb, "--format", "github")
    got = [{k: a[k] for k in ("path", "line", "column", "severity", "message")} for a in annotations(result.stdout)]
    assert got == expected
    assert {a["severity"] for a in got} == {"error", "warning"}
    assert result.exit_code == 1


def test_warning_annotation_and_exit_codes(kb):
    kb.add("w.md", incident_text("INC-2025-001", status="final",
                                 extra="root_causes: [{category: data/schema-change, description: x}]"))
    result = validate(kb, "--format", "github")
    anns = annotations(result.stdout)
    assert result.exit_code == 0 and anns and all(a["severity"] == "warning" for a in anns)
    # a missing key is reported at the opening ---
    assert all((a["path"], a["line"], a["column"]) == ("incidents/w.md", 1, 1) for a in anns)
    assert any("'summary'" in a["message"] for a in anns)
    assert validate(kb, "--format", "github", "--strict").exit_code == 1


def test_valid_knowledge_base_prints_nothing(kb):
    kb.add("ok.md", incident_text("INC-2025-001"))
    result = validate(kb, "--format", "github")
    assert result.exit_code == 0 and result.stdout == ""


@pytest.mark.parametrize("message, escaped", [("100% done", "100%25 done"), ("a\nb", "a%0Ab"), ("%0A", "%250A")])
def test_message_escaping_round_trips(kb, message, escaped):
    # text values of the front matter reach the message verbatim (quoted in it)
    kb.add("x.md", incident_text("INC-2025-001").replace("severity: SEV3", f"severity: {json.dumps(message)}"))
    (ann,) = annotations(validate(kb, "--format", "github").stdout)
    assert escaped in ann["raw_message"] and message in ann["message"]


# -- the ready-to-copy workflows ------------------------------------------------------------

WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 (PyYAML) reads the key `on` as True; GitHub reads it as "on"
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(data: dict) -> list[dict]:
    return [s for job in data["jobs"].values() for s in job.get("steps", [])]


def runs(data: dict) -> list[str]:
    return [line.strip() for s in steps(data) for line in s.get("run", "").splitlines() if line.strip()]


def uses(data: dict) -> list[str]:
    return [s["uses"].split("@")[0] for s in steps(data) if "uses" in s]


def test_validate_workflow():
    data = workflow("validate.yml")
    assert "pull_request" in data["on"]
    commands = runs(data)
    install = next(i for i, c in enumerate(commands) if "pip install" in c)
    check = next(i for i, c in enumerate(commands) if c.startswith("pmkb validate"))
    assert install < check
    assert "--format github" in commands[check]
    assert "actions/checkout" in uses(data) and "actions/setup-python" in uses(data)
    assert data["permissions"] == {"contents": "read"}


def test_publish_workflow():
    data = workflow("publish.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    assert "mkdocs build --strict" in runs(data)
    assert {"actions/upload-pages-artifact", "actions/deploy-pages"} <= set(uses(data))
    upload = next(s for s in steps(data) if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "site"       # mkdocs' site_dir
    assert data["permissions"]["pages"] == "write" and data["permissions"]["id-token"] == "write"
    deploy = next(j for j in data["jobs"].values() if any(s.get("uses", "").startswith("actions/deploy-pages")
                                                          for s in j["steps"]))
    assert deploy["environment"]["name"] == "github-pages"
    assert "build" in (deploy["needs"] if isinstance(deploy["needs"], list) else [deploy["needs"]])
