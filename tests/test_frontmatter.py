"""Reading an incident file: size, encoding, line endings, the --- fences, a mapping."""

from __future__ import annotations

from functools import cache

import pytest

from conftest import ROOT, incident_text
from pmkb import Rules, check_file, load_checker, load_taxonomy, zone
from pmkb.reading.frontmatter import MAX_BYTES, ReadProblem, decode, split


@cache
def rules(tz: str = "UTC") -> Rules:
    return Rules(load_taxonomy(ROOT / "schema" / "taxonomy.yml"), load_checker(), zone(tz))


def check(data: str | bytes):
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return check_file(raw, "2025/x.md", "incidents/2025/x.md", rules())


def only_error(result):
    assert result.incident is None
    errors = [d for d in result.diagnostics if d.is_error]
    assert len(errors) == 1, [d.text() for d in result.diagnostics]
    assert errors[0].path == "incidents/2025/x.md"
    return errors[0]


# -- size ---------------------------------------------------------------------------------

def test_file_over_one_mib_is_an_error_on_line_1():
    text = incident_text(body="x" * (MAX_BYTES + 1))
    d = only_error(check(text))
    assert (d.line, d.column) == (1, 1)
    assert "at most 1 MiB" in d.message and f"{len(text.encode()):,}" in d.message


def test_file_of_exactly_one_mib_is_read():
    head = incident_text(body="")
    text = head + "x" * (MAX_BYTES - len(head.encode()))
    assert len(text.encode()) == MAX_BYTES
    result = check(text)
    assert result.incident is not None, [d.text() for d in result.diagnostics]


def test_big_file_in_a_knowledge_base_is_named_and_not_dropped(kb):
    kb.add("2025/big.md", incident_text(body="y" * (MAX_BYTES + 10)))
    kb.add("2025/ok.md", incident_text("INC-2025-002"))
    loaded = kb.load()
    assert [i.id for i in loaded.incidents] == ["INC-2025-002"]
    [d] = loaded.errors
    assert d.path == "incidents/2025/big.md" and (d.line, d.column) == (1, 1) and "1 MiB" in d.message


# -- encoding -----------------------------------------------------------------------------

def test_non_utf8_byte_is_located_by_line_and_column():
    data = incident_text(extra="summary: cafX au lait").encode("utf-8").replace(b"cafX", b"caf\xe9")
    d = only_error(check(data))
    assert (d.line, d.column) == (7, 13)  # 'summary: caf' is 12 characters
    assert "not valid UTF-8" in d.message and "0xe9" in d.message


def test_non_utf8_column_counts_characters_not_bytes():
    # Three two-byte characters before the bad byte on its line: column 4, not 7.
    data = b"---\nid: INC-2025-001\ntitle: \xc3\xa9\xc3\xa9\xc3\xa9\xff\n---\n"
    d = only_error(check(data))
    assert (d.line, d.column) == (3, 11)


def test_non_utf8_on_first_line_after_bom():
    d = only_error(check(b"\xef\xbb\xbf--\x80-\n"))
    assert (d.line, d.column) == (1, 3)


def test_truncated_multibyte_sequence_at_end_of_file():
    d = only_error(check(incident_text().encode() + b"\xe2\x82"))
    assert d.line == incident_text().count("\n") + 1 and d.column == 1


def test_bom_and_crlf_read_as_normal_with_right_line_numbers():
    text = incident_text(extra="summary: fine\nsumary: typo", body="Line one.\nLine two.\n")
    crlf = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")
    result = check(crlf)
    [d] = result.diagnostics
    assert (d.line, d.column) == (8, 1) and "sumary" in d.message and "did you mean 'summary'" in d.message
    clean = check(b"\xef\xbb\xbf" + incident_text(body="Line one.\nLine two.\n").replace("\n", "\r\n").encode())
    assert clean.diagnostics == []
    inc = clean.incident
    assert inc.id == "INC-2025-001" and inc.title == "Something broke"
    assert "\r" not in inc.source.body and inc.source.body == "Line one.\nLine two.\n"
    assert inc.source.body_line == 8


