"""The safe YAML reader: syntax errors, anchors and aliases, duplicate keys, merge keys,
tags, and nesting deep enough to crash a C parser."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from functools import lru_cache

import pytest

from conftest import ROOT, incident_text
from pmkb.schema import load_checker
from pmkb.taxonomy import load_taxonomy
from pmkb.timestamps import zone
from pmkb.validate import Rules, check_file
from pmkb.yamlsafe import YamlProblem, locate, parse, raw_scalar


@lru_cache(maxsize=None)
def rules() -> Rules:
    return Rules(load_taxonomy(ROOT / "schema" / "taxonomy.yml"), load_checker(), zone("UTC"))


def check(text: str):
    return check_file(text.encode("utf-8"), "2025/x.md", "incidents/2025/x.md", rules())


def errors(result) -> list:
    assert result.incident is None
    found = [d for d in result.diagnostics if d.is_error]
    assert found and all(d.path == "incidents/2025/x.md" for d in found)
    return found


def run_isolated(code: str, timeout: float = 60, memory_mb: int = 1536) -> dict:
    """Run `code` in a child Python with a memory cap; it prints one JSON object.

    A crash of the C parser (segfault) or a memory blow-up then fails this test instead of
    taking pytest down with it."""
    prelude = textwrap.dedent(f"""
        import json, resource, sys
        limit = {memory_mb} * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        sys.path.insert(0, {str(ROOT / 'tests')!r})
    """)
    proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    assert proc.returncode == 0, f"child exited with {proc.returncode}: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- syntax -------------------------------------------------------------------------------

HEAD = "---\nid: INC-2025-001\ntitle: t\nstatus: draft\nseverity: SEV3\nstarted: 2025-06-01 10:00\n"


# The words after "invalid YAML: " are libyaml's (or PyYAML's pure parser's) and change
# between releases; what we promise is one error, that it is YAML, and the line.
@pytest.mark.parametrize("front, line", [
    ("services: [a, b\nteam: x\n", 8),
    ("summary: 'unterminated\nteam: x\n", 9),
    ("team: a: b\n", 7),
    ("  team: indented\n", 7),
    ("services:\n  - a\n  b: c\n", 9),
    ("\tteam: tab\n", 7),
    ("summary: |\n  text\n bad\n", 9),
])
def test_invalid_yaml_names_the_line(front, line):
    [d] = errors(check(HEAD + front + "---\nBody\n"))
    assert d.message.startswith("invalid YAML: ") and len(d.message) > len("invalid YAML: ")
    assert d.line == line, d.text()
    assert d.column >= 1


def test_invalid_yaml_position_is_that_of_the_file():
    text = "---\nid: INC-2025-001\ntitle: \"open\nstatus: draft\n---\n"
    [d] = errors(check(text))
    assert d.line == 5 and "quoted scalar" in d.message


@pytest.mark.parametrize("prefix", ["bell", "caf\u00e9 \u00e9\u00e9", "\U0001F600 x"])
def test_control_character_is_located_in_characters(prefix):
    [d] = errors(check(incident_text(extra=f"summary: {prefix}\x07here")))
    assert d.message.startswith("invalid YAML") and "U+0007" in d.message
    assert (d.line, d.column) == (7, 10 + len(prefix))


def test_invalid_escape_is_an_error():
    [d] = errors(check(incident_text(extra='summary: "\\ud800 lone surrogate"')))
    assert d.message.startswith("invalid YAML") and d.line == 7


# -- anchors and aliases ------------------------------------------------------------------

def test_anchor_and_alias_are_each_reported_where_written():
    result = check(incident_text(extra="services: &svc [scoring]\nauthors: *svc"))
    found = errors(result)
    anchor = [d for d in found if "anchor '&svc'" in d.message]
    alias = [d for d in found if "alias '*svc'" in d.message]
    assert [(d.line, d.column) for d in anchor] == [(7, 11)]
    assert [(d.line, d.column) for d in alias] == [(8, 10)]
    assert all("not allowed" in d.message for d in anchor + alias)
    assert len(found) == 2  # nothing else: the alias is not read as an empty value of the wrong type


def test_unused_anchor_is_an_error_too():
    [d] = errors(check(incident_text(extra="team: &owner ml-platform")))
    assert (d.line, d.column) == (7, 7) and "anchor '&owner'" in d.message


def test_ampersand_in_text_is_not_an_anchor():
    result = check(incident_text(extra="team: R&D\nsummary: 'fish & chips &co'\nimpact: \"a &b\""))
    assert result.diagnostics == [] and result.incident.team == "R&D"
    assert result.incident.impact == "a &b"


def test_undefined_alias_is_an_error():
    [d] = errors(check(incident_text(extra="team: *nobody")))
    assert d.line == 7 and "anchors and aliases are not allowed" in d.message


def billion_laughs(levels: int = 10, width: int = 10) -> str:
    lines = ['x-l0: &l0 "lol"']
    for i in range(1, levels):
        lines.append(f"x-l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return incident_text(extra="\n".join(lines))


def test_billion_laughs_fails_fast_without_expanding():
    # 10 levels of 10 aliases: 10**9 strings if anything expanded them.
    out = run_isolated(f"""
        import time, tracemalloc
        from pmkb.schema import load_checker
        from pmkb.taxonomy import load_taxonomy
        from pmkb.timestamps import zone
        from pmkb.validate import Rules, check_file
        from pathlib import Path
        rules = Rules(load_taxonomy(Path('schema/taxonomy.yml')), load_checker(), zone('UTC'))
        text = {billion_laughs()!r}
        tracemalloc.start()
        t = time.perf_counter()
        r = check_file(text.encode(), 'x.md', 'x.md', rules)
        took = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        # (ru_maxrss would report the parent's peak: Linux keeps it across fork and exec)
        print(json.dumps({{"took": took, "incident": r.incident is not None,
                          "diags": [[d.line, d.column, d.severity, d.message] for d in r.diagnostics],
                          "peak_bytes": peak}}))
    """, memory_mb=1024)
    assert out["took"] < 2.0
    assert out["peak_bytes"] < 50 * 1024 * 1024  # expanded, it would be gigabytes (and hit the 1 GiB cap)
    assert not out["incident"]
    aliases = [d for d in out["diags"] if "alias '*l" in d[3]]
    anchors = [d for d in out["diags"] if "anchor '&l" in d[3]]
    assert len(anchors) == 10 and len(aliases) == 90
    assert {d[0] for d in anchors} == set(range(7, 17))
    assert all(d[2] == "error" for d in out["diags"])


def test_parse_never_expands_shared_nodes():
    parsed = parse("a: &x [1, 2]\nb: *x\nc: *x\nd: &s 12\ne: *s\n")
    assert parsed.value["a"] == [1, 2]
    assert parsed.value["b"] == [] and parsed.value["c"] == [] and parsed.value["b"] is not parsed.value["a"]
    assert parsed.value["e"] == 12  # a scalar costs nothing to read twice
    lines = sorted(p.line for p in parsed.problems)
    assert lines == [1, 2, 3, 4, 5]


# -- duplicate keys, merge keys -----------------------------------------------------------

def test_key_given_twice_names_both_lines():
    [d] = errors(check(incident_text(extra="summary: first\nteam: x\nsummary: second")))
    assert (d.line, d.column) == (9, 1)
    assert "'summary' is given twice" in d.message and "lines 7 and 9" in d.message


def test_required_key_given_twice_names_file_lines():
    text = incident_text(extra="title: again")
    [d] = errors(check(text))
    assert (d.line, d.column) == (7, 1) and "lines 3 and 7" in d.message


def test_nested_key_given_twice():
    [d] = errors(check(incident_text(extra="models:\n  - name: a\n    version: '1'\n    name: b")))
    assert (d.line, d.column) == (10, 5) and "'name' is given twice, on lines 8 and 10" in d.message


def test_key_given_three_times_reports_each_repeat():
    found = errors(check(incident_text(extra="team: a\nteam: b\nteam: c")))
    assert [(d.line, "lines 7 and 8" in d.message or "lines 8 and 9" in d.message) for d in found] == [(8, True), (9, True)]


def test_same_key_in_different_mappings_is_fine():
    result = check(incident_text(extra="models:\n  - {name: a, version: '1'}\n  - {name: b, version: '2'}"))
    assert result.diagnostics == []


def test_merge_key_is_an_error():
    found = errors(check(incident_text(extra="x-base: {owner: a}\nx-item:\n  <<: {owner: b}\n  due: 1")))
    [d] = [d for d in found if "merge" in d.message]
    assert (d.line, d.column) == (9, 3) and "'<<'" in d.message


def test_non_scalar_key_is_an_error():
    [d] = errors(check(incident_text(extra="? [a, b]\n: value")))
    assert d.line == 7 and "key must be plain text" in d.message


# -- tags ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value, words", [
    ("!!python/object:os.system {}", "python/object"),
    ("!!python/object/apply:os.system ['echo hi']", "python/object/apply"),
    ("!!python/name:os.system", "python/name"),
    ("!foo bar", "'!foo'"),
    ("!foo [a]", "'!foo'"),
    ("!!binary aGVsbG8=", "binary"),
    ("!!set {a, b}", "set"),
    ("!!omap [a: 1]", "omap"),
])
def test_custom_tags_are_errors(value, words):
    found = errors(check(incident_text(extra=f"x-thing: {value}")))
    [d] = [d for d in found if "tag" in d.message]
    assert d.line == 7 and d.column == 10 and words in d.message and "not supported" in d.message


def test_standard_tags_are_read_as_their_type():
    result = check(incident_text(extra="models:\n  - {name: m, version: !!str 3.10}\nusers_affected: !!int '12'"))
    assert result.diagnostics == []
    assert result.incident.models[0].version == "3.10" and result.incident.users_affected == 12


# -- deep nesting (in a child process: a crash must fail the test, not pytest) ------------

DEPTH_CASES = {
    "flow_100k_lists": '"x-deep: " + "[" * 100_000',
    "flow_100k_maps": '"x-deep: " + "{a: " * 100_000',
    "flow_100k_closed": '"x-deep: " + "[" * 100_000 + "]" * 100_000',
    "block_dashes_50k": '"x-deep:\\n  " + "- " * 50_000 + "x"',
    "mixed_9k": '"x-deep: " + "[" * 9_000 + "]" * 9_000 + "\\nsummary: " + "y" * 5_000',
    "flow_3k": '"x-deep: " + "[" * 3_000 + "]" * 3_000',
    "flow_900": '"x-deep: " + "[" * 900 + "]" * 900',
}


def test_deep_nesting_is_an_error_not_a_crash():
    out = run_isolated(f"""
        from pathlib import Path
        from conftest import incident_text
        from pmkb.schema import load_checker
        from pmkb.taxonomy import load_taxonomy
        from pmkb.timestamps import zone
        from pmkb.validate import Rules, check_file
        import time
        rules = Rules(load_taxonomy(Path('schema/taxonomy.yml')), load_checker(), zone('UTC'))
        cases = {{{", ".join(f"{k!r}: {v}" for k, v in DEPTH_CASES.items())}}}
        out = {{}}
        for name, extra in cases.items():
            t = time.perf_counter()
            r = check_file(incident_text(extra=extra).encode(), 'x.md', 'x.md', rules)
            out[name] = {{"took": time.perf_counter() - t, "incident": r.incident is not None,
                         "diags": [[d.line, d.column, d.severity, d.message] for d in r.diagnostics]}}
        print(json.dumps(out))
    """, timeout=120)
    for name, res in out.items():
        assert res["took"] < 5, name
        if name == "flow_900":
            continue  # deep but harmless: either read or refused, never a crash
        assert not res["incident"], name
        assert res["diags"] and all(d[2] == "error" for d in res["diags"]), name
        assert all(d[0] >= 1 and d[1] >= 1 for d in res["diags"]), name
        assert any("nest" in d[3] for d in res["diags"]), (name, res["diags"])


def deep_problem(text: str) -> YamlProblem:
    """The problem parse raises for too deep nesting: one meaning, whichever library trips first."""
    with pytest.raises(YamlProblem) as exc:
        parse(text)
    assert "nests" in exc.value.message and "deep" in exc.value.message and "flatten it" in exc.value.message, \
        exc.value.message
    return exc.value


@pytest.mark.parametrize("text", [
    "a: " + "[" * 20_000,                      # unclosed, libyaml's own limit would trip at 1,000
    "a: " + "[" * 5_000 + "]" * 5_000,         # closed
    "a: " + "[" * 150 + "]" * 150,             # past ours, under libyaml's
    "a:\n  " + "- " * 150 + "x",               # block nesting
])
def test_parse_reports_deep_nesting_in_one_way(text):
    problem = deep_problem(text)
    assert problem.line >= 1 and problem.column >= 1


def test_deep_nesting_names_the_line_where_it_starts():
    problem = deep_problem("a: 1\nb: 2\nc: " + "[" * 150 + "]" * 150 + "\n")
    assert problem.line == 3


@pytest.mark.parametrize("text", [
    # brackets inside strings are text, not structure: pasted JSON logs in evidence
    "evidence:\n" + "".join(f"  - '{{\"a\": [[{i}]], \"b\": {{\"c\": [1, 2]}}}}'\n" for i in range(5_000)),
    # the flow style of the templates, many times over
    "timeline: [" + ", ".join("{at: 2025-01-01 10:00, event: 'x [y] {z}'}" for _ in range(10_000)) + "]",
])
def test_many_brackets_that_do_not_nest_are_fine(text):
    assert parse(text).value


def test_long_but_flat_front_matter_is_fine():
    services = "".join(f"  - service-{i}\n" for i in range(3_000))
    result = check(incident_text(extra="services:\n" + services))
    assert result.diagnostics == [] and len(result.incident.services) == 3_000


# -- positions ----------------------------------------------------------------------------

def test_locate_and_raw_scalar():
    parsed = parse("a: 1\nb:\n  - {c: 3.10}\n  - d\n")
    assert locate(parsed.root, ("b", 0, "c")) == (2, 8)
    assert locate(parsed.root, ("b", 0, "c"), key=True) == (2, 5)
    assert locate(parsed.root, ("b", 1)) == (3, 4)
    assert locate(parsed.root, ("b", 0, "missing")) == (2, 4)   # the deepest existing container
    assert locate(parsed.root, ("zzz",)) == (0, 0)
    assert raw_scalar(parsed.root, ("b", 0, "c")) == "3.10" and parsed.value["b"][0]["c"] == 3.1
    assert raw_scalar(parsed.root, ("b", 5)) is None


def test_values_are_plain_python():
    parsed = parse("s: text\ni: 12\nf: 1.5\nb: yes\nn: ~\nt: 2025-06-01 10:00:00\nd: 2025-06-01\nl: [1, two]\n")
    assert parsed.value == {"s": "text", "i": 12, "f": 1.5, "b": True, "n": None, "t": "2025-06-01 10:00:00",
                            "d": "2025-06-01", "l": [1, "two"]}
    assert parsed.problems == []


def test_empty_document():
    parsed = parse("")
    assert parsed.value is None and parsed.root is None

