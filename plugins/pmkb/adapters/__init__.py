"""Stage 5, adapters: pages -> a built or served site. `mkdocs/` is the MkDocs plugin (the
only code that imports MkDocs), `preview/` is `pmkb serve PATH`; beside them the build's
helpers that any engine can use (the Pagefind index, the whitespace minifier, the
process that renders beside the build)."""
