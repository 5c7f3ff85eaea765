"""'Did you mean' hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    choices = list(choices)
    found = difflib.get_close_matches(word, choices, n=n, cutoff=0.6)
    if not found:
        # A category written without its layer ("schema-change") or with another layer.
        tail = word.rsplit("/", 1)[-1].lower()
        found = [c for c in choices if c.rsplit("/", 1)[-1].lower() == tail][:n]
    return found


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    found = close_matches(word, choices)
    if not found:
        return ""
    if len(found) == 1:
        return f" (did you mean '{found[0]}'?)"
    return " (did you mean " + ", ".join(f"'{f}'" for f in found[:-1]) + f" or '{found[-1]}'?)"
