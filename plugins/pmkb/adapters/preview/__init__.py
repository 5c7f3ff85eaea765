"""`pmkb serve PATH...`: a few incidents' pages against the whole knowledge base, made again
on every save. `session` keeps the state, `cache` what was read, `server` the HTTP side."""
