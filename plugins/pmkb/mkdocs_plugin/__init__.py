"""The MkDocs adapter: the only part of pmkb that imports MkDocs."""
