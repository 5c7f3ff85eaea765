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
    if tzi is _UTC:
        return result
    try:
        return result.astimezone(_UTC)
    except OverflowError:  # e.g. 9999-12-31 23:00 -05:00 lies past the last representable instant
        raise TimeProblem(f"'{s}' is out of the range of dates this tool can represent") from None


_UTC = timezone.utc


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


def now(tz: tzinfo) -> datetime:
    """The current time in `tz`; SOURCE_DATE_EPOCH, when set, fixes it (reproducible builds)."""
    import os
    import time
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.strip().isdigit() else time.time()
    return datetime.fromtimestamp(seconds, tz)


def today(tz: tzinfo) -> date:
    """'Today' for overdue action items: the build date in the knowledge base's time zone."""
    return now(tz).date()
