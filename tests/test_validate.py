"""Checks across files and over a whole knowledge base: duplicate and related ids,
final write-ups, every problem of every file, nothing silently dropped, exclusions,
assets, and text kept as written."""


import os

import pytest

from conftest import incident_text
from pmkb.kb import KnowledgeBaseError, Loader
from checkhelpers import rules, check, one_error, pos

FINAL_OK = """\
summary: It broke and we fixed it.
services: [fraud-api]
detected: 2025-06-01 10:10
resolved: 2025-06-01 11:00
root_causes:
  - {category: data/schema-change, description: A column was renamed upstream.}
"""


# -- ids across files ---------------------------------------------------------------------

def test_duplicate_ids_name_both_files(kb):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    kb.add("2025/sub/b.md", incident_text("INC-2025-001", title="Other"))
    kb.add("2025/c.md", incident_text("INC-2025-002"))
    loaded = kb.load()
    errs = loaded.errors
    assert {(d.path, d.line, d.column) for d in errs} == {("incidents/2025/a.md", 2, 1), ("incidents/2025/sub/b.md", 2, 1)}
    by_path = {d.path: d.message for d in errs}
    assert "INC-2025-001" in by_path["incidents/2025/a.md"] and "incidents/2025/sub/b.md" in by_path["incidents/2025/a.md"]
    assert "incidents/2025/a.md" in by_path["incidents/2025/sub/b.md"] and "unique" in by_path["incidents/2025/sub/b.md"]
    assert [i.id for i in loaded.incidents] == ["INC-2025-002"]  # neither copy is taken as the real one


def test_duplicate_id_three_times(kb):
    for name in ("a", "b", "c"):
        kb.add(f"{name}.md", incident_text("INC-2025-007"))
    errs = kb.load().errors
    assert {d.path for d in errs} == {"incidents/a.md", "incidents/b.md", "incidents/c.md"}


def test_duplicate_id_is_found_even_when_one_file_has_other_errors(kb):
    kb.add("a.md", incident_text("INC-2025-001"))
    kb.add("b.md", incident_text("INC-2025-001", status="bogus"))
    errs = kb.load().errors
    assert any(d.path == "incidents/a.md" and "also used by incidents/b.md" in d.message for d in errs)


def test_related_ids_must_exist_with_did_you_mean(kb):
    text = incident_text("INC-2025-002", extra="related: [INC-2025-001, INC-2025-010]")
    kb.add("a.md", incident_text("INC-2025-001"))
    kb.add("b.md", text)
    kb.add("c.md", incident_text("INC-2025-011"))
    [d] = kb.load().errors
    assert d.path == "incidents/b.md" and (d.line, d.column) == pos(text, "INC-2025-010")
    assert "related: no incident has the id 'INC-2025-010'" in d.message and "did you mean 'INC-2025-011'" in d.message


def test_related_id_of_a_broken_file_still_exists(kb):
    # The link target has an error of its own; the link is not reported as dangling on top of that.
    kb.add("a.md", incident_text("INC-2025-001", severity="SEV9"))
    kb.add("b.md", incident_text("INC-2025-002", extra="related: [INC-2025-001]"))
    errs = kb.load().errors
    assert [d.path for d in errs] == ["incidents/a.md"]


def test_self_reference_is_an_error():
    text = incident_text("INC-2025-003", extra="related: [INC-2025-001, INC-2025-003]")
    result = check(text)
    [d] = result.diagnostics
    assert d.is_error and (d.line, d.column) == pos(text, "INC-2025-003]")
    assert "cannot be related to itself" in d.message


# -- final write-ups ----------------------------------------------------------------------

def test_final_without_root_causes_is_an_error():
    text = incident_text(status="final", extra=FINAL_OK.split("root_causes:")[0])
    result = check(text)
    [d] = result.diagnostics
    assert d.is_error and result.incident is None
    assert (d.line, d.column) == pos(text, "final")
    assert "final postmortem needs at least one root cause" in d.message


