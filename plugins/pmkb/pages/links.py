"""Relative links in an incident's body, made to work from its page address.

An author writes `![whiteboard](inc-2025-007-whiteboard.png)` or `[earlier](../2024/inc-2024-003.md)`
relative to the incident file; the page lives at `incidents/<id>/`. We rewrite such
targets to the page's point of view before MkDocs renders the Markdown, so MkDocs still
resolves, checks and copies them as usual. Targets we cannot place are left alone: MkDocs
then reports them (and `--strict` fails), rather than us hiding a broken link.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from ..knowledge.kb import KnowledgeBase
from .page import incident_src

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_INLINE = re.compile(r"(!?\[(?:[^\[\]\n]|\[[^\]\n]*\])*\]\(\s*<?)([^)\s>]+)")
_REFDEF = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*<?)(\S+?)(?=>?(?:\s|$))", re.M)
_HTML = re.compile(r"(\b(?:src|href)\s*=\s*[\"'])([^\"']+)", re.I)
_SUFFIX = re.compile(r"([^#?]*)(.*)", re.S)   # path, then ?query and #fragment
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class LinkIndex:
    incident_src: dict[str, str]   # incident file path (relative to incidents_dir) -> page src_uri
    assets: frozenset[str]         # asset paths relative to incidents_dir


def link_index(kb: KnowledgeBase) -> LinkIndex:
    return LinkIndex({i.source.path: incident_src(i.id) for i in kb.incidents},
                     frozenset(a.path for a in kb.assets))


def asset_src(asset_path: str) -> str:
    return f"incidents/{asset_path}"


def _retarget(target: str, source_dir: str, page_dir: str, index: LinkIndex) -> str:
    if not target or target.startswith(("#", "/")) or _SCHEME.match(target):
        return target
    path, suffix = _SUFFIX.match(target).groups()  # type: ignore[union-attr]
    resolved = posixpath.normpath(posixpath.join(source_dir, unquote(path)))
    if resolved.startswith(".."):
        return target
    if resolved in index.incident_src:
        dest = index.incident_src[resolved]
    elif resolved in index.assets:
        dest = asset_src(resolved)
    else:
        return target
    return quote(posixpath.relpath(dest, page_dir)) + suffix


def rewrite_links(body: str, source_path: str, page_src: str, index: LinkIndex) -> str:
    source_dir = posixpath.dirname(source_path)
    page_dir = posixpath.dirname(page_src)

    def fix(m: re.Match) -> str:
        return m.group(1) + _retarget(m.group(2), source_dir, page_dir, index)

    out: list[str] = []
    chunk: list[str] = []
    fence = None
    for line in body.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence is None and m:
            out.append(_rewrite_chunk("".join(chunk), fix))
            chunk, fence = [], m.group(1)[0] * len(m.group(1))
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence):
                fence = None
        else:
            chunk.append(line)
    out.append(_rewrite_chunk("".join(chunk), fix))
    return "".join(out)


def _rewrite_chunk(text: str, fix) -> str:
    if "](" not in text and "]:" not in text and "src" not in text.lower() and "href" not in text.lower():
        return text
    return _HTML.sub(fix, _REFDEF.sub(fix, _INLINE.sub(fix, text)))
