"""Diagnostics: every problem found in a file, with where it is and what to do."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    path: str          # as shown to the user: relative to the knowledge base root
    line: int          # 1-based
    column: int        # 1-based
    severity: Severity
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"


def sort_key(d: Diagnostic) -> tuple:
    return (d.path, d.line, d.column, d.severity, d.message)


def format_text(diags: Iterable[Diagnostic]) -> str:
    return "".join(d.text() + "\n" for d in diags)


def _gh_escape(value: str, prop: bool = False) -> str:
    # GitHub's workflow-command escaping: data needs %, CR, LF; properties also : and ,
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(diags: Iterable[Diagnostic]) -> str:
    """GitHub Actions annotations: they appear on the changed lines of a pull request."""
    out = []
    for d in diags:
        props = f"file={_gh_escape(d.path, True)},line={d.line},col={d.column}"
        out.append(f"::{d.severity} {props}::{_gh_escape(d.message)}\n")
    return "".join(out)


def format_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([asdict(d) for d in diags], indent=2, ensure_ascii=False) + "\n"


FORMATTERS = {"text": format_text, "github": format_github, "json": format_json}