def test_final_with_empty_root_causes_is_reported_at_the_list():
    text = incident_text(status="final", extra=FINAL_OK.split("root_causes:")[0] + "root_causes: []")
    [d] = check(text).diagnostics
    assert d.is_error and (d.line, d.column) == pos(text, "[]")


def test_draft_and_review_may_lack_root_causes():
    for status in ("draft", "review"):
        assert check(incident_text(status=status)).diagnostics == []


def test_complete_final_has_no_diagnostics():
    result = check(incident_text(status="final", extra=FINAL_OK))
    assert result.diagnostics == [] and result.incident.status == "final"


@pytest.mark.parametrize("missing", ["summary", "detected", "resolved"])
def test_final_without_summary_detected_resolved_warns(missing):
    extra = "".join(line + "\n" for line in FINAL_OK.splitlines() if not line.startswith(missing))
    result = check(incident_text(status="final", extra=extra))
    [d] = result.diagnostics
    assert d.severity == "warning" and (d.line, d.column) == (1, 1)
    assert f"a final postmortem should have '{missing}'" in d.message
    assert result.incident is not None  # a warning does not drop the incident


def test_done_action_item_without_completed_warns():
    text = incident_text(extra="action_items:\n  - {title: Add alert, type: detection, owner: ml, due: 2025-07-01, status: done}\n"
                               "  - {title: Fix, type: prevention, owner: ml, due: 2025-07-01, status: done, completed: 2025-06-20}")
    result = check(text)
    [d] = result.diagnostics
    assert d.severity == "warning" and (d.line, d.column) == pos(text, "{title: Add alert")
    assert "action_items[0] is done but has no 'completed' date" in d.message
    assert result.incident.action_items[1].completed.isoformat() == "2025-06-20"


# -- whole knowledge base -----------------------------------------------------------------

BROKEN = {
    "2025/no-fence.md": ("# just markdown\n", (1, 1), "must start with a line '---'"),
    "2025/unclosed.md": ("---\nid: INC-2025-100\n", (1, 1), "not closed"),
    "2025/list.md": ("---\n- a\n---\n", (1, 1), "must be a mapping"),
    "2025/yaml.md": ("---\nid: [\n---\n", (3, 1), "invalid YAML"),
    "2025/latin1.md": (b"---\nid: INC-2025-101\ntitle: caf\xe9\n---\n", (3, 11), "not valid UTF-8"),
    "2025/deep/er/enum.md": (incident_text("INC-2025-102", status="done"), (4, 9), "is not one of draft, review, final"),
    "2025/dup-key.md": (incident_text("INC-2025-103", extra="team: a\nteam: b"), (8, 1), "given twice"),
    "2025/time.md": (incident_text("INC-2025-104", started="2025-06-01"), (6, 10), "date without a time"),
    "2025/anchor.md": (incident_text("INC-2025-105", extra="team: &t x"), (7, 7), "anchor"),
}


def test_every_problem_of_every_file_in_one_run(kb):
    for rel, (text, _, _) in BROKEN.items():
        kb.add(rel, text)
    kb.add("2025/good.md", incident_text("INC-2025-001"))
    kb.add("2025/two-problems.md", incident_text("INC-2025-002", severity="SEV0", extra="sumary: x"))
    loaded = kb.load()
    for rel, (_, (line, col), words) in BROKEN.items():
        mine = [d for d in loaded.errors if d.path == f"incidents/{rel}"]
        assert any((d.line, d.column) == (line, col) and words in d.message for d in mine), (rel, [d.text() for d in mine])
    two = [d for d in loaded.errors if d.path == "incidents/2025/two-problems.md"]
    assert len(two) == 2
    assert [i.id for i in loaded.incidents] == ["INC-2025-001"]
    assert loaded.diagnostics == sorted(loaded.diagnostics, key=lambda d: (d.path, d.line, d.column, d.severity, d.message))


