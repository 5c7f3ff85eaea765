"""Is detection and resolution getting faster? This period against the one before.

The planning summary of the trends page and the home page's figures read this module.
Periods adapt to the data: quarters when the latest quarter and the one before each hold
at least `MIN_INCIDENTS` incidents, else halves, else years. A period is a calendar
period of `started` in the knowledge base's time zone; "this period" is the one that
holds the latest incident (it may still be running).

Whether a difference of medians is more than noise is said by a percentile bootstrap: both
periods' values are resampled with replacement, `RESAMPLES` times, from a fixed seed (the
same data always gives the same page), and the middle 95% of the resampled differences
of medians is the interval. When it lies wholly below zero the measure got faster, wholly
above, slower; otherwise the change is within the noise. With fewer than `MIN_N` values in
either period there is no verdict: "too few incidents to tell".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from statistics import median
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from ..incidents.model import Incident

MIN_INCIDENTS = 5       # incidents a period needs before it is compared at that granularity
MIN_N = 5               # values of a measure each period needs for a verdict
RESAMPLES = 4000
SEED = 16               # fixed: the page must not change from one build to the next
CONFIDENCE = 0.95
GRANULARITIES = ("quarter", "half", "year")
PERIOD_NOUNS = {"quarter": "quarter", "half": "half-year", "year": "year"}


# --- calendar periods ------------------------------------------------------------------

def period_key(day: date, granularity: str) -> str:
    """'2025-Q2', '2025-H1' or '2025' for a local date."""
    if granularity == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if granularity == "half":
        return f"{day.year:04d}-H{1 if day.month <= 6 else 2}"
    if granularity == "year":
        return f"{day.year:04d}"
    raise ValueError(f"unknown granularity {granularity!r}")


def _index(key: str) -> tuple[int, int, int]:
    """(year, number within the year, periods per year) of a period key."""
    year = int(key[:4])
    if len(key) == 4:
        return year, 1, 1
    return year, int(key[6]), 4 if key[5] == "Q" else 2


def previous_period(key: str) -> str:
    year, k, per = _index(key)
    if per == 1:
        return f"{year - 1:04d}"
    year, k = (year - 1, per) if k == 1 else (year, k - 1)
    return f"{year:04d}-{'Q' if per == 4 else 'H'}{k}"


def period_bounds(key: str) -> tuple[date, date]:
    """First and last day of a period."""
    year, k, per = _index(key)
    months = 12 // per
    first = date(year, (k - 1) * months + 1, 1)
    end_month = k * months
    last = date(year + 1, 1, 1) if end_month == 12 else date(year, end_month + 1, 1)
    return first, date.fromordinal(last.toordinal() - 1)


# --- choosing the periods --------------------------------------------------------------

@dataclass(frozen=True)
class Periods:
    granularity: str                  # quarter | half | year
    current: str                      # the period of the latest incident
    previous: str
    current_incidents: tuple[Incident, ...]
    previous_incidents: tuple[Incident, ...]
    enough: bool                      # both hold MIN_INCIDENTS (else even years did not)

    @property
    def noun(self) -> str:
        return PERIOD_NOUNS[self.granularity]


def choose_periods(incidents: Sequence[Incident], tz: tzinfo, min_incidents: int = MIN_INCIDENTS) -> Periods | None:
    """The finest granularity at which the latest period and the one before both hold
    `min_incidents`; years (with `enough` False) when none does; None without incidents."""
    if not incidents:
        return None
    days = [(inc, inc.started.astimezone(tz).date()) for inc in incidents]
    latest = max(d for _, d in days)
    chosen = None
    for granularity in GRANULARITIES:
        current = period_key(latest, granularity)
        previous = previous_period(current)
        cur = tuple(i for i, d in days if period_key(d, granularity) == current)
        prev = tuple(i for i, d in days if period_key(d, granularity) == previous)
        chosen = Periods(granularity, current, previous, cur, prev,
                         len(cur) >= min_incidents and len(prev) >= min_incidents)
        if chosen.enough:
            break
    return chosen


# --- comparing a measure ---------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    current_n: int
    previous_n: int
    current_median: float | None
    previous_median: float | None
    difference: float | None                  # current median minus previous median
    interval: tuple[float, float] | None      # bootstrap interval of the difference
    verdict: str                              # faster | slower | no clear change | too few | not recorded

    @property
    def told(self) -> bool:
        """A verdict that rests on enough values."""
        return self.verdict in ("faster", "slower", "no clear change")


def bootstrap_interval(current: Sequence[float], previous: Sequence[float], resamples: int = RESAMPLES,
                       seed: int = SEED, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap interval of median(current) - median(previous). The values
    are sorted first, so the order they come in does not move the result."""
    # numpy is imported where it is used: the site build's main process never needs it
    # (the planning pages are made beside it), and its import takes a tenth of a second.
    import numpy as np
    rng = np.random.default_rng(seed)
    a = np.sort(np.asarray(current, dtype=float))
    b = np.sort(np.asarray(previous, dtype=float))
    ma, mb = _medians(rng, a, resamples), _medians(rng, b, resamples)
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(ma - mb, [tail, 100 - tail])
    return float(lo), float(hi)


def _medians(rng: np.random.Generator, values: np.ndarray, resamples: int) -> np.ndarray:
    """Medians of `resamples` resamples of `values`, drawn in blocks of about two million
    values: a period of thousands of incidents must not take gigabytes at once."""
    import numpy as np
    rows = max(1, 2_000_000 // values.size)
    out = [np.median(rng.choice(values, size=(min(rows, resamples - k), values.size), replace=True), axis=1)
           for k in range(0, resamples, rows)]
    return np.concatenate(out)


def compare(current: Iterable[float | None], previous: Iterable[float | None], min_n: int = MIN_N) -> Comparison:
    """This period's values of a measure against the previous period's (None: not recorded)."""
    a = [v for v in current if v is not None]
    b = [v for v in previous if v is not None]
    ma = median(a) if a else None
    mb = median(b) if b else None
    diff = ma - mb if ma is not None and mb is not None else None
    if not a and not b:
        return Comparison(0, 0, None, None, None, None, "not recorded")
    if len(a) < min_n or len(b) < min_n:
        return Comparison(len(a), len(b), ma, mb, diff, None, "too few")
    lo, hi = bootstrap_interval(a, b)
    verdict = "faster" if hi < 0 else "slower" if lo > 0 else "no clear change"
    return Comparison(len(a), len(b), ma, mb, diff, (lo, hi), verdict)


def compare_measure(periods: Periods, values: dict[str, dict[str, float | None]], measure: str,
                    min_n: int = MIN_N) -> Comparison:
    """`compare` of one duration (`values`: incident id -> durations) over the two periods."""
    return compare((values[i.id][measure] for i in periods.current_incidents),
                   (values[i.id][measure] for i in periods.previous_incidents), min_n)