def test_bom_with_lf_is_the_same_as_without():
    text = incident_text(extra="team: ml-platform")
    plain, bom = check(text.encode()), check(b"\xef\xbb\xbf" + text.encode())
    assert plain.incident is not None and bom.incident is not None
    assert plain.incident.front_matter == bom.incident.front_matter


def test_decode_unit():
    assert decode(b"\xef\xbb\xbfa\r\nb\rc\n") == "a\nb\nc\n"
    with pytest.raises(ReadProblem) as exc:
        decode(b"ok\n\xc3")
    assert (exc.value.line, exc.value.column) == (2, 1)


# -- the --- fences -----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["id: INC-2025-001\n---\nBody\n", "# Title\n\nJust Markdown.\n", "", " ---\nid: X\n---\n",
                                  "----\nid: X\n----\n"])
def test_no_opening_fence(text):
    d = only_error(check(text))
    assert (d.line, d.column) == (1, 1)
    assert "must start with a line '---'" in d.message


@pytest.mark.parametrize("text", ["---\nid: INC-2025-001\ntitle: t\n", "---", "---\n", "---\nid: X\n-- -\n"])
def test_unclosed_front_matter(text):
    d = only_error(check(text))
    assert (d.line, d.column) == (1, 1)
    assert "not closed" in d.message and "'---'" in d.message


def test_fences_may_carry_trailing_spaces():
    text = incident_text().replace("---\n", "---  \n", 1).replace("\n---\n", "\n--- \t\n")
    result = check(text)
    assert result.incident is not None, [d.text() for d in result.diagnostics]


def test_body_keeps_later_rulers_and_starts_after_closing_fence():
    text = incident_text(body="Intro\n\n---\n\nAfter a ruler.\n")
    inc = check(text).incident
    assert inc.source.body == "Intro\n\n---\n\nAfter a ruler.\n"
    assert inc.source.body_line == 8
    parts = split(text)
    assert parts.front.startswith("id: INC-2025-001\n") and parts.body_line == 8


@pytest.mark.parametrize("front, what", [
    ("- id: INC-2025-001\n- title: t\n", "list"),
    ("just a sentence\n", "scalar"),
    ("42\n", "number"),
    ("", "empty"),
    ("# only a comment\n", "comment only"),
    ("~\n", "null"),
])
def test_front_matter_that_is_not_a_mapping(front, what):
    d = only_error(check(f"---\n{front}---\nBody\n"))
    assert (d.line, d.column) == (1, 1), what
    assert "must be a mapping" in d.message


def test_problem_after_body_line_numbers_with_crlf_and_blank_lines():
    text = "---\r\n\r\nid: INC-2025-001\r\ntitle: t\r\nstatus: draft\r\nseverity: SEV3\r\n\r\nstarted: 2025-06-01\r\n---\r\n"
    d = only_error(check(text.encode()))
    assert (d.line, d.column) == (8, 10) and "date without a time" in d.message


def test_lone_cr_line_endings_are_lines_too():
    text = incident_text(extra="bogus: 1").replace("\n", "\r")
    d = only_error(check(text.encode()))
    assert (d.line, d.column) == (7, 1) and "unknown field 'bogus'" in d.message


def test_unreadable_file_is_an_error_not_a_crash(kb):
    # A dangling link cannot be read whoever runs the tests (chmod does not stop root).
    (kb.root / "incidents" / "2025").mkdir(parents=True)
    (kb.root / "incidents" / "2025" / "gone.md").symlink_to(kb.root / "nowhere.md")
    kb.add("2025/ok.md", incident_text())
    loaded = kb.load()
    [d] = loaded.errors
    assert d.path == "incidents/2025/gone.md" and (d.line, d.column) == (1, 1) and "cannot read the file" in d.message
    assert [i.id for i in loaded.incidents] == ["INC-2025-001"]
