"""Checking front matter against schema/incident.schema.json.

jsonschema is the authority: every message comes from its errors. It is also slow (about
2 ms for one incident), so valid documents - nearly all of them - are first checked by a
small compiled checker of the keywords our schema uses; only documents it rejects go to
jsonschema for the details. A schema with any other keyword (an organisation may extend
the published one) skips the fast path. Tests hold the two to the same verdict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

from .suggest import did_you_mean

Check = Callable[[Any], bool]

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "incident.schema.json"

_ANNOTATIONS = {"title", "description", "$schema", "$id", "$comment", "default", "examples", "$defs"}
# Python expressions of `v` equal to jsonschema's type tests (an integral float is an integer)
_TYPE_TESTS: dict[str, str] = {
    "string": "isinstance(v, str)",
    "integer": "((isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()))",
    "number": "(isinstance(v, (int, float)) and not isinstance(v, bool))",
    "boolean": "isinstance(v, bool)",
    "array": "isinstance(v, list)",
    "object": "isinstance(v, dict)",
    "null": "v is None",
}
_MISSING = object()


class Unsupported(Exception):
    pass


def compile_schema(schema: dict[str, Any]) -> Check:
    """A predicate equal to jsonschema's is_valid for the keywords it knows; else Unsupported.

    The predicate is generated Python source, one small function per subschema with the
    keywords' tests written out inline: about five times faster than nesting a closure per
    keyword, and it runs once for every incident file."""
    root = schema
    ns: dict[str, Any] = {"_MISSING": _MISSING}
    defs: list[str] = []
    names: dict[int, str] = {}
    fixups: list[tuple[dict[str, Any], str, str]] = []   # (table, key, function name) to fill after exec

    def const(value: Any) -> str:
        name = f"_k{len(ns)}"
        ns[name] = value
        return name

    def resolve(ref: str) -> Any:
        if not ref.startswith("#/"):
            raise Unsupported(ref)
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def trivial(s: Any) -> bool:
        return s is True or (isinstance(s, dict) and all(k in _ANNOTATIONS for k in s))

    def func(s: Any) -> str:
        if id(s) in names:
            return names[id(s)]
        name = names[id(s)] = f"_f{len(names)}"
        body = _body(s)
        defs.append(f"def {name}(v):\n" + "".join(f"    {line}\n" for line in body + ["return True"]))
        return name

    def _body(s: Any) -> list[str]:
        if s is True:
            return []
        if s is False:
            return ["return False"]
        out: list[str] = []
        for key, val in s.items():
            if key in _ANNOTATIONS:
                continue
            if key == "$ref":
                out.append(f"if not {func(resolve(val))}(v): return False")
            elif key == "type":
                names_ = [val] if isinstance(val, str) else list(val)
                expr = " or ".join(_TYPE_TESTS[n] for n in names_) or "False"
                out.append(f"if not ({expr}): return False")
            elif key == "enum":
                # jsonschema compares 1 == True as unequal; keep enums to strings for equality to hold
                if not all(isinstance(x, str) for x in val):
                    raise Unsupported("enum")
                out.append(f"if not (isinstance(v, str) and v in {const(frozenset(val))}): return False")
            elif key == "pattern":
                out.append(f"if isinstance(v, str) and {const(re.compile(val).search)}(v) is None: return False")
            elif key == "minLength":
                out.append(f"if isinstance(v, str) and not len(v) >= {const(val)}: return False")
            elif key == "maxLength":
                out.append(f"if isinstance(v, str) and not len(v) <= {const(val)}: return False")
            elif key == "minimum":
                out.append(f"if ({_TYPE_TESTS['number']}) and not v >= {const(val)}: return False")
            elif key == "required":
                present = " and ".join(f"{const(k)} in v" for k in val) or "True"
                out.append(f"if isinstance(v, dict) and not ({present}): return False")
            elif key == "items":
                if not trivial(val):
                    out.append("if isinstance(v, list):")
                    out.append("    for x in v:")
                    out.append(f"        if not {func(val)}(x): return False")
            elif key in ("properties", "patternProperties", "additionalProperties"):
                continue  # handled together below
            else:
                raise Unsupported(key)
        if any(k in s for k in ("properties", "patternProperties", "additionalProperties")):
            out.extend(_object(s))
        return out

    def _object(s: dict[str, Any]) -> list[str]:
        # props[k] is the property's check, None when anything goes; _MISSING when k is not a property
        props: dict[str, Any] = {}
        for k, sub in s.get("properties", {}).items():
            props[k] = None
            if not trivial(sub):
                fixups.append((props, k, func(sub)))
        out = ["if isinstance(v, dict):",
               "    for k, x in v.items():",
               f"        c = {const(props)}.get(k, _MISSING)",
               "        if c is _MISSING:",
               "            m = False",
               "        else:",
               "            m = True",
               "            if c is not None and not c(x): return False"]
        for pattern, sub in s.get("patternProperties", {}).items():
            out.append(f"        if {const(re.compile(pattern).search)}(k):")
            out.append("            m = True")
            if not trivial(sub):
                out.append(f"            if not {func(sub)}(x): return False")
        if "additionalProperties" in s and not trivial(s["additionalProperties"]):
            out.append(f"        if not m and not {func(s['additionalProperties'])}(x): return False")
        return out

    entry = func(schema)
    exec(compile("".join(defs), "<compiled incident schema>", "exec"), ns)  # noqa: S102 - source made above from the schema's keywords, values passed as constants
    for table, key, name in fixups:
        table[key] = ns[name]
    return ns[entry]


class SchemaChecker:
    """Validates one front matter mapping; yields (path, key?, message) for each problem."""

    def __init__(self, schema: dict[str, Any], trusted: bool = False):
        """`trusted`: the packaged schema, which the test suite checks; any other schema is
        checked here, so that a broken one fails at once rather than at the first invalid file."""
        self.schema = schema
        self._validator: jsonschema.Draft202012Validator | None = None
        if not trusted:
            self.validator  # noqa: B018 - checks the schema
        try:
            self.fast: Check | None = compile_schema(schema)
        except (Unsupported, KeyError, TypeError, re.error):
            self.fast = None
        defs = schema.get("$defs", {})
        # Timestamps and dates are diagnosed by the time parser, which says more than a regex.
        self._own = [defs[k] for k in ("timestamp", "date") if k in defs]

    @property
    def validator(self) -> jsonschema.Draft202012Validator:
        # Made on first use: importing jsonschema costs a tenth of a second at every start of
        # `pmkb validate`, and valid files never need it.
        if self._validator is None:
            import jsonschema
            jsonschema.Draft202012Validator.check_schema(self.schema)
            self._validator = jsonschema.Draft202012Validator(self.schema)
        return self._validator

    def is_valid(self, data: Any) -> bool:
        if self.fast is not None:
            return self.fast(data)
        return self.validator.is_valid(data)

    def problems(self, data: Any, raw: Callable[[tuple], str | None] = lambda path: None) -> list[tuple[tuple, bool, str]]:
        """(path, at_key, message) for every schema problem; empty when valid.

        `raw` gives a scalar as written in the file, for hints about YAML's reading of it."""
        if self.is_valid(data):
            return []
        out: list[tuple[tuple, bool, str]] = []
        for error in self.validator.iter_errors(data):
            out.extend(self._explain(error, raw))
        # jsonschema raises one 'required' error per missing key, each listing all of them
        return list(dict.fromkeys(out))

    def _explain(self, e: jsonschema.ValidationError, raw: Callable[[tuple], str | None]) -> list[tuple[tuple, bool, str]]:
        path = tuple(e.absolute_path)
        where = field_name(path)
        kw, inst = e.validator, e.instance
        if kw == "pattern" and any(e.schema is own for own in self._own):
            return []
        if kw == "required":
            missing = [k for k in e.validator_value if isinstance(inst, dict) and k not in inst]
            owner = f"{where}: " if path else ""
            return [(path, False, f"{owner}missing required field '{k}'{_field_hint(k)}") for k in missing]
        if kw == "additionalProperties" and isinstance(inst, dict):
            known = list(e.schema.get("properties", {}))
            pats = [re.compile(p) for p in e.schema.get("patternProperties", {})]
            out = []
            for k in inst:
                if k in known or any(p.search(k) for p in pats):
                    continue
                hint = did_you_mean(k, known) or (f" (known fields: {', '.join(known)})" if len(known) <= 8 else "")
                tip = " Your own fields must start with 'x-'." if not path else ""
                out.append((path + (k,), True, f"unknown field '{field_name(path + (k,))}'{hint}.{tip}"))
            return out
        if kw == "enum":
            allowed = [str(a) for a in e.validator_value]
            return [(path, False, f"{where}: '{inst}' is not one of {', '.join(allowed)}{did_you_mean(str(inst), allowed)}")]
        if kw == "type":
            want = e.validator_value
            got = _kind(inst)
            msg = f"{where} must be {_article(want)}, not {got}"
            if want == "string" and isinstance(inst, (int, float, bool)):
                written = raw(path) or str(inst)
                msg += f"; put it in quotes: \"{written}\" (YAML reads {written} as {got})"
            elif want == "array" and isinstance(inst, str):
                msg += f"; write a list, e.g. [{inst}]"
            return [(path, False, msg)]
        if kw == "pattern":
            return [(path, False, f"{where}: {_pattern_message(path, inst)}")]
        if kw == "maxLength":
            return [(path, False, f"{where} is {len(inst)} characters long; at most {e.validator_value} are allowed")]
        if kw == "minLength":
            return [(path, False, f"{where} must not be empty")]
        if kw == "minimum":
            return [(path, False, f"{where} must be {e.validator_value} or more, not {inst}")]
        return [(path, False, f"{where}: {e.message}")]


