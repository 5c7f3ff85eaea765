"""Timestamps and dates of the front matter (SPEC section 2)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"[ \t]*(?:(Z|z)|([+-])(\d{2})(?::?(\d{2}))?)?"
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class TimeProblem(ValueError):
    pass


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeProblem(f"unknown time zone {name!r}; use an IANA name such as 'UTC' or 'Europe/Berlin'") from exc


def parse_timestamp(value: object, tz: tzinfo) -> datetime:
    """An aware datetime in UTC. Naive values are read in `tz` (fold=0, as zoneinfo does)."""
    if not isinstance(value, str):
        raise TimeProblem(f"expected a timestamp such as 2025-06-01 14:30, got {value!r}")
    s = value.strip()
    m = _TIMESTAMP.fullmatch(s)
    if m is None:
        if _DATE.fullmatch(s):
            raise TimeProblem(f"'{s}' is a date without a time; give the time too, e.g. '{s} 14:30'")
        raise TimeProblem(f"'{s}' is not a timestamp; write YYYY-MM-DD HH:MM, optionally with seconds and an offset such as Z or +02:00")
    y, mo, d, h, mi, sec, frac, z, sign, oh, om = m.groups()
    micro = int(frac[:6].ljust(6, "0")) if frac else 0
    try:
        if z:
            tzi: tzinfo = _UTC
        elif sign:
            tzi = _offset(sign, oh, om)
        else:
            tzi = tz
        result = datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec) if sec else 0, micro, tzinfo=tzi)
    except ValueError as exc:
        raise TimeProblem(f"'{s}' is not a valid timestamp ({exc})") from None
    try:
        result = result.astimezone(_UTC)
    except OverflowError:  # e.g. 9999-12-31 23:00 -05:00 lies past the last representable instant
        raise TimeProblem(_edge(s)) from None
    if not _FIRST <= result <= _LAST:
        # Every instant must be shown in any time zone (pages, months, quarters): a day's
        # margin at both ends of the calendar keeps that arithmetic from overflowing.
        raise TimeProblem(_edge(s))
    return result


def _edge(s: str) -> str:
    return (f"'{s}' is out of the range of dates this tool can show in every time zone (too near the year 1 or "
            "9999); check the year")


_UTC = timezone.utc
_FIRST = datetime(1, 1, 2, tzinfo=_UTC)
_LAST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=_UTC)


def in_gap(value: str, tz: tzinfo) -> str | None:
    """When `value` is a local time (no offset) that a daylight-saving switch skips in `tz`,
    the time it is read as (fold=0, as zoneinfo does), e.g. '03:30 CEST'; else None."""
    m = _TIMESTAMP.fullmatch(value.strip()) if isinstance(value, str) else None
    if m is None or m.group(8) or m.group(9) or tz is _UTC:
        return None
    y, mo, d, h, mi = (int(g) for g in m.groups()[:5])
    try:
        wall = datetime(y, mo, d, h, mi, tzinfo=tz)
        back = wall.astimezone(_UTC).astimezone(tz)
    except (ValueError, OverflowError):
        return None
    if back.replace(tzinfo=None) == wall.replace(tzinfo=None):
        return None
    return f"{back:%H:%M} {back.tzname() or ''}".strip()


def shift(dt: datetime, days: float) -> datetime:
    """`dt` moved by `days`, held at the ends of the calendar instead of overflowing (a
    window of a million days is "always")."""
    try:
        return dt + timedelta(days=days)
    except OverflowError:
        return datetime.max.replace(tzinfo=dt.tzinfo) if days > 0 else datetime.min.replace(tzinfo=dt.tzinfo)


@lru_cache(maxsize=256)
def _offset(sign: str, hours: str, minutes: str | None) -> tzinfo:
    """The fixed zone of an offset such as +02:00 (a ValueError past 24 hours); a few recur."""
    total = int(hours) * 60 + int(minutes or 0)
    if total >= 24 * 60:
        raise ValueError("offset out of range")
    return timezone(timedelta(minutes=total if sign == "+" else -total))


def parse_date(value: object) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        raise TimeProblem(f"expected a date such as 2025-06-01, got {value!r}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise TimeProblem(f"'{value}' is not a valid date ({exc})") from None


def iso_utc(dt: datetime) -> str:
    """The export format: YYYY-MM-DDTHH:MM:SSZ (fractions of a second are dropped)."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def minutes_between(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60.0


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as seconds, when set to a whole number; a TimeProblem when it lies
    outside the calendar (a value in milliseconds, or a typo), rather than an overflow later."""
    import os
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch.isdigit():
        return None
    seconds = int(epoch)
    if seconds > _MAX_EPOCH:
        raise TimeProblem(f"SOURCE_DATE_EPOCH={epoch[:30]}{'...' if len(epoch) > 30 else ''} is past the year 9999; "
                          "it is the build time in seconds since 1970 (e.g. `git log -1 --format=%ct`)")
    return seconds


_MAX_EPOCH = int((_LAST - datetime(1970, 1, 1, tzinfo=_UTC)).total_seconds())


def now(tz: tzinfo) -> datetime:
    """The current time in `tz`; SOURCE_DATE_EPOCH, when set, fixes it (reproducible builds)."""
    import time
    try:
        epoch = source_date_epoch()
    except TimeProblem:   # the settings reported it; here the latest time the calendar holds
        epoch = _MAX_EPOCH
    return datetime.fromtimestamp(epoch if epoch is not None else time.time(), tz)


def today(tz: tzinfo) -> date:
    """'Today' for overdue action items: the build date in the knowledge base's time zone."""
    return now(tz).date()
