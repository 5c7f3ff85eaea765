"""The pre-commit hook: its definition, and its command run the way pre-commit runs it.

pre-commit itself is not a dependency: the hook is run here as pre-commit would run it
(the `entry` plus `args`, without file names, from the repository root), and
pre-commit's own checks of the two files run only where pre-commit happens to be
installed.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import KB, ROOT, incident_text

HOOKS = ROOT / ".pre-commit-hooks.yaml"
CONFIG = ROOT / ".pre-commit-config.yaml"


def hook() -> dict:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    (found,) = [h for h in hooks if h.get("id") == "pmkb-validate"]
    return found


def test_hook_definition():
    h = hook()
    assert h["language"] == "python"
    assert h["pass_filenames"] is False          # cross-file checks need the whole knowledge base
    assert shlex.split(h["entry"])[:2] == ["pmkb", "validate"]
    assert h["name"]


@pytest.mark.parametrize("path, runs", [
    ("incidents/2025/inc-2025-001.md", True),
    ("incidents/2025/whiteboard.png", True),
    ("incidents/_templates/ml.md", True),
    ("kb/incidents/2025/inc-2025-001.md", True),
    ("schema/taxonomy.yml", True),
    ("mkdocs.yml", True),
    ("kb/mkdocs.yml", True),
    ("docs/index.md", False),
    ("plugins/pmkb/cli/commands.py", False),
    ("README.md", False),
    ("schema/incident.schema.json", False),
])
def test_hook_files_pattern(path, runs):
    # pre-commit matches `files` with re.search against the path from the repository root
    assert bool(re.search(hook()["files"], path)) is runs


def test_own_config_uses_the_hook():
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    (own,) = [h for h in hooks if h["id"] == "pmkb-validate"]
    defined = hook()
    # a local hook repeats the definition: it must not drift from what others get
    assert own.get("entry", defined["entry"]) == defined["entry"]
    assert own.get("files", defined["files"]) == defined["files"]
    assert own.get("pass_filenames", defined["pass_filenames"]) is False


def pmkb_command(entry: str) -> list[str]:
    """The entry as a command line, with `pmkb` found next to this Python when not on PATH."""
    words = shlex.split(entry)
    if words[0] == "pmkb" and shutil.which("pmkb") is None:
        script = Path(sys.executable).parent / "pmkb"
        words[:1] = [str(script)] if script.exists() else [sys.executable, "-m", "pmkb.cli"]
    return words


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(repo), "PATH": "/usr/bin:/bin"})


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_hook_fails_on_an_invalid_incident(tmp_path):
    repo = tmp_path / "repo"
    kb = KB(repo)
    git(repo, "init", "-q")
    kb.add("2025/inc-2025-001.md", incident_text("INC-2025-001"))
    bad = incident_text("INC-2025-002", severity="SEV9")
    kb.add("2025/inc-2025-002.md", bad)
    git(repo, "add", "-A")
    h = hook()
    command = pmkb_command(h["entry"]) + list(h.get("args", []))
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    line = bad.splitlines().index("severity: SEV9") + 1
    assert re.search(rf"^incidents/2025/inc-2025-002\.md:{line}:\d+: error: severity: 'SEV9'", result.stdout, re.M)
    assert "inc-2025-001" not in result.stdout
    assert "Traceback" not in result.stderr

    kb.add("2025/inc-2025-002.md", incident_text("INC-2025-002", severity="SEV2"))
    fixed = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=120)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_hook_sees_cross_file_problems(tmp_path):
    # Only one file is staged, but the duplicate id is found: the reason for pass_filenames: false.
    repo = tmp_path / "repo"
    kb = KB(repo)
    git(repo, "init", "-q")
    kb.add("2024/old.md", incident_text("INC-2025-001", started="2024-06-01 10:00"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "old")
    kb.add("2025/new.md", incident_text("INC-2025-001"))
    git(repo, "add", "-A")
    result = subprocess.run(pmkb_command(hook()["entry"]), cwd=repo, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "incidents/2025/new.md:2:1: error: id 'INC-2025-001' is already used" in result.stdout


pre_commit = shutil.which("pre-commit") or (str(Path(sys.executable).parent / "pre-commit")
                                             if (Path(sys.executable).parent / "pre-commit").exists() else None)


@pytest.mark.skipif(pre_commit is None, reason="pre-commit is not installed (not a dependency)")
def test_pre_commit_accepts_both_files():
    for command, path in (("validate-manifest", HOOKS), ("validate-config", CONFIG)):
        result = subprocess.run([pre_commit, command, str(path)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
