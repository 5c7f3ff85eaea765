"""Odd and hostile input (issue 14): no hang, no traceback, nothing lost, nothing written
outside the site. One test (or a few) per class of the issue.

"Unreadable" as root: root reads any file whatever its mode, and CI runs as root. The
tests that need a file or folder root cannot read run `pmkb validate` without the two
capabilities that let root ignore permissions (`setpriv`, util-linux), so `chmod 000`
means what it says there too; in-process tests make the folder listing fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from checkhelpers import check, pos, time_limit
from conftest import incident_text
from pmkb.cli import main
from pmkb.incidents.taxonomy import TaxonomyError, load_taxonomy
from pmkb.knowledge.metrics import MAX_RANGE, month_range, quarter_range
from pmkb.pages.htmlutil import rel_url, yaml_string
from pmkb.reading import files as pmkb_files
from pmkb.settings import MAX_WINDOW_DAYS, SettingsError
from sitehelpers import build_site

ROOT = Path(__file__).resolve().parent.parent
PMKB = [sys.executable, "-m", "pmkb.cli"]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SETPRIV = shutil.which("setpriv")
# without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, root is held to file permissions
NO_DAC = [SETPRIV or "setpriv", "--inh-caps=-dac_override,-dac_read_search",
          "--bounding-set=-dac_override,-dac_read_search", "--"]


def cli(kb, *args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(main, [args[0], "-f", str(kb.root / "mkdocs.yml"), *args[1:]], env=env)
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def validate_as_unprivileged(kb) -> subprocess.CompletedProcess:
    """`pmkb validate` in a process that file permissions hold, root or not."""
    cmd = [*PMKB, "validate", "-f", str(kb.root / "mkdocs.yml")]
    if IS_ROOT:
        if SETPRIV is None:
            pytest.skip("root ignores file permissions and setpriv is not installed to drop that")
        cmd = NO_DAC + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=kb.root,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "plugins")})


def errors_of(kb):
    return {(d.path, d.message) for d in kb.load().errors}


# -- silent loss: an unreadable folder ------------------------------------------------------

def test_unreadable_folder_is_reported_not_skipped(kb):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    kb.add("2024/b.md", incident_text("INC-2024-001", started="2024-06-01 10:00"))
    locked = kb.root / "incidents" / "2024"
    locked.chmod(0)
    try:
        result = validate_as_unprivileged(kb)
    finally:
        locked.chmod(0o755)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "incidents/2024:1:1: error: cannot read this folder" in result.stdout
    assert "Traceback" not in result.stderr


def test_unreadable_file_and_asset_are_reported(kb):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    secret = kb.add("2025/b.md", incident_text("INC-2025-002"))
    asset = kb.add("2025/graph.png", b"\x89PNG")
    secret.chmod(0)
    asset.chmod(0)
    try:
        result = validate_as_unprivileged(kb)
    finally:
        secret.chmod(0o644)
        asset.chmod(0o644)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "incidents/2025/b.md:1:1: error: cannot read the file: Permission denied" in result.stdout
    assert "incidents/2025/graph.png:1:1: error: cannot read the file: Permission denied" in result.stdout


def test_a_folder_listing_that_fails_is_an_error_in_process(kb, monkeypatch):
    # what root cannot reproduce with permissions: the listing itself fails
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    kb.add("2024/b.md", incident_text("INC-2024-001", started="2024-06-01 10:00"))
    real = pmkb_files._scandir

    def failing(path: str):
        if path.endswith("2024"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)
    monkeypatch.setattr(pmkb_files, "_scandir", failing)
    loaded = kb.load()
    assert [i.id for i in loaded.incidents] == ["INC-2025-001"]
    [d] = loaded.errors
    assert d.path == "incidents/2024" and "cannot read this folder (Permission denied)" in d.message


# -- hangs: named pipes ---------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipes_are_errors_not_hangs(kb):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    os.mkfifo(kb.root / "incidents" / "2025" / "pipe.md")
    os.mkfifo(kb.root / "incidents" / "2025" / "log.txt")
    with time_limit(20):
        errors = errors_of(kb)
    assert errors == {
        ("incidents/2025/log.txt", "this entry is a named pipe (FIFO); only files can be incidents or assets: "
                                   "replace it with a file or remove it"),
        ("incidents/2025/pipe.md", "this entry is a named pipe (FIFO); only files can be incidents or assets: "
                                   "replace it with a file or remove it")}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_link_to_a_pipe_is_read_without_waiting(kb, tmp_path):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    os.mkfifo(kb.root / "incidents" / "2025" / "_pipe")
    (kb.root / "incidents" / "2025" / "b.md").symlink_to("_pipe")
    (kb.root / "incidents" / "2025" / "c.txt").symlink_to("_pipe")
    with time_limit(20):
        errors = errors_of(kb)
    assert ("incidents/2025/b.md", "this file is a named pipe (FIFO), not a regular file; replace it with a file or "
                                   "remove it") in errors
    assert any(p == "incidents/2025/c.txt" and "named pipe" in m for p, m in errors)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_the_build_stops_on_a_pipe_with_the_list(kb, tmp_path):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    os.mkfifo(kb.root / "incidents" / "2025" / "pipe.md")
    result = build_site(kb.root, tmp_path / "site", check=False)
    assert result.returncode == 1
    assert "incidents/2025/pipe.md:1:1: error: this entry is a named pipe" in result.stderr
    assert "Traceback" not in result.stderr


# -- links that loop, odd incidents folders ------------------------------------------------

def test_self_referencing_links_are_errors(kb):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    folder = kb.root / "incidents" / "2025"
    (folder / "loop.md").symlink_to("loop.md")
    (folder / "loop.png").symlink_to("loop.png")
    with time_limit(20):
        errors = errors_of(kb)
    assert {p for p, _ in errors} == {"incidents/2025/loop.md", "incidents/2025/loop.png"}
    assert all("loops" in m for _, m in errors)


@pytest.mark.parametrize("setting, words", [
    ("loop", "is a symbolic link that loops"),
    ("afile", "is a file, not a folder"),
    ("nowhere", "does not exist"),
])
def test_incidents_dir_that_is_no_folder_is_said_so(kb, setting, words):
    (kb.root / "loop").symlink_to("loop")
    (kb.root / "afile").write_text("x", encoding="utf-8")
    kb.write_config(incidents_dir=setting)
    result = cli(kb, "validate")
    assert result.exit_code == 2
    assert words in result.output


@pytest.mark.parametrize("setting", ["/", ".", "docs", "docs/incidents", "site", ".."])
def test_incidents_dir_overlapping_docs_or_site_is_refused_by_validate_and_build(kb, tmp_path, setting):
    (kb.root / "docs" / "incidents").mkdir()
    kb.write_config(incidents_dir=setting)
    result = cli(kb, "validate")
    assert result.exit_code == 2
    assert "incidents_dir" in result.output
    if setting in ("/", "docs"):
        built = build_site(kb.root, tmp_path / "site", check=False)
        assert built.returncode == 1 and "incidents_dir" in built.stderr and "Traceback" not in built.stderr


def test_folders_nested_too_deep_are_reported(kb):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    deep = kb.root / "incidents" / "d"
    # 1,500 levels: deeper than PATH_MAX allows as one path; made one level at a time
    os.makedirs(deep, exist_ok=True)
    fd = os.open(deep, os.O_RDONLY)
    try:
        for _ in range(1500):
            os.mkdir("d", dir_fd=fd)
            new = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        with open(os.open("x.md", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as out:
            out.write(incident_text("INC-2025-002"))
    finally:
        os.close(fd)
    try:
        with time_limit(60):
            loaded = kb.load()
        assert [i.id for i in loaded.incidents] == ["INC-2025-001"]
        [d] = loaded.errors
        assert f"more than {pmkb_files.MAX_DEPTH} levels deep" in d.message
    finally:
        _remove_deep(deep)


def _remove_deep(top: Path) -> None:
    """shutil.rmtree recurses once per level: lift the chain one level at a time instead."""
    while (top / "d" / "d").is_dir():
        os.rename(top / "d" / "d", top / "lifted")
        shutil.rmtree(top / "d")
        os.rename(top / "lifted", top / "d")
    shutil.rmtree(top)


# -- files that are Markdown under another name --------------------------------------------

@pytest.mark.parametrize("name", ["b.MD", "b.markdown", "b.Markdown", "b.mkd"])
def test_markdown_under_another_extension_is_an_error(kb, name):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    kb.add(f"2025/{name}", incident_text("INC-2025-002"))
    [(path, message)] = errors_of(kb)
    assert path == f"incidents/2025/{name}" and "rename it to '.md'" in message


# -- calendar edges --------------------------------------------------------------------------

@pytest.mark.parametrize("value, tz", [
    ("0001-01-01 00:00", "UTC"), ("0001-01-01 00:00 -05:00", "UTC"), ("0001-01-01 10:00 +05:00", "America/New_York"),
    ("9999-12-31 23:59", "UTC"), ("9999-12-31 20:00 +05:00", "Asia/Tokyo"), ("9999-12-31 10:00", "America/New_York"),
])
def test_timestamps_at_the_ends_of_the_calendar_are_errors(kb, value, tz):
    kb.write_config(timezone=tz)
    kb.add("a.md", incident_text(started=value))
    [(path, message)] = errors_of(kb)
    assert "out of the range of dates" in message


def test_calendar_edges_huge_window_and_typo_year_build(kb, tmp_path):
    kb.write_config(recurrence_window_days=10**12)
    rc = "root_causes: [{category: data/data-drift, description: d}]\nservices: [svc]\n"
    done = ("action_items: [{title: t, type: prevention, owner: o, due: 9998-12-30, status: done, "
            "completed: 9998-12-30}]\n")
    kb.add("a.md", incident_text("INC-2025-001", started="2025-01-01 10:00", extra=rc))
    kb.add("b.md", incident_text("INC-2025-002", started="2026-02-01 10:00", extra=rc))
    kb.add("c.md", incident_text("INC-0202-001", started="0202-03-01 10:00", extra=rc))   # a typo year
    kb.add("d.md", incident_text("INC-9998-001", started="9998-12-30 10:00", extra=rc + done))
    kb.add("e.md", incident_text("INC-0001-001", started="0001-01-03 10:00 +05:00", extra=rc))
    loaded = kb.load()
    assert loaded.errors == []
    warned = {d.path for d in loaded.warnings if "is the year a typo" in d.message}
    assert warned == {"incidents/c.md", "incidents/d.md", "incidents/e.md"}
    assert loaded.settings.recurrence_window_days == MAX_WINDOW_DAYS
    site = tmp_path / "site"
    result = build_site(kb.root, site, strict=False)
    assert "is the year a typo" in result.stderr
    trends = json.loads((site / "trends.json").read_text(encoding="utf-8"))
    assert len(trends["by_month"]) == 5 and len(trends["by_quarter"]) == 5   # not 120,000 months
    assert (site / "trends.json").stat().st_size < 200_000
    incidents = json.loads((site / "incidents.json").read_text(encoding="utf-8"))["incidents"]
    assert [i["id"] for i in incidents][-1] == "INC-9998-001"
    assert (site / "incidents" / "inc-0001-001" / "index.html").is_file()


def test_month_and_quarter_ranges_are_bounded():
    assert len(month_range("2024-01", "2025-12")) == 24
    assert month_range("0202-03", "2025-06", ["0202-03", "2025-01", "2025-06"]) == ["0202-03", "2025-01", "2025-06"]
    assert len(month_range("1925-01", "2024-12")) == MAX_RANGE
    assert quarter_range("0001-Q1", "9999-Q4", ["5000-Q2"]) == ["0001-Q1", "5000-Q2", "9999-Q4"]


def test_huge_source_date_epoch_is_a_message(kb, tmp_path):
    kb.add("a.md", incident_text())
    env = {"SOURCE_DATE_EPOCH": "9" * 30}
    result = cli(kb, "validate", env=env)
    assert result.exit_code == 2 and "SOURCE_DATE_EPOCH" in result.output
    built = build_site(kb.root, tmp_path / "site", check=False, env=env)
    assert built.returncode == 1 and "SOURCE_DATE_EPOCH" in built.stderr and "Traceback" not in built.stderr


def test_a_start_in_a_daylight_saving_gap_is_explained():
    from checkhelpers import rules
    from pmkb.incidents.validate import Rules, check_file
    berlin = Rules(rules().taxonomy, rules().schema, __import__("pmkb").zone("Europe/Berlin"))
    text = incident_text(started="2025-03-30 02:30", extra="detected: 2025-03-30 03:10")
    result = check_file(text.encode(), "x.md", "incidents/x.md", berlin)
    messages = [d.message for d in result.diagnostics]
    assert any(m.startswith("started: 2025-03-30 02:30 does not exist in Europe/Berlin") and "03:30 CEST" in m
               for m in messages), messages
    assert any("detected (2025-03-30 03:10) is before started" in m and "daylight-saving gap" in m for m in messages)


# -- taxonomy ids in addresses ---------------------------------------------------------------

TAXONOMY = """\
severities:
  - {id: SEV1, title: High}