def test_no_incident_is_silently_dropped(kb):
    files = {"2025/ok.md": incident_text("INC-2025-001"), "2025/warn.md": incident_text("INC-2025-002", status="final",
                                                                                         extra=FINAL_OK.replace("summary", "x-summary")),
             **{rel: text for rel, (text, _, _) in BROKEN.items()}, "a/b/c/d.md": incident_text("INC-2025-003"),
             "empty.md": "", "only-body.md": "Hello\n"}
    for rel, text in files.items():
        kb.add(rel, text)
    loaded = kb.load()
    accepted = {i.source.shown for i in loaded.incidents}
    with_errors = {d.path for d in loaded.errors}
    every_md = {f"incidents/{rel}" for rel in files}
    assert accepted | with_errors == every_md
    assert not accepted & with_errors
    assert "incidents/2025/warn.md" in accepted  # warnings keep the incident


def test_underscore_and_dot_files_and_folders_are_excluded(kb):
    kb.add("2025/ok.md", incident_text("INC-2025-001"))
    for rel in ("_template.md", "2025/_draft.md", "_templates/ml.md", ".hidden.md", ".git/x.md", "2025/.wip/y.md",
                "2025/_old/z.md"):
        kb.add(rel, "this is not an incident at all")
    kb.add("2025/_old/image.png", b"\x89PNG")
    loaded = kb.load()
    assert loaded.diagnostics == []
    assert [i.id for i in loaded.incidents] == ["INC-2025-001"]
    assert loaded.assets == []


def test_only_md_files_are_incidents_others_are_assets(kb):
    kb.add("2025/ok.md", incident_text("INC-2025-001"))
    kb.add("2025/graph.png", b"\x89PNG\r\n")
    kb.add("2025/notes.txt", "not yaml: [")
    loaded = kb.load()
    assert loaded.diagnostics == []
    assert sorted(a.path for a in loaded.assets) == ["2025/graph.png", "2025/notes.txt"]


