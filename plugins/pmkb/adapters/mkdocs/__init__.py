"""The MkDocs adapter, the only part of pmkb that imports MkDocs: `config.py` (the plugin's
settings in mkdocs.yml), `plugin.py` (MkDocs events -> calls of the core), `overrides/`
(theme partials)."""
