"""`python -m pmkb.cli`, as the installed `pmkb` script."""

from .main import main

main()
