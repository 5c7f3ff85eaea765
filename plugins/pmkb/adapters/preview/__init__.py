"""`pmkb serve PATH...`: a few incidents' pages against the whole knowledge base, made again
on every save. `session` keeps the state, `files` the previewed files on disk, `markdown`
makes a page's HTML as the site would, `cache` keeps what was read, `server` is the HTTP
side."""