def _field_hint(key: str) -> str:
    return {"started": " (when impact began, e.g. 2025-06-01 14:30)",
            "severity": " (a severity id of the taxonomy, e.g. SEV2)",
            "category": " (a taxonomy category id, e.g. data/schema-change)"}.get(key, "")


def _pattern_message(path: tuple, value: Any) -> str:
    name = path[-1] if path else ""
    if name == "id":
        return f"'{value}' is not a valid id: use upper-case letters and digits in dash-separated parts, such as INC-2025-014"
    if name == "ticket":
        return f"'{value}' is not a link; give the ticket's http(s) URL"
    if name == "url" and path[:1] == ("links",):
        return (f"'{value}' is not a web address; a link must start with http:// or https:// and hold no spaces "
                "(other schemes such as javascript: or file: are refused: they would run or open something on the reader's machine)")
    if len(path) >= 2 and path[-2] == "tags":
        return f"'{value}' is not a tag: tags are lower-case, e.g. '{str(value).lower()}'"
    return f"'{value}' does not have the expected form"


def _kind(v: Any) -> str:
    if v is None:
        return "empty"
    if isinstance(v, bool):
        return f"true/false ({v})"
    if isinstance(v, (int, float)):
        return f"a number ({v})"
    if isinstance(v, str):
        return "text"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return type(v).__name__


def _article(want: Any) -> str:
    names = {"string": "text", "integer": "a whole number", "number": "a number", "array": "a list",
             "object": "a mapping", "boolean": "true or false", "null": "empty"}
    if isinstance(want, list):
        return " or ".join(names.get(w, w) for w in want)
    return names.get(want, want)


def field_name(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "front matter"


@lru_cache(maxsize=8)
def _load(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_checker(path: Path | None = None) -> SchemaChecker:
    return SchemaChecker(_load(str(path or SCHEMA_PATH)), trusted=path is None)
