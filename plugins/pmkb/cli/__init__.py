"""The `pmkb` command line (SPEC section 8): `main` is the click group; `newincident` is
`pmkb new`."""

from .main import main

__all__ = ["main"]
