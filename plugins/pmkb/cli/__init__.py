"""The `pmkb` command line (SPEC section 8): `commands` holds the click group `main` and
its commands; `newincident` is `pmkb new`."""

from .commands import main

__all__ = ["main"]
