"""Vectorised calendar arithmetic for the generator: epoch days, months, and local time to UTC.

Dates are ``int32`` days since 1970-01-01 (polars' own ``Date`` encoding) and instants ``int64``
microseconds since the epoch in UTC (polars' ``Datetime("us", "UTC")``), so whole columns convert
at once.  Time-zone offsets come from a (zone x day) table built once with :mod:`zoneinfo`: each
day's offset is the one in force at local noon, which is exact for every local time from 03:00 to
24:00 -- the generator never places payments or events between midnight and 03:00 local.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import polars as pl

EPOCH = dt.date(1970, 1, 1)
US_PER_MINUTE = 60_000_000
MINUTES_PER_DAY = 1440

IntArray = npt.NDArray[np.int64]


def epoch_day(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def weekday(days: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """ISO weekday index of epoch days, Monday = 0 (1970-01-01 was a Thursday)."""
    return (days.astype(np.int64) + 3) % 7


def month_index(days: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """Months since 1970-01 of epoch days."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_first_day(months: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """Epoch day of the first day of months given as months since 1970-01."""
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def calendar_month(days: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """Calendar month (0 = January) of epoch days."""
    return month_index(days) % 12


def day_of_month(days: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """Day of the month (1..31) of epoch days."""
    return days.astype(np.int64) - month_first_day(month_index(days)) + 1


def date_series(name: str, days: npt.NDArray[np.integer],
                mask: npt.NDArray[np.bool_] | None = None) -> pl.Series:
    """A polars Date series from epoch days; ``mask`` marks the nulls."""
    series = pl.Series(name, days.astype(np.int32)).cast(pl.Date)
    if mask is not None:
        series = series.scatter(np.flatnonzero(mask), None) if mask.any() else series
    return series


def instant_series(name: str, micros: npt.NDArray[np.int64]) -> pl.Series:
    """A polars ``Datetime("us", "UTC")`` series from epoch microseconds."""
    return pl.Series(name, micros.astype(np.int64)).cast(pl.Datetime("us", "UTC"))


class ZoneClock:
    """Offsets of a fixed list of IANA zones over a day range, for array conversions."""

    def __init__(self, zones: tuple[str, ...], first_day: int, last_day: int) -> None:
        self.zones = zones
        self.first_day = first_day
        span = last_day - first_day + 1
        offsets = np.zeros((len(zones), span), dtype=np.int64)
        for z, name in enumerate(zones):
            info = ZoneInfo(name)
            for i in range(span):
                day = EPOCH + dt.timedelta(days=first_day + i)
                noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=info)
                delta = noon.utcoffset()
                assert delta is not None
                offsets[z, i] = int(delta.total_seconds()) // 60
        self._offsets = offsets
        self._span = span

    def offset_minutes(self, zone: npt.NDArray[np.integer], day: npt.NDArray[np.integer]) -> IntArray:
        """UTC offset in minutes of each (zone index, epoch day); days outside the range are clamped."""
        i = np.clip(day.astype(np.int64) - self.first_day, 0, self._span - 1)
        return self._offsets[zone.astype(np.int64), i]

    def to_utc(self, zone: npt.NDArray[np.integer], day: npt.NDArray[np.integer],
               minute: npt.NDArray[np.integer]) -> IntArray:
        """UTC epoch microseconds of local ``day`` at ``minute`` past midnight in ``zone``."""
        local = day.astype(np.int64) * MINUTES_PER_DAY + minute.astype(np.int64)
        return (local - self.offset_minutes(zone, day)) * US_PER_MINUTE

    def to_local(self, zone: npt.NDArray[np.integer],
                 micros: npt.NDArray[np.int64]) -> tuple[IntArray, IntArray]:
        """Local (epoch day, minute of day) of UTC instants in ``zone``."""
        utc_minutes = micros // US_PER_MINUTE
        offset = self.offset_minutes(zone, utc_minutes // MINUTES_PER_DAY)
        local = utc_minutes + offset
        return local // MINUTES_PER_DAY, local % MINUTES_PER_DAY
