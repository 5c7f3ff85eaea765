"""Timestamps and dates (SPEC section 2): forms, offsets, the knowledge base's time zone,
daylight-saving gaps and repeats, and the order rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from conftest import ROOT, incident_text
from pmkb import Rules, check_file, load_checker, load_taxonomy, today, zone
from pmkb.incidents.validate import ORDER_RULES
from pmkb.reading.timestamps import TimeProblem, iso_utc, now, parse_date, parse_timestamp

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


@cache
def rules(tz: str = "UTC") -> Rules:
    return Rules(load_taxonomy(ROOT / "schema" / "taxonomy.yml"), load_checker(), zone(tz))


def check(text: str, tz: str = "UTC"):
    return check_file(text.encode("utf-8"), "2025/x.md", "incidents/2025/x.md", rules(tz))


def pos(text: str, needle: str) -> tuple[int, int]:
    i = text.index(needle)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- forms --------------------------------------------------------------------------------

@pytest.mark.parametrize("written, expected", [
    ("2025-06-01 10:00", utc(2025, 6, 1, 10, 0)),
    ("2025-06-01T10:00", utc(2025, 6, 1, 10, 0)),
    ("2025-06-01t10:00", utc(2025, 6, 1, 10, 0)),
    ("2025-06-01 9:05", utc(2025, 6, 1, 9, 5)),
    ("2025-06-01 10:00:30", utc(2025, 6, 1, 10, 0, 30)),
    ("2025-06-01 10:00:30.25", utc(2025, 6, 1, 10, 0, 30, 250000)),
    ("2025-06-01T10:00:30.123456789Z", utc(2025, 6, 1, 10, 0, 30, 123456)),
    ("2025-06-01 10:00Z", utc(2025, 6, 1, 10, 0)),
    ("2025-06-01 10:00z", utc(2025, 6, 1, 10, 0)),
    ("2025-06-01 10:00+02:00", utc(2025, 6, 1, 8, 0)),
    ("2025-06-01 10:00:00 +02:00", utc(2025, 6, 1, 8, 0)),
    ("2025-06-01T10:00-0530", utc(2025, 6, 1, 15, 30)),
    ("2025-06-01T10:00-05", utc(2025, 6, 1, 15, 0)),
    ("2025-06-01T10:00+00:00", utc(2025, 6, 1, 10, 0)),
    ("  2025-06-01 10:00  ", utc(2025, 6, 1, 10, 0)),
])
def test_timestamp_forms(written, expected):
    got = parse_timestamp(written, UTC)
    assert got == expected and got.tzinfo == UTC


@pytest.mark.parametrize("written, words", [
    ("2025-06-01", "date without a time"),
    ("2025-02-30 10:00", "day is out of range"),
    ("2025-13-01 10:00", "month must be in 1..12"),
    ("2025-06-01 24:00", "hour must be in 0..23"),
    ("2025-06-01 10:60", "minute must be in 0..59"),
    ("2025-06-01 10:00+24:00", "offset out of range"),
    ("2025-06-01 10:00 CEST", "is not a timestamp"),
    ("01/06/2025 10:00", "is not a timestamp"),
    ("2025-6-1 10:00", "is not a timestamp"),
    ("yesterday", "is not a timestamp"),
    ("", "is not a timestamp"),
])
def test_bad_timestamps(written, words):
    with pytest.raises(TimeProblem) as exc:
        parse_timestamp(written, UTC)
    assert words in str(exc.value)


def test_leap_day_is_valid_only_in_leap_years():
    assert parse_timestamp("2024-02-29 12:00", UTC) == utc(2024, 2, 29, 12)
    with pytest.raises(TimeProblem):
        parse_timestamp("2025-02-29 12:00", UTC)


def test_non_text_timestamp_is_a_problem():
    for value in (20250601, None, 1.5, ["2025-06-01 10:00"]):
        with pytest.raises(TimeProblem):
            parse_timestamp(value, UTC)


def test_parse_date():
    assert parse_date("2025-06-01") == date(2025, 6, 1)
    for bad in ("2025-06-01 10:00", "2025-02-30", "June 1", 20250601):
        with pytest.raises(TimeProblem):
            parse_date(bad)


def test_iso_utc_export_form():
    assert iso_utc(parse_timestamp("2025-06-01 10:00:30.9+02:00", UTC)) == "2025-06-01T08:00:30Z"


# -- in incident files --------------------------------------------------------------------

@pytest.mark.parametrize("field", ["started", "detected", "mitigated", "resolved", "timeline at"])
def test_date_without_time_is_an_error(field):
    if field == "started":
        text = incident_text(started="2025-06-03")
    elif field == "timeline at":
        text = incident_text(extra="timeline:\n  - {at: 2025-06-03, event: deploy}")
    else:
        text = incident_text(extra=f"{field}: 2025-06-03")
    result = check(text)
    [d] = result.diagnostics
    assert d.severity == "error" and result.incident is None
    assert (d.line, d.column) == pos(text, "2025-06-03")
    assert "2025-06-03' is a date without a time" in d.message and "2025-06-03 14:30" in d.message
    assert d.message.startswith("timeline[0].at:" if field == "timeline at" else f"{field}:")


@pytest.mark.parametrize("written", ["2025-02-30 10:00", "'2025-02-30T10:00:00Z'", "2025-02-29 08:00:00"])
def test_invalid_calendar_date_is_an_error(written):
    text = incident_text(started=written)
    [d] = check(text).diagnostics
    assert d.is_error and d.line == 6 and "day is out of range" in d.message


def test_action_item_dates_are_dates():
    text = incident_text(extra="action_items:\n  - {title: t, type: process, owner: o, due: 2025-07-01 12:00, status: done, "
                               "completed: 2025-06-31}")
    result = check(text)
    due, completed = result.diagnostics
    assert (due.line, due.column) == pos(text, "2025-07-01 12:00") and "due: expected a date" in due.message
    assert (completed.line, completed.column) == pos(text, "2025-06-31") and "not a valid date" in completed.message


def test_quoted_and_unquoted_timestamps_mean_the_same():
    a = check(incident_text(started="2025-06-01 10:00:00")).incident
    b = check(incident_text(started="'2025-06-01 10:00:00'")).incident
    c = check(incident_text(started="2025-06-01T10:00:00Z")).incident
    assert a.started == b.started == c.started == utc(2025, 6, 1, 10)


def test_timestamp_written_as_a_number_is_a_type_error():
    [d] = check(incident_text(started="1717236000")).diagnostics
    assert d.line == 6 and "started must be text" in d.message


# -- time zones ---------------------------------------------------------------------------

def test_naive_timestamps_take_the_configured_zone():
    inc = check(incident_text(started="2025-06-01 10:00", extra="resolved: 2025-06-01 12:00Z"), tz="Europe/Berlin").incident
    assert inc.started == utc(2025, 6, 1, 8, 0)          # CEST, +02:00
    assert inc.resolved == utc(2025, 6, 1, 12, 0)        # an offset wins over the setting
    winter = check(incident_text(started="2025-01-15 10:00"), tz="Europe/Berlin").incident
    assert winter.started == utc(2025, 1, 15, 9, 0)      # CET, +01:00
    assert check(incident_text(started="2025-06-01 10:00"), tz="UTC").incident.started == utc(2025, 6, 1, 10)


def test_daylight_saving_gap_is_read_with_fold_0():
    # 02:30 does not exist in Berlin on 2025-03-30: zoneinfo with fold=0 uses the offset before the switch (+01:00).
    inc = check(incident_text(started="2025-03-30 02:30"), tz="Europe/Berlin").incident
    assert inc.started == utc(2025, 3, 30, 1, 30)
    assert inc.started == datetime(2025, 3, 30, 2, 30, tzinfo=BERLIN, fold=0).astimezone(UTC)


def test_repeated_hour_is_read_with_fold_0():
    # 02:30 happens twice in Berlin on 2025-10-26; fold=0 is the first time, still at +02:00.
    inc = check(incident_text(started="2025-10-26 02:30"), tz="Europe/Berlin").incident
    assert inc.started == utc(2025, 10, 26, 0, 30)
    assert inc.started == datetime(2025, 10, 26, 2, 30, tzinfo=BERLIN, fold=0).astimezone(UTC)


def test_zone_names():
    assert zone("UTC") is UTC and zone("utc") is UTC
    assert zone("America/New_York").utcoffset(datetime(2025, 1, 1)) == timedelta(hours=-5)
    for bad in ("Mars/Olympus", "Europe/Berln", "../etc/passwd", ""):
        with pytest.raises(TimeProblem) as exc:
            zone(bad)
        assert "IANA" in str(exc.value)


def test_knowledge_base_timezone_setting(kb):
    kb.write_config(timezone="Europe/Berlin")
    kb.add("a.md", incident_text(started="2025-07-01 09:00"))
    [inc] = kb.load().incidents
    assert inc.started == utc(2025, 7, 1, 7, 0)


# -- order rules --------------------------------------------------------------------------

TIMES = {"started": "2025-06-01 10:00", "detected": "2025-06-01 11:00", "mitigated": "2025-06-01 12:00",
         "resolved": "2025-06-01 13:00"}


def with_times(**times: str) -> str:
    merged = {**TIMES, **times}
    extra = "".join(f"{k}: {merged[k]}\n" for k in ("detected", "mitigated", "resolved"))
    return incident_text(started=merged["started"], extra=extra)


def test_spec_order_rules_are_the_checked_ones():
    assert set(ORDER_RULES) == {("started", "detected"), ("started", "mitigated"), ("started", "resolved"),
                                ("detected", "resolved"), ("mitigated", "resolved")}


@pytest.mark.parametrize("early, late", ORDER_RULES)
def test_each_order_rule_is_reported_at_its_right_hand_field(early, late):
    # Only this pair is out of order: `late` goes just before `early`, everything else keeps its place.
    fields = ["started", "detected", "mitigated", "resolved"]
    present = [early, late] + (["started"] if early != "started" else [])
    base = utc(2025, 6, 1, 10)
    times = {"started": base}
    if early != "started":
        times[early] = base + timedelta(hours=3)
        times[late] = base + timedelta(hours=2)
    else:
        times[late] = base - timedelta(minutes=30)
    lines = "".join(f"{k}: {times[k]:%Y-%m-%d %H:%M}\n" for k in fields if k in present and k != "started")
    text = incident_text(started=f"{base:%Y-%m-%d %H:%M}", extra=lines)
    result = check(text)
    [d] = result.diagnostics
    assert d.is_error and result.incident is None
    assert (d.line, d.column) == (pos(text, f"{late}:")[0], len(late) + 3)  # the value of the right-hand field
    assert d.message.startswith(f"{late} (") and f"is before {early} (" in d.message
    assert f"{late} must not be earlier than {early}" in d.message


def test_order_is_compared_as_instants_across_offsets():
    text = with_times(started="2025-06-01 10:00Z", detected="2025-06-01 11:30+02:00", mitigated="2025-06-01 10:00+00:00",
                      resolved="2025-06-01 12:00Z")
    [d] = check(text).diagnostics
    assert d.line == pos(text, "detected:")[0] and "detected (2025-06-01 11:30+02:00) is before started" in d.message


def test_equal_times_are_in_order():
    t = "2025-06-01 10:00"
    assert check(with_times(started=t, detected=t, mitigated=t, resolved=t)).diagnostics == []


def test_all_broken_rules_are_listed():
    text = with_times(started="2025-06-01 10:00", detected="2025-06-01 09:00", mitigated="2025-06-01 08:00",
                      resolved="2025-06-01 07:00")
    diags = check(text).diagnostics
    got = sorted((d.line, d.message.split(" (")[0], d.message.split("is before ")[1].split(" (")[0]) for d in diags)
    want = sorted((pos(text, f"{late}:")[0], late, early) for early, late in ORDER_RULES)
    assert got == want


def test_order_rules_skip_absent_and_broken_fields():
    assert check(incident_text(extra="resolved: 2025-06-01 12:00")).diagnostics == []
    text = with_times(detected="2025-06-01", resolved="2025-06-01 09:00")
    messages = [d.message for d in check(text).diagnostics]
    assert any("date without a time" in m for m in messages)
    assert any(m.startswith("resolved (") and "before started" in m for m in messages)
    assert not any("before detected" in m for m in messages)


def test_timeline_may_precede_started():
    text = incident_text(extra="timeline:\n  - {at: 2025-05-31 22:00, event: deploy of v2, kind: deploy}\n"
                               "  - {at: 2025-05-30 03:00, event: upstream schema change, kind: data}")
    result = check(text)
    assert result.diagnostics == [] and len(result.incident.timeline) == 2


def test_diagnosis_before_detected_is_a_warning():
    text = incident_text(extra="detected: 2025-06-01 11:00\ntimeline:\n  - {at: 2025-06-01 10:30, event: looked at it, "
                               "kind: diagnosis}\n  - {at: 2025-06-01 11:30, event: found it, kind: diagnosis}")
    result = check(text)
    [d] = result.diagnostics
    assert d.severity == "warning" and result.incident is not None
    assert (d.line, d.column) == pos(text, "2025-06-01 10:30")
    assert "timeline[0] is a diagnosis" in d.message and "before the incident was detected" in d.message


def test_no_diagnosis_warning_without_detected_or_for_other_kinds():
    assert check(incident_text(extra="timeline:\n  - {at: 2025-06-01 10:30, event: e, kind: diagnosis}")).diagnostics == []
    text = incident_text(extra="detected: 2025-06-01 11:00\ntimeline:\n  - {at: 2025-06-01 10:30, event: e, kind: escalation}")
    assert check(text).diagnostics == []


# -- now and today ------------------------------------------------------------------------

def test_source_date_epoch_fixes_now_and_today(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1751326200")  # 2025-06-30T23:30:00Z
    assert now(UTC) == utc(2025, 6, 30, 23, 30)
    assert today(UTC) == date(2025, 6, 30)
    assert today(BERLIN) == date(2025, 7, 1)  # already July in Berlin


def test_without_source_date_epoch_now_is_the_clock(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = datetime.now(UTC)
    got = now(UTC)
    assert before - timedelta(seconds=1) <= got <= datetime.now(UTC) + timedelta(seconds=1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "not-a-number")
    assert abs((now(UTC) - datetime.now(UTC)).total_seconds()) < 5


@pytest.mark.parametrize("value", ["9999-12-31 23:00 -05:00", "0001-01-01 01:00 +05:00"])
def test_timestamps_at_the_edge_of_the_calendar_are_a_diagnostic_not_a_crash(value):
    with pytest.raises(TimeProblem, match="out of the range"):
        parse_timestamp(value, zone("UTC"))
