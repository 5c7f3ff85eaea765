"""Collapse the whitespace a theme's templates leave between tags.

A Material page is about a third indentation and blank lines; at thousands of incident
pages that is a large share of what every reader downloads. Runs of whitespace render as
one space anyway, except inside <pre>, <textarea>, <script> and <code>, which are kept
exactly as they are.
"""

from __future__ import annotations

import re

_KEEP = re.compile(r"(<(pre|textarea|script|code)\b.*?</\2\s*>)", re.S | re.I)
_SPACE = re.compile(r"[ \t\r\f\v]*\n\s*|[ \t]{2,}")


def _squeeze(m: re.Match) -> str:
    return "\n" if "\n" in m.group() else " "


def collapse_whitespace(html: str) -> str:
    parts = _KEEP.split(html)
    # split() with two groups yields: text, whole kept element, tag name, text, ...
    out = []
    for k in range(0, len(parts), 3):
        out.append(_SPACE.sub(_squeeze, parts[k]))
        if k + 1 < len(parts):
            out.append(parts[k + 1])
    return "".join(out)
