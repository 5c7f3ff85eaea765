"""Stage 5, adapters: pages -> a built or served site. `mkdocs/` is the MkDocs plugin (the
only code that imports MkDocs); `engines` runs MkDocs, ProperDocs or Zensical for
`pmkb build` and `pmkb serve`, and `staging` (with `staging_config`, `staging_markdown`)
writes the site's sources for an engine that does not run the plugin; `preview/` is
`pmkb serve PATH`. Beside them the build's helpers any engine can use: the Pagefind index,
the whitespace minifier, the process that renders beside the build."""
