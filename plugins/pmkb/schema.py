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
from typing import Any

import jsonschema

from .suggest import did_you_mean

Check = Callable[[Any], bool]

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "incident.schema.json"

_ANNOTATIONS = {"title", "description", "$schema", "$id", "$comment", "default", "examples", "$defs"}
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


class Unsupported(Exception):
    pass


def compile_schema(schema: dict[str, Any]) -> Check:
    """A predicate equal to jsonschema's is_valid for the keywords it knows; else Unsupported."""
    root = schema

    def resolve(ref: str) -> dict[str, Any]:
        if not ref.startswith("#/"):
            raise Unsupported(ref)
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def comp(s: Any) -> Check:
        if s is True:
            return lambda v: True
        if s is False:
            return lambda v: False
        checks: list[Check] = []
        for key, val in s.items():
            if key in _ANNOTATIONS:
                continue
            if key == "$ref":
                checks.append(comp(resolve(val)))
            elif key == "type":
                names = [val] if isinstance(val, str) else list(val)
                fns = [_TYPES[n] for n in names]
                checks.append(lambda v, fns=fns: any(f(v) for f in fns))
            elif key == "enum":
                # jsonschema compares 1 == True as unequal; keep enums to strings for equality to hold
                if not all(isinstance(x, str) for x in val):
                    raise Unsupported("enum")
                allowed = frozenset(val)
                checks.append(lambda v, a=allowed: isinstance(v, str) and v in a)
            elif key == "pattern":
                search = re.compile(val).search
                checks.append(lambda v, f=search: not isinstance(v, str) or f(v) is not None)
            elif key == "minLength":
                checks.append(lambda v, n=val: not isinstance(v, str) or len(v) >= n)
            elif key == "maxLength":
                checks.append(lambda v, n=val: not isinstance(v, str) or len(v) <= n)
            elif key == "minimum":
                checks.append(lambda v, n=val: not _TYPES["number"](v) or v >= n)
            elif key == "required":
                req = tuple(val)
                checks.append(lambda v, r=req: not isinstance(v, dict) or all(k in v for k in r))
            elif key == "items":
                item = comp(val)
                checks.append(lambda v, c=item: not isinstance(v, list) or all(c(x) for x in v))
            elif key in ("properties", "patternProperties", "additionalProperties"):
                continue  # handled together below
            else:
                raise Unsupported(key)
        if any(k in s for k in ("properties", "patternProperties", "additionalProperties")):
            props = {k: comp(v) for k, v in s.get("properties", {}).items()}
            pats = [(re.compile(p).search, comp(v)) for p, v in s.get("patternProperties", {}).items()]
            extra = comp(s["additionalProperties"]) if "additionalProperties" in s else None

            def obj(v: Any, props=props, pats=pats, extra=extra) -> bool:
                if not isinstance(v, dict):
                    return True
                for k, x in v.items():
                    c = props.get(k)
                    matched = c is not None
                    if matched and not c(x):
                        return False
                    for search, pc in pats:
                        if search(k):
                            matched = True
                            if not pc(x):
                                return False
                    if not matched and extra is not None and not extra(x):
                        return False
                return True
            checks.append(obj)
        if len(checks) == 1:
            return checks[0]
        return lambda v, cs=tuple(checks): all(c(v) for c in cs)

    return comp(schema)


class SchemaChecker:
    """Validates one front matter mapping; yields (path, key?, message) for each problem."""

    def __init__(self, schema: dict[str, Any]):
        self.schema = schema
        jsonschema.Draft202012Validator.check_schema(schema)
        self.validator = jsonschema.Draft202012Validator(schema)
        try:
            self.fast: Check | None = compile_schema(schema)
        except (Unsupported, KeyError, TypeError, re.error):
            self.fast = None
        defs = schema.get("$defs", {})
        # Timestamps and dates are diagnosed by the time parser, which says more than a regex.
        self._own = [defs[k] for k in ("timestamp", "date") if k in defs]

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
    return SchemaChecker(_load(str(path or SCHEMA_PATH)))