detection_sources:
  - {id: alert, title: Alert}
dimensions:
  - {id: data, title: Data}
layers:
  - id: LAYER
    title: Ops
    categories:
      - {id: CAT, title: Toil}
"""


@pytest.mark.parametrize("layer, category", [
    ("..", "toil"), ("ops", ".."), ("''", "toil"), ("ops", "''"), ('"a\\"b"', "toil"), ("ops", "'x\" onclick=\"y'"),
    ("Ops", "toil"), ("ops", "a b"), ("ops", "a/b"), ("-ops", "toil"),
])
def test_layer_and_category_ids_are_held_to_a_safe_pattern(tmp_path, layer, category):
    path = tmp_path / "taxonomy.yml"
    path.write_text(TAXONOMY.replace("LAYER", layer).replace("CAT", category), encoding="utf-8")
    with pytest.raises(TaxonomyError) as exc:
        load_taxonomy(path)
    assert any("needs an 'id' of lower-case letters and digits" in d.message for d in exc.value.diagnostics)


def test_safe_ids_are_accepted(tmp_path):
    path = tmp_path / "taxonomy.yml"
    path.write_text(TAXONOMY.replace("LAYER", "ops_2").replace("CAT", "toil.v2-x"), encoding="utf-8")
    assert list(load_taxonomy(path).categories) == ["ops_2/toil.v2-x"]


def test_every_href_is_escaped_by_the_one_helper():
    assert rel_url("incidents/index.md", 'categories/a"b/c d/index.md') == "../categories/a%22b/c%20d/"
    assert rel_url("incidents/index.md", "categories/data/schema-change/index.md") == "../categories/data/schema-change/"


def test_pmkb_new_with_a_broken_taxonomy_is_a_message(kb):
    (kb.root / "schema" / "taxonomy.yml").write_text("layers: [\n", encoding="utf-8")
    result = cli(kb, "new", "A title")
    assert result.exit_code == 2 and "schema/taxonomy.yml:" in result.output


def test_pmkb_new_refuses_an_id_with_a_line_break(kb):
    result = cli(kb, "new", "A title", "--id", "INC-2025-001\n")
    assert result.exit_code == 2 and "not a valid id" in result.output
    assert not list((kb.root / "incidents").rglob("*.md"))


# -- clobbered generated files ---------------------------------------------------------------

def test_docs_file_at_an_export_address_fails_validate_and_build(kb, tmp_path):
    kb.add("a.md", incident_text())
    (kb.root / "docs" / "incidents.json").write_text("{}", encoding="utf-8")
    result = cli(kb, "validate")
    assert result.exit_code == 1
    assert "docs/incidents.json:1:1: error: this file clashes with a generated file" in result.output
    built = build_site(kb.root, tmp_path / "site", check=False)
    assert built.returncode == 1 and "docs/incidents.json clashes" in built.stderr


def test_an_asset_at_a_page_address_is_an_error(kb):
    kb.add("a.md", incident_text("INC-2025-001"))
    kb.add("index.html", "<p>mine</p>")
    kb.add("inc-2025-001/index.html", "<p>mine</p>")
    errors = errors_of(kb)
    assert {p for p, _ in errors} == {"incidents/index.html", "incidents/inc-2025-001/index.html"}
    assert all("would replace" in m for _, m in errors)


# -- strict JSON -----------------------------------------------------------------------------

@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1.0e+999", "[1, {a: .NaN}]"])
def test_numbers_json_cannot_hold_are_errors_at_the_value(value):
    text = incident_text(extra=f"x-score: {value}")
    result = check(text)
    [d] = [d for d in result.diagnostics if d.is_error]
    assert "not a number JSON can hold" in d.message
    assert d.line == pos(text, "x-score")[0]


# -- false refusals (fixed in yamlsafe; held here for the cases) ---------------------

def test_brackets_in_text_and_long_flow_timelines_are_accepted():
    evidence = '"' + "[{" * 3000 + '\\"log\\": 1' + "}]" * 3000 + '"'
    events = ",\n  ".join(f"{{at: 2025-06-01 10:{i % 60:02d}, event: e{i}}}" for i in range(10_000))
    text = incident_text(extra=f"dimensions:\n  data: {{contribution: low, evidence: [{evidence}]}}\n"
                               f"timeline: [\n  {events}\n]")
    result = check(text)
    assert [d.text() for d in result.diagnostics if d.is_error] == []
    assert len(result.incident.timeline) == 10_000


# -- unbounded reads -------------------------------------------------------------------------

@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_pmkb_similar_reads_a_bounded_amount(kb, device):
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    kb.add("a.md", incident_text())
    with time_limit(20):
        result = cli(kb, "similar", device)
    assert result.exit_code == 2 and "not a regular file" in result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_pmkb_similar_does_not_wait_on_a_pipe(kb, tmp_path):
    kb.add("a.md", incident_text())
    os.mkfifo(tmp_path / "draft.md")
    with time_limit(20):
        result = cli(kb, "similar", str(tmp_path / "draft.md"))
    assert result.exit_code == 2 and "named pipe" in result.output


# -- control characters ----------------------------------------------------------------------

def test_control_characters_in_titles_do_not_break_the_page(kb, tmp_path):
    kb.add("a.md", incident_text("INC-2025-001", extra='summary: "sum\\x7fmary \\ufffe"').replace(
        "title: 'Something broke'", 'title: "Del\\x7fhere \\ufffe and \\x1b"'))
    kb.add("b.md", incident_text("INC-2025-002").replace("title: 'Something broke'", 'title: "nul\\0here"'))
    site = tmp_path / "site"
    build_site(kb.root, site, strict=False)
    html = (site / "incidents" / "inc-2025-001" / "index.html").read_text(encoding="utf-8")
    assert "<title>INC-2025-001: Del\x7fhere \ufffe and \x1b" in html
    assert "title:" not in html.split("<article", 1)[1]     # no raw metadata shown
    assert 'content="sum\x7fmary \ufffe"' in html
    for page in site.rglob("*.html"):
        assert b"\x00" not in page.read_bytes(), page
    nul = (site / "incidents" / "inc-2025-002" / "index.html").read_text(encoding="utf-8")
    assert "<title>INC-2025-002: nul\ufffdhere" in nul
    assert json.loads((site / "incidents.json").read_text(encoding="utf-8"))["incidents"][1]["title"] == "nul\x00here"


def test_tabs_and_line_breaks_stay_allowed():
    result = check(incident_text(extra='summary: "one\\ttwo\\nthree"'))
    assert result.incident is not None


@pytest.mark.parametrize("value", ["a\x7fb", "x\ufffe", "\x00n", 'q"\\ \u2028 é', "\ud800"])
def test_generated_page_titles_survive_any_text(value):
    import yaml
    assert yaml.safe_load("t: " + yaml_string(value))["t"] == value


# -- smaller ones ----------------------------------------------------------------------------

def test_related_listed_twice_is_a_warning_and_shown_once(kb):
    kb.add("a.md", incident_text("INC-2025-001"))
    kb.add("b.md", incident_text("INC-2025-002", extra="related: [INC-2025-001, INC-2025-001]"))
    loaded = kb.load()
    [w] = loaded.warnings
    assert w.path == "incidents/b.md" and "listed twice" in w.message
    assert loaded.by_id["INC-2025-002"].related == ("INC-2025-001",)


def test_index_filter_values_are_exact(kb, tmp_path):
    kb.add("a.md", incident_text("INC-2025-001", extra="services: ['a|b', 'c  d', ' e ']\nteam: ' t  x '"))
    kb.add("b.md", incident_text("INC-2025-002", extra="services: [a, b]"))
    site = tmp_path / "site"
    build_site(kb.root, site, strict=False)
    html = (site / "incidents" / "index.html").read_text(encoding="utf-8")
    assert "data-svc='[\"a|b\", \"c  d\", \" e \"]'" in html
    assert '<option value="c  d">' in html and '<option value=" e ">' in html
    assert '<option value=" t  x ">' in html


def test_settings_errors_are_settings_errors(tmp_path):
    from pmkb.settings import Settings
    with pytest.raises(SettingsError, match="holds the docs folder"):
        Settings.from_options(tmp_path, {"incidents_dir": "."}, tmp_path / "docs", tmp_path / "site")


@pytest.mark.browser
def test_index_filter_matches_odd_values_exactly_in_the_browser(kb, tmp_path):
    from sitehelpers import browser_unavailable, chromium, serve
    if (why := browser_unavailable()) is not None:
        pytest.skip(why)
    kb.add("a.md", incident_text("INC-2025-001", extra="services: ['a|b', 'c  d']"))
    kb.add("b.md", incident_text("INC-2025-002", extra="services: [a, b, ' e ']"))
    kb.add("c.md", incident_text("INC-2025-003", extra="services: ['c d']"))
    site = tmp_path / "site"
    build_site(kb.root, site, strict=False)
    with serve(site) as base, chromium() as browser:
        page = browser.new_page()
        page.goto(base + "incidents/")
        form = page.locator("form[data-pmkb-filter]")
        form.wait_for(state="visible")
        shown = {}
        for value in ["a|b", "a", "b", "c  d", "c d", " e "]:
            # set by value in the page: Playwright's select_option also matches labels, whose
            # spaces the browser collapses ("c  d" reads "c d")
            form.locator("select[data-key=svc]").evaluate(
                "(s, v) => { s.value = v; s.dispatchEvent(new Event('change')); }", value)
            shown[value] = sorted(page.eval_on_selector_all(
                ".pmkb-index tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.cells[0].innerText.trim())"))
        page.screenshot(path=str(tmp_path / "filter.png"), full_page=True)
    assert shown == {"a|b": ["INC-2025-001"], "a": ["INC-2025-002"], "b": ["INC-2025-002"],
                     "c  d": ["INC-2025-001"], "c d": ["INC-2025-003"], " e ": ["INC-2025-002"]}


def test_names_with_line_breaks_or_bytes_that_are_not_utf8_are_reported(kb):
    kb.add("2025/a.md", incident_text("INC-2025-001"))
    folder = kb.root / "incidents" / "2025"
    (folder / "two\nlines.md").write_text(incident_text("INC-2025-002"), encoding="utf-8")
    with open(os.fsencode(folder) + b"/bad\xff.png", "wb") as out:
        out.write(b"x")
    result = cli(kb, "validate")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "incidents/2025/two\\nlines.md:1:1: error: this name holds a control character" in lines[1] + lines[0]
    assert any(line.startswith("incidents/2025/bad\\ufffd.png:1:1: error: this name holds") for line in lines)
