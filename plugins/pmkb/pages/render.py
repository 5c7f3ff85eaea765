"""The Jinja2 environment of our page templates: autoescaped, so every front-matter value
is HTML-escaped unless a renderer marks it as Markup on purpose (the Markdown body)."""

from __future__ import annotations

from functools import lru_cache

import jinja2
from markupsafe import Markup, escape


def plain(value: object) -> Markup:
    """Plain text for inside an HTML block: escaped, and with no blank line, which would
    end the block and hand the rest of it to Markdown."""
    text = str(escape(str(value))).strip()
    return Markup("<br>".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip()))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pmkb.pages", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["plain"] = plain
    return env


def render_blocks(template: str, **context: object) -> dict[str, str]:
    """Each `{% block %}` of a template rendered on its own: HTML fragments of one page."""
    tmpl = environment().get_template(template)
    ctx = tmpl.new_context(context)
    return {name: "".join(block(ctx)).strip() for name, block in tmpl.blocks.items()}
