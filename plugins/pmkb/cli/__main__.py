"""`python -m pmkb.cli`, as the installed `pmkb` script."""

from .commands import main

main()
