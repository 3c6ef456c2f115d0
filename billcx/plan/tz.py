"""Time-zone conversions, vectorised per zone, with an explicit rule for DST gaps and folds.

polars converts a whole column to one zone at a time, so frames are partitioned by zone (a few
hundred at most), converted, and put back in their original order.

DST rule (see ``SendTime.dst_gap`` / ``dst_fold``):

* gap (spring forward, the local time does not exist): ``shift`` reads the wall-clock time with the
  offset in force before the jump, so 02:30 on a day clocks go 02:00 -> 03:00 becomes 03:30;
  ``transition`` sends at the first instant after the jump (03:00).
* fold (fall back, the local time occurs twice): ``earliest`` (the first occurrence, still on summer
  time) or ``latest``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, Literal

import polars as pl

from billcx.schema import UTC_INSTANT

LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
_LOOKBACK = pl.duration(hours=3)  # longer than any DST gap, shorter than the time between transitions


def valid_zones(zones: list[str]) -> set[str]:
    """The subset of ``zones`` that are IANA zones this machine (and polars) knows."""
    ok: set[str] = set()
    for z in zones:
        if not z:
            continue
        try:
            zoneinfo.ZoneInfo(z)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
        try:
            pl.select(pl.lit(0).cast(pl.Datetime("us")).dt.replace_time_zone(z))
        except pl.exceptions.PolarsError:
            continue
        ok.add(z)
    return ok


def _by_zone(frame: pl.DataFrame, tz: str) -> list[tuple[str, pl.DataFrame]]:
    parts = frame.with_row_index("_tz_row").partition_by(tz, as_dict=True, maintain_order=True)
    return sorted(((str(k[0]), v) for k, v in parts.items()), key=lambda kv: kv[0])


def local_datetime(frame: pl.DataFrame, *, instant: str, tz: str, out: str) -> pl.DataFrame:
    """Add ``out``: the UTC instant ``frame[instant]`` as a naive local datetime in ``frame[tz]``."""
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias(out))
    # Only the two needed columns are split by zone; the result is put back by row number.
    slim = frame.select(instant, tz)
    pieces = [
        part.select(
            "_tz_row", pl.col(instant).dt.convert_time_zone(zone).dt.replace_time_zone(None).alias(out)
        )
        for zone, part in _by_zone(slim, tz)
    ]
    local = pl.concat(pieces).sort("_tz_row")[out]
    return frame.with_columns(local)


_BUCKET_MINUTES = 15  # zone offsets are whole quarter hours, and so are their changes (checked)
_US_PER_MINUTE = 60_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _zone_offsets(zones: list[str], start: dt.datetime, buckets: int) -> tuple[pl.Series, list[bool]]:
    """UTC offset (minutes) of each zone in each 15-minute bucket from ``start``, zone after zone.

    A zone whose offset changes inside a bucket (a transition off the quarter hour) is marked
    inexact: its rows are converted by polars instead.
    """
    bounds = pl.DataFrame(
        {
            "_b": pl.datetime_range(
                start,
                start + dt.timedelta(minutes=_BUCKET_MINUTES * (buckets - 1)),
                interval=f"{_BUCKET_MINUTES}m",
                time_unit="us",
                time_zone="UTC",
                eager=True,
            )
        }
    ).with_columns(_e=pl.col("_b") + pl.duration(minutes=_BUCKET_MINUTES) - pl.duration(microseconds=1))
    offsets: list[pl.Series] = []
    exact: list[bool] = []
    for zone in zones:

        def offset(col: str, zone: str = zone) -> pl.Expr:
            utc = pl.col(col).dt.replace_time_zone(None)
            return (
                pl.col(col).dt.convert_time_zone(zone).dt.replace_time_zone(None) - utc
            ).dt.total_minutes()

        both = bounds.select(first=offset("_b"), last=offset("_e"))
        exact.append(both["first"].equals(both["last"]))
        offsets.append(both["first"].cast(pl.Int64))
    return pl.concat(offsets) if offsets else pl.Series(dtype=pl.Int64), exact


def local_slots(
    frame: pl.LazyFrame, *, instant: str, zone: str, zones: list[str], first: dt.date, last: dt.date
) -> pl.DataFrame:
    """Local weekday x hour slot of each instant, for counting: row order is **not** kept.

    Zones are looked up, not converted: the UTC offset of every zone in every quarter hour from
    ``first`` to ``last`` is one table, and a row's local time is its instant plus the offset at
    its zone and quarter hour (one gather, no partitioning by zone).  Zones whose offset changes
    off the quarter hour are converted by polars, zone by zone.

    Args:
        frame: rows with a UTC instant ``frame[instant]`` whose UTC date is within ``[first, last]``
            and the position of its zone in ``zones`` in ``frame[zone]``.
        instant: UTC instant column.
        zone: zone position column (integer).
        zones: valid IANA zones.
        first: rows whose local date is on or before this date are dropped; the first UTC date.
        last: the last UTC date of an instant.

    Returns:
        ``frame`` without ``instant`` and ``zone``, plus ``slot`` (UInt8, ``weekday * 24 + hour``
        with Monday 0).
    """
    rest = [c for c in frame.collect_schema().names() if c not in (instant, zone)]
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    buckets = ((last - first).days + 1) * 24 * 60 // _BUCKET_MINUTES
    offsets, exact = _zone_offsets(zones, start, buckets)
    # Minutes since the epoch, local: weekday and hour are integer arithmetic from there.
    micros = pl.col(instant).dt.epoch("us")
    bucket = (micros - (start - _EPOCH) // dt.timedelta(microseconds=1)) // (_BUCKET_MINUTES * _US_PER_MINUTE)
    local = micros // _US_PER_MINUTE + pl.lit(offsets).gather(pl.col(zone).cast(pl.Int64) * buckets + bucket)
    # 1970-01-01 was a Thursday (3, counting Monday as 0).
    slot = ((local // 1440 + 3) % 7) * 24 + (local % 1440) // 60
    after = (first - _EPOCH.date()).days
    exact_codes = [i for i, ok in enumerate(exact) if ok]
    pieces = [
        frame.filter(pl.col(zone).is_in(exact_codes))
        .filter(local // 1440 > after)
        .select(*rest, slot=slot.cast(pl.UInt8))
    ]
    for code in (i for i, ok in enumerate(exact) if not ok):
        converted = pl.col(instant).dt.convert_time_zone(zones[code]).dt.replace_time_zone(None)
        pieces.append(
            frame.filter(pl.col(zone) == code)
            .with_columns(_local=converted)
            .filter(pl.col("_local").dt.date() > first)
            .select(
                *rest,
                slot=(
                    (pl.col("_local").dt.weekday().cast(pl.Int64) - 1) * 24
                    + pl.col("_local").dt.hour().cast(pl.Int64)
                ).cast(pl.UInt8),
            )
        )
    return pl.concat(pieces).collect()


def localize(
    frame: pl.DataFrame,
    *,
    date: str,
    minute: str,
    tz: str,
    gap: Literal["shift", "transition"] = "shift",
    fold: Literal["earliest", "latest"] = "earliest",
) -> pl.DataFrame:
    """Turn a local date and minute of day into instants, applying the DST rule.

    Args:
        frame: rows with a ``date`` (pl.Date), a ``minute`` after local midnight and a zone ``tz``.
        date: local date column.
        minute: minutes after local midnight.
        tz: IANA zone column (must be valid; see :func:`valid_zones`).
        gap: rule for local times that do not exist.
        fold: rule for local times that occur twice.

    Returns:
        ``frame`` with ``send_at_utc`` (Datetime UTC), ``send_at_local`` (ISO 8601 text with the
        offset) and ``dst_reason`` (a reason string or null), in the original row order.
    """
    out_schema: dict[str, Any] = {
        "send_at_utc": UTC_INSTANT,
        "send_at_local": pl.String,
        "dst_reason": pl.String,
    }
    if frame.is_empty():
        return frame.with_columns([pl.lit(None, dtype=d).alias(n) for n, d in out_schema.items()])
    pieces = []
    for zone, part in _by_zone(frame, tz):
        naive = pl.col(date).cast(pl.Datetime("us")) + pl.duration(minutes=pl.col(minute))
        first = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        last = naive.dt.replace_time_zone(zone, ambiguous="latest", non_existent="null")
        # Read a nonexistent time with the offset before the jump (zoneinfo's fold=0 semantics).
        shifted = (naive - _LOOKBACK).dt.replace_time_zone(
            zone, ambiguous="earliest", non_existent="null"
        ) + _LOOKBACK
        if gap == "shift":
            gap_instant = shifted
        else:
            # First valid wall time after the jump: transitions happen on a whole or half hour, so try
            # the following half hours until one exists.
            base = naive.dt.truncate("30m")
            gap_instant = pl.coalesce(
                [
                    (base + pl.duration(minutes=30 * k)).dt.replace_time_zone(
                        zone, ambiguous="earliest", non_existent="null"
                    )
                    for k in range(1, 7)
                ]
            )
        chosen = pl.when(first.is_null()).then(gap_instant).otherwise(first if fold == "earliest" else last)
        part = part.with_columns(_aware=chosen, _is_gap=first.is_null(), _is_fold=first != last)
        wall = naive.dt.strftime("%H:%M")
        day = pl.col(date).dt.strftime("%Y-%m-%d")
        reason = (
            pl.when(pl.col("_is_gap"))
            .then(
                pl.format(
                    f"dst:gap: {{}} does not exist on {{}} in {zone} (clocks spring forward); sent at {{}}",
                    wall,
                    day,
                    pl.col("_aware").dt.strftime("%H:%M%:z"),
                )
            )
            .when(pl.col("_is_fold"))
            .then(
                pl.format(
                    f"dst:fold: {{}} occurs twice on {{}} in {zone} (clocks fall back); sent at the "
                    f"{fold} occurrence ({{}})",
                    wall,
                    day,
                    pl.col("_aware").dt.strftime("%H:%M%:z"),
                )
            )
            .otherwise(None)
        )
        pieces.append(
            part.with_columns(
                send_at_utc=pl.col("_aware").dt.convert_time_zone("UTC"),
                send_at_local=pl.col("_aware").dt.to_string(LOCAL_FORMAT),
                dst_reason=reason,
            ).drop("_aware", "_is_gap", "_is_fold")
        )
    return (
        pl.concat(pieces)
        .sort("_tz_row")
        .drop("_tz_row")
        .with_columns([pl.col(n).cast(d) for n, d in out_schema.items()])
    )
