"""Stage 4, pages: the knowledge base -> what the site holds, engine-neutrally: pages as
Markdown with HTML fragments, charts (SVG), the JSON exports, the feed, the stylesheet.
`site.build_site` is the entry point; no site engine is imported here."""
