"""Shared fixtures: a throw-away knowledge base in a temporary folder."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def incident_text(id: str = "INC-2025-001", *, title: str = "Something broke", status: str = "draft",
                  severity: str = "SEV3", started: str = "2025-06-01 10:00", extra: str = "", body: str = "Body.\n") -> str:
    """A minimal valid incident; `extra` is more front-matter YAML, dedented."""
    front = f"id: {id}\ntitle: {title!r}\nstatus: {status}\nseverity: {severity}\nstarted: {started}\n"
    return f"---\n{front}{textwrap.dedent(extra).strip()}\n---\n{body}" if extra.strip() else f"---\n{front}---\n{body}"


class KB:
    """A knowledge base on disk: mkdocs.yml, the shipped taxonomy, incidents/ and docs/."""

    def __init__(self, root: Path):
        self.root = root
        (root / "incidents").mkdir(parents=True, exist_ok=True)
        (root / "schema").mkdir(exist_ok=True)
        (root / "docs").mkdir(exist_ok=True)
        shutil.copy(ROOT / "schema" / "taxonomy.yml", root / "schema" / "taxonomy.yml")
        (root / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
        self.write_config()

    def write_config(self, **options) -> Path:
        opts = {"timezone": "UTC", **options}
        lines = "".join(f"      {k}: {v}\n" for k, v in opts.items())
        text = ("site_name: Test KB\nsite_url: https://kb.example.com/\ntheme:\n  name: material\n  font: false\n"
                f"plugins:\n  - search\n  - postmortems:\n{lines}")
        path = self.root / "mkdocs.yml"
        path.write_text(text, encoding="utf-8")
        return path

    def add(self, rel: str, text: str | bytes) -> Path:
        path = self.root / "incidents" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    @property
    def settings(self):
        from pmkb import load_settings
        return load_settings(self.root / "mkdocs.yml")

    def load(self):
        from pmkb import Loader
        return Loader(workers=1).load(self.settings)


@pytest.fixture
def kb(tmp_path: Path) -> KB:
    return KB(tmp_path / "kb")