def test_asset_symlink_pointing_outside_is_an_error(kb, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not publish", encoding="utf-8")
    kb.add("2025/ok.md", incident_text("INC-2025-001"))
    (kb.root / "incidents" / "2025" / "leak.txt").symlink_to(secret)
    (kb.root / "incidents" / "2025" / "shared.png").symlink_to(kb.add("2025/real.png", b"\x89PNG"))
    loaded = kb.load()
    [d] = loaded.errors
    assert d.path == "incidents/2025/leak.txt" and (d.line, d.column) == (1, 1)
    assert "outside the incidents folder" in d.message
    assert sorted(a.path for a in loaded.assets) == ["2025/real.png", "2025/shared.png"]
    assert [i.id for i in loaded.incidents] == ["INC-2025-001"]


def test_symlinked_folder_pointing_outside_is_an_error(kb, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "dump.log").write_text("secrets", encoding="utf-8")
    kb.add("2025/ok.md", incident_text("INC-2025-001"))
    (outside / "inc.md").write_text(incident_text("INC-2025-009"), encoding="utf-8")
    (kb.root / "incidents" / "2025" / "logs").symlink_to(outside, target_is_directory=True)
    (kb.root / "incidents" / "inner").symlink_to(kb.root / "incidents" / "2025", target_is_directory=True)
    loaded = kb.load()
    # Linked folders are not followed; that is said, never silent (they may hold incidents).
    assert [(d.path, d.line) for d in loaded.errors] == [("incidents/2025/logs", 1), ("incidents/inner", 1)]
    assert all("folder is a link" in d.message for d in loaded.errors)
    assert [i.id for i in loaded.incidents] == ["INC-2025-001"]


def test_dangling_asset_link_is_an_error(kb):
    kb.add("2025/ok.md", incident_text("INC-2025-001"))
    (kb.root / "incidents" / "2025" / "gone.png").symlink_to(kb.root / "incidents" / "2025" / "never.png")
    [d] = kb.load().errors
    assert d.path == "incidents/2025/gone.png" and "does not exist" in d.message


def test_html_in_text_fields_is_kept_as_plain_text():
    title = '<script>alert("t")</script> & <b>bold</b>'
    summary = "<img src=x onerror=alert(1)> &amp; &lt;"
    text = incident_text(title=title, extra=f"summary: '{summary}'\nimpact: \"<i>all</i> users\"\n"
                                            "root_causes:\n  - {category: data/schema-change, description: '<a href=x>y</a>'}\n"
                                            "timeline:\n  - {at: 2025-06-01 10:00, event: '</div><div>'}")
    result = check(text)
    assert result.diagnostics == []
    inc = result.incident
    assert inc.title == title and inc.summary == summary and inc.impact == "<i>all</i> users"
    assert inc.root_causes[0].description == "<a href=x>y</a>" and inc.timeline[0].event == "</div><div>"
    assert inc.front_matter["title"] == title


def test_incidents_are_ordered_by_started_then_id(kb):
    kb.add("c.md", incident_text("INC-2025-003", started="2025-06-01 10:00"))
    kb.add("a.md", incident_text("INC-2025-002", started="2025-06-01 10:00"))
    kb.add("b.md", incident_text("INC-2025-001", started="2025-06-02 10:00"))
    kb.add("d.md", incident_text("INC-2025-004", started="2025-06-01 12:00+02:00"))
    loaded = kb.load()
    assert [i.id for i in loaded.incidents] == ["INC-2025-002", "INC-2025-003", "INC-2025-004", "INC-2025-001"]
    assert set(loaded.by_id) == {"INC-2025-001", "INC-2025-002", "INC-2025-003", "INC-2025-004"}


def test_missing_incidents_folder_is_a_knowledge_base_error(kb):
    kb.write_config(incidents_dir="nowhere")
    with pytest.raises(KnowledgeBaseError) as exc:
        kb.load()
    [d] = exc.value.diagnostics
    assert d.path == "nowhere" and "does not exist" in d.message


def test_reload_rechecks_only_changed_files(kb):
    a = kb.add("a.md", incident_text("INC-2025-001"))
    kb.add("b.md", incident_text("INC-2025-002"))
    loader = Loader(workers=1)
    assert len(loader.load(kb.settings).incidents) == 2 and loader.checked_last == 2
    a.write_text(incident_text("INC-2025-001", severity="SEV7"), encoding="utf-8")
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 1_000_000))
    second = loader.load(kb.settings)
    assert loader.checked_last == 1
    [d] = second.errors
    assert d.path == "incidents/a.md" and "SEV7" in d.message
    a.unlink()
    third = loader.load(kb.settings)
    assert [i.id for i in third.incidents] == ["INC-2025-002"] and third.diagnostics == []


def test_only_limits_diagnostics_but_checks_against_everything(kb):
    kb.add("a.md", incident_text("INC-2025-001", severity="SEV9"))
    new = kb.add("b.md", incident_text("INC-2025-002", extra="related: [INC-2025-001, INC-2025-404]"))
    loaded = Loader(workers=1).load(kb.settings, only=[new])
    assert {d.path for d in loaded.diagnostics} == {"incidents/b.md"}
    [d] = loaded.errors
    assert "INC-2025-404" in d.message


def test_related_null_without_an_id_is_a_diagnostic_not_a_crash():
    # found by hypothesis: `related: [null]` in a file without an id once raised KeyError
    result = check("---\nrelated: [null]\n---\nbody\n")
    texts = [d.text() for d in result.diagnostics]
    assert any("id" in t for t in texts) and not any("internal error" in t for t in texts)


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85"])
def test_a_hidden_line_break_is_reported_where_the_editor_shows_it(char):
    # YAML 1.1 breaks lines at these; the author's editor does not, so libyaml's message
    # named a line below the real one, about a missing ':'.
    text = incident_text(extra=f"summary: pasted{char}from a chat\nservices: [api{char}]")
    d = one_error(text)
    assert (d.line, d.column) == pos(text, char)
    assert f"U+{ord(char):04X}" in d.message and "remove it" in d.message and "(1 more in the front matter)" in d.message
