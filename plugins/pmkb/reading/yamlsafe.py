"""Parse YAML front matter into plain values while keeping where each value stood.

PyYAML's loaders drop positions, keep the last of two equal keys silently, and expand
aliases (the "billion laughs" bomb). We let libyaml compose the node tree (the C parser
when present), then build plain values ourselves: duplicate keys, anchors and tags are
diagnosed, and the node tree is kept so a diagnostic can be located later, lazily, only
for the values that have problems.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

try:  # libyaml's parser and composer are several times faster; the pure ones give the same nodes.
    from yaml._yaml import CParser as _Parser
    _ScanLoader: type = yaml.CSafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

    _ScanLoader = yaml.SafeLoader

_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL, TIMESTAMP = (_T + n for n in ("str", "int", "float", "bool", "null", "timestamp"))
_constructor = SafeConstructor()
_SEQ, _MAP = _T + "seq", _T + "map"
_IMPLICIT = Resolver.yaml_implicit_resolvers  # first character -> [(tag, regexp)], YAML 1.1 rules


_MERGE = _T + "merge"
_PLAIN_TAGS: dict[str, str] = {}  # plain scalar -> its implicit tag; keys and enum values repeat a lot
# Dates and timestamps are most of the plain scalars that differ from file to file. YAML
# 1.1's int and float forms never have a '-' after leading digits, so for a value that
# starts like a date only the other rules (the timestamp one) need trying.
_IMPLICIT_NOT_NUMBERS = {first: [(t, r) for t, r in rules if t not in (INT, FLOAT)] for first, rules in _IMPLICIT.items()}


def _plain_tag(value: str) -> str:
    """The tag YAML 1.1 (PyYAML's safe loader) gives an untagged plain scalar."""
    tag = _PLAIN_TAGS.get(value)
    if tag is None:
        tag = STR
        first = value[:1] if value else ""
        dated = value[4:5] == "-" and value[:4].isascii() and value[:4].isdigit()
        for candidate, regexp in (_IMPLICIT_NOT_NUMBERS if dated else _IMPLICIT).get(first, ()):
            if regexp.match(value):
                tag = candidate
                break
        if len(_PLAIN_TAGS) < 20_000:
            _PLAIN_TAGS[value] = tag
    return tag


def _is_merge(key_node: ScalarNode) -> bool:
    return _node_tag(key_node) == _MERGE


def _node_tag(node: Node) -> str:
    """A node's tag, resolving the deferred form that _Loader leaves (see there)."""
    tag: Any = node.tag     # a str, or the slice _Loader leaves
    if tag.__class__ is not slice:
        return tag
    if isinstance(node, ScalarNode):
        return _plain_tag(node.value) if tag.step[0] else STR
    return _SEQ if isinstance(node, SequenceNode) else _MAP


class _Loader(_Parser, Resolver):
    """Composes nodes with the safe loader's tag rules, minus path resolvers.

    PyYAML's Resolver spends half of the composing time on path-resolver bookkeeping that
    safe loading never uses, so that is switched off. And the composer asks for the tag of
    every untagged node, keys included, through a Python call; most answers are never
    needed (a key's tag is ignored), so `resolve` is the C-level `slice`, which just keeps
    its arguments (kind, value, implicit) as the node's tag, and _node_tag resolves it
    later, with the same implicit rules, only where it matters. Node tags in a parsed
    tree are therefore read with _node_tag, never directly.
    """

    # The composer calls these three for every node; C-level callables cost a fraction of
    # a Python method call. descend/ascend_resolver: do nothing (operator.is_ and tuple
    # accept the arguments and return at once, allocating nothing).
    descend_resolver = staticmethod(operator.is_)   # type: ignore[assignment]  # any callable that accepts the arguments
    ascend_resolver = staticmethod(tuple)           # type: ignore[assignment]
    resolve = staticmethod(slice)

# How deep front matter may nest. Real postmortems nest four or five levels; libyaml
# (PyYAML 6.0.4 and later) refuses past 1,000 levels with a message of its own, older
# builds crash the interpreter past ~25,000, and our value builder recurses in Python.
# One limit of ours, well below all three, gives the author one clear message whichever
# library is installed.
_DEPTH_LIMIT = 100
_DEEP_MESSAGE = f"the front matter nests more than {_DEPTH_LIMIT} levels deep; flatten it"
_OPENING = (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken, yaml.BlockSequenceStartToken,
            yaml.BlockMappingStartToken)
_CLOSING = (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)

# YAML 1.1 takes these for line breaks; most editors show none. Pasted into a title, one
# breaks the front matter with a message about a line the author cannot see.
_HIDDEN_BREAKS = re.compile("[\x85\u2028\u2029]")
_BREAK_NAMES = {"\x85": "next line", "\u2028": "line separator", "\u2029": "paragraph separator"}

PathPart = str | int
Path = tuple[PathPart, ...]


class YamlProblem(Exception):
    """A problem that stops the front matter from being read at all."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass(slots=True)
class Parsed:
    value: Any
    root: Node | None
    problems: list[YamlProblem]  # problems found while building values (duplicate keys, tags)


def _could_nest_deeply(text: str) -> bool:
    """A cheap upper bound that lets almost every file skip the exact depth scan: each flow
    level needs a bracket, each block level more indentation or a compact `- `, `: ` or
    `? ` on the line. Brackets inside quoted text (pasted JSON logs) count too, so a yes only
    triggers the scan. A line adds at most its length plus one: only lines at least as long
    as the room left are looked at."""
    flow = text.count("[") + text.count("{")
    if flow > _DEPTH_LIMIT:
        return True
    room = _DEPTH_LIMIT - flow
    for line in re.findall(f"^.{{{room},}}", text, re.M):   # lines are split at "\n" alone
        stripped = line.lstrip(" ")
        if len(line) - len(stripped) + line.count("-") + line.count(":") + line.count("?") + 1 > room:
            return True
    return False


def _too_deep(text: str) -> YamlProblem | None:
    """Where the nesting first passes _DEPTH_LIMIT, from libyaml's tokens.

    The scanner is iterative (it never recurses), so this is safe at any depth, and only
    real structure counts: brackets inside strings are part of scalar tokens."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=_ScanLoader):
            if isinstance(token, _OPENING):
                depth += 1
                if depth > _DEPTH_LIMIT:
                    return YamlProblem(_DEEP_MESSAGE, token.start_mark.line + 1, token.start_mark.column + 1)
            elif isinstance(token, _CLOSING):
                depth -= 1
    except yaml.YAMLError as exc:
        if _is_depth_error(exc):
            mark = getattr(exc, "problem_mark", None)
            return YamlProblem(_DEEP_MESSAGE, mark.line + 1 if mark else 1, mark.column + 1 if mark else 1)
        return None  # a syntax error: the parser reports it with its own message
    return None


def _is_depth_error(exc: BaseException) -> bool:
    """libyaml's own nesting limit (PyYAML 6.0.4 and later), whatever its wording."""
    return "nesting depth" in str(exc)


def parse(text: str, first_line: int = 1) -> Parsed:
    """Parse one YAML document. Raises YamlProblem when it cannot be read at all.

    `first_line` is the file's line number of the text's first line: messages that name
    other lines (a key given twice) name them as the user sees them in the file."""
    if _could_nest_deeply(text):
        deep = _too_deep(text)
        if deep is not None:
            raise deep
    hidden = _HIDDEN_BREAKS.search(text)
    if hidden:
        raise _hidden_break(text, hidden)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if _is_depth_error(exc):
            raise YamlProblem(_DEEP_MESSAGE, mark.line + 1 if mark else 1, mark.column + 1 if mark else 1) from None
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        if "found undefined alias" in message or "found duplicate anchor" in message:
            message += "; anchors and aliases are not allowed, write the value out"
        raise YamlProblem(f"invalid YAML: {message}", mark.line + 1 if mark else 1, mark.column + 1 if mark else 1) from None
    except yaml.reader.ReaderError as exc:
        # No mark, only an offset: libyaml's counts bytes of the UTF-8 text, PyYAML's characters.
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        before = (text.encode("utf-8", "surrogatepass")[: exc.position].decode("utf-8", "ignore")
                  if isinstance(exc.character, int) else text[: exc.position])
        raise YamlProblem(f"invalid YAML: the character U+{code:04X} is not allowed here; remove it",
                          before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "mark", None)
        raise YamlProblem(f"invalid YAML: {exc}".replace("\n", " "), (mark.line + 1) if mark else 1, (mark.column + 1) if mark else 1) from None
    finally:
        loader.dispose()
    if root is None:
        return Parsed(None, None, [])
    careful = "&" in text
    builder = _Builder(careful, first_line)
    try:
        value = builder.build(root)
    except RecursionError:
        raise YamlProblem(_DEEP_MESSAGE, 1, 1) from None
    if careful:
        builder.problems.extend(_anchor_problems(text))
    return Parsed(value, root, builder.problems)


def _hidden_break(text: str, found: re.Match) -> YamlProblem:
    """The first hidden line break, where the author's editor shows it (lines end at "\\n" only)."""
    at, char = found.start(), found.group()
    more = len(_HIDDEN_BREAKS.findall(text, at + 1))
    return YamlProblem(f"the character U+{ord(char):04X} ({_BREAK_NAMES[char]}) is a line break to YAML though most "
                       "editors show none; remove it or put a space in its place"
                       + (f" ({more} more in the front matter)" if more else ""),
                       text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1)


def _anchor_problems(text: str) -> list[YamlProblem]:
    """Every anchor and alias, at its own place: an anchor nobody uses is still an error (SPEC 2)."""
    scanner = _Loader(text)
    out = []
    try:
        while scanner.check_token():
            tok = scanner.get_token()
            if isinstance(tok, yaml.AnchorToken):
                what = f"YAML anchor '&{tok.value}' is not allowed; remove it and write values out in full"
            elif isinstance(tok, yaml.AliasToken):
                what = f"YAML alias '*{tok.value}' is not allowed; write the value out in full instead"
            else:
                continue
            out.append(YamlProblem(what + " (anchors and aliases serve no purpose here and can blow up memory)",
                                   tok.start_mark.line + 1, tok.start_mark.column + 1))
    finally:
        scanner.dispose()
    return out


class _Builder:
    """Turns composed nodes into dicts, lists, strings, numbers, booleans and None."""

    __slots__ = ("careful", "seen", "problems", "first_line")

    def __init__(self, careful: bool, first_line: int = 1):
        # Without an '&' in the text there is no anchor, so no node can be shared and the
        # alias bookkeeping is skipped: the common case stays fast.
        self.careful = careful
        self.first_line = first_line
        self.seen: set[int] = set()
        self.problems: list[YamlProblem] = []

    def _problem(self, node: Node, message: str) -> None:
        self.problems.append(YamlProblem(message, node.start_mark.line + 1, node.start_mark.column + 1))

    def _line_before(self, node: MappingNode, index: int) -> int:
        """The line of the latest earlier entry of the mapping with the same key as entry
        `index` (asked only for a key given twice, so not tracked for every key)."""
        key = node.value[index][0].value
        line = 0
        for key_node, _ in node.value[:index]:
            if isinstance(key_node, ScalarNode) and key_node.value == key and not _is_merge(key_node):
                line = key_node.start_mark.line + self.first_line
        return line

    def build(self, node: Node) -> Any:
        if self.careful:
            if id(node) in self.seen:
                # An alias, reported where it is written (_anchor_problems). Never expanded: an
                # empty container of the right kind, so no type error lands on the anchor's line.
                if isinstance(node, SequenceNode):
                    return []
                if isinstance(node, MappingNode):
                    return {}
            else:
                self.seen.add(id(node))
        tag: Any = node.tag     # a str, or the slice _Loader leaves
        if isinstance(node, ScalarNode):
            if tag.__class__ is slice:  # untagged, see _Loader: quoted is text, plain goes by its form
                if not tag.step[0]:
                    return node.value
                tag = _PLAIN_TAGS.get(node.value) or _plain_tag(node.value)
            if tag == STR or tag == TIMESTAMP:
                # Timestamps stay text: we read them ourselves, in the knowledge base's time
                # zone, the same way whether YAML recognised them or they were quoted.
                return node.value
            if tag == INT:
                return _constructor.construct_yaml_int(node)
            if tag == NULL:
                return None
            if tag == BOOL:
                return _constructor.construct_yaml_bool(node)
            if tag == FLOAT:
                return _constructor.construct_yaml_float(node)
            self._problem(node, f"YAML tag {tag!r} is not supported; write plain text, numbers, lists and mappings")
            return node.value
        if isinstance(node, SequenceNode):
            if tag.__class__ is not slice and tag != _SEQ:
                self._problem(node, f"YAML tag {tag!r} is not supported")
            build = self.build
            return [build(item) for item in node.value]
        if isinstance(node, MappingNode):
            if tag.__class__ is not slice and tag != _MAP:
                self._problem(node, f"YAML tag {tag!r} is not supported")
            result: dict[str, Any] = {}
            careful = self.careful
            for index, (key_node, value_node) in enumerate(node.value):
                if not isinstance(key_node, ScalarNode):
                    self._problem(key_node, "a key must be plain text, not a list or mapping")
                    continue
                key = key_node.value
                if (key == "<<" or key_node.tag.__class__ is not slice) and _is_merge(key_node):  # type: ignore[comparison-overlap]
                    self._problem(key_node, "YAML merge keys ('<<') are not allowed; write the keys out")
                    continue
                if key in result:
                    line = key_node.start_mark.line + self.first_line
                    self._problem(key_node, f"key '{key}' is given twice, on lines {self._line_before(node, index)} and "
                                            f"{line}; YAML would silently keep only the last one, remove one of them")
                # Inline for untagged text, the most common value: a call per value costs more
                # than everything else here. Anything else goes through build().
                vtag: Any = value_node.tag
                if vtag.__class__ is slice and isinstance(value_node, ScalarNode) and not careful:
                    text = value_node.value
                    if not vtag.step[0]:
                        result[key] = text
                        continue
                    ptag = _PLAIN_TAGS.get(text) or _plain_tag(text)
                    if ptag == STR or ptag == TIMESTAMP:
                        result[key] = text
                        continue
                result[key] = self.build(value_node)
            return result
        return None  # pragma: no cover - libyaml produces only the three node kinds


# -- locating values -----------------------------------------------------------------------

def locate(root: Node | None, path: Path, key: bool = False) -> tuple[int, int] | None:
    """(line, column), 0-based within the YAML text, of the value at `path`.

    With key=True, the key's position for a mapping entry. When the path runs past what
    exists (a missing key), the position of the deepest existing container.
    """
    node = root
    if node is None:
        return None
    found_key: Node | None = None
    for part in path:
        found_key = None
        if isinstance(node, MappingNode) and isinstance(part, str):
            nxt = None
            for k, v in node.value:
                if isinstance(k, ScalarNode) and k.value == part:
                    found_key, nxt = k, v  # the last one wins, as in the built value
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            break
    else:
        if key and found_key is not None:
            return found_key.start_mark.line, found_key.start_mark.column
        return node.start_mark.line, node.start_mark.column
    return node.start_mark.line, node.start_mark.column


def raw_scalar(root: Node | None, path: Path) -> str | None:
    """The scalar exactly as written (e.g. '3.10' where YAML read the number 3.1)."""
    node = root
    for part in path:
        if isinstance(node, MappingNode):
            node = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == part), None)
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            return None
    return node.value if isinstance(node, ScalarNode) else None
