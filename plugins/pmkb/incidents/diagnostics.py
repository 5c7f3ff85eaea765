"""Diagnostics: every problem found in a file, with where it is and what to do."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

from .model import Constructed

Severity = Literal["error", "warning"]
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Diagnostic(Constructed):
    path: str          # as shown to the user: relative to the knowledge base root
    line: int          # 1-based
    column: int        # 1-based
    severity: Severity
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def text(self) -> str:
        # One line per diagnostic whatever a quoted value holds: line breaks and terminal
        # control characters from the file are shown escaped.
        message = _CONTROL.sub(lambda m: repr(m.group())[1:-1], self.message)
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {message}"


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
    return json.dumps([asdict(d) for d in diags], indent=2, ensure_ascii=False, allow_nan=False) + "\n"


FORMATTERS = {"text": format_text, "github": format_github, "json": format_json}
