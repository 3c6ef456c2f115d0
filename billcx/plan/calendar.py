"""Business days, weekends and public holidays per country and region, as join tables.

Calendars are built once per distinct (country, region) for the date range a plan needs, then every
date question (add N business days, next sendable day and why) is a join: no per-customer Python.
Holidays come from the pinned ``holidays`` package (names in English where it has them); weekends
follow the country (Friday-Saturday in Israel, Saturday-Sunday in most places).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import holidays as holidays_pkg
import polars as pl

log = logging.getLogger(__name__)

CAL = "cal_id"
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_WEEKEND = frozenset({5, 6})
_SEP = "\x1f"  # never in a reason text


def calendar_id(country: pl.Expr, region: pl.Expr) -> pl.Expr:
    """The calendar key of a customer: ``US``, ``US-CA``, or empty without a country."""
    c = country.fill_null("").str.strip_chars().str.to_uppercase()
    r = region.fill_null("").str.strip_chars().str.to_uppercase()
    return pl.when(c == "").then(pl.lit("")).when(r == "").then(c).otherwise(c + pl.lit("-") + r)


def slug(text: str) -> str:
    """``Independence Day (observed)`` -> ``independence-day-observed`` (for reason codes)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "holiday"


@dataclass(frozen=True)
class Calendars:
    """Join tables for a set of calendars over ``[start, end]``.

    Attributes:
        days: one row per calendar and date: ``business`` (not a weekend or holiday), ``cnt_le`` /
            ``cnt_lt`` (business days on or before / before the date), ``next_send`` (first sendable
            day on or after the date under the policy's weekend and holiday switches) and
            ``move_reasons`` (why the date is not sendable, as reason strings).
        index: business days numbered per calendar (``bd_index`` = ``cnt_le``).
        start: first date covered.
        end: last date covered.
        warnings: calendars that fell back (unknown country or region).
    """

    days: pl.DataFrame
    index: pl.DataFrame
    start: dt.date
    end: dt.date
    warnings: tuple[str, ...]


@lru_cache(maxsize=1024)
def _holiday_names(
    country: str, region: str, first_year: int, last_year: int
) -> tuple[dict[dt.date, str], frozenset[int], str | None]:
    """Holiday names by date, weekend days, and a warning when the country or region is unknown."""
    if not country:
        return {}, DEFAULT_WEEKEND, None
    years = range(first_year, last_year + 1)
    try:
        probe = holidays_pkg.country_holidays(country)
    except NotImplementedError:
        return {}, DEFAULT_WEEKEND, f"no holiday calendar for country {country}: weekends only"
    lang = "en_US" if "en_US" in getattr(probe, "supported_languages", ()) else None
    warning = None
    try:
        source = holidays_pkg.country_holidays(country, subdiv=region or None, years=years, language=lang)
    except NotImplementedError:
        source = holidays_pkg.country_holidays(country, years=years, language=lang)
        warning = f"no holiday calendar for region {country}-{region}: country holidays only"
    weekend = frozenset(getattr(source, "weekend", DEFAULT_WEEKEND))
    return dict(source.items()), weekend, warning


def _one_calendar(
    cal: str, dates: list[dt.date], *, weekends: bool, use_holidays: bool
) -> tuple[dict[str, list[Any]], str | None]:
    country, _, region = cal.partition("-")
    names, weekend, warning = _holiday_names(country, region, dates[0].year, dates[-1].year)
    n = len(dates)
    is_weekend = [d.weekday() in weekend for d in dates]
    business = [not (is_weekend[i] or dates[i] in names) for i in range(n)]
    sendable = [not ((weekends and is_weekend[i]) or (use_holidays and dates[i] in names)) for i in range(n)]
    next_send: list[dt.date | None] = [None] * n
    reasons: list[list[str]] = [[] for _ in range(n)]
    nxt: dt.date | None = None
    causes: list[tuple[str, dt.date, str]] = []  # (code, date, what) for the run ahead of this date
    for i in range(n - 1, -1, -1):
        d = dates[i]
        if sendable[i]:
            nxt, causes = d, []
            next_send[i] = d
            continue
        next_send[i] = nxt
        here: list[tuple[str, dt.date, str]] = []
        if use_holidays and d in names:
            here.append((f"moved:holiday:{slug(names[d])}", d, f"is {names[d]}"))
        if weekends and is_weekend[i]:
            here.append(("moved:weekend", d, "is a weekend day"))
        codes = {c for c, _, _ in here}
        causes = here + [c for c in causes if c[0] not in codes]
        if nxt is not None:
            where = f" in {cal}" if cal else ""
            reasons[i] = [
                f"{code}: {_WEEKDAYS[day.weekday()]} {day} {what}{where}; moved to "
                f"{_WEEKDAYS[nxt.weekday()]} {nxt}"
                for code, day, what in causes
            ]
    cnt: list[int] = []
    total = 0
    for b in business:
        total += b
        cnt.append(total)
    return (
        {
            CAL: [cal] * n,
            "date": dates,
            "business": business,
            "cnt_le": cnt,
            "next_send": next_send,
            "move_reasons": reasons,
        },
        warning,
    )


def build_calendars(
    cal_ids: list[str], start: dt.date, end: dt.date, *, weekends: bool = True, holidays: bool = True
) -> Calendars:
    """Build join tables for ``cal_ids`` (see :func:`calendar_id`) over ``[start, end]``.

    Args:
        cal_ids: distinct calendar keys.
        start: first date needed.
        end: last date needed (a sendable day after it may be null in ``next_send``).
        weekends: weekends are not sendable (business days always exclude them).
        holidays: public holidays are not sendable (business days always exclude them).

    Returns:
        The calendars.
    """
    dates = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    warnings: list[str] = []
    schema: dict[str, Any] = {
        CAL: pl.String,
        "date": pl.Date,
        "business": pl.Boolean,
        "cnt_le": pl.Int64,
        "next_send": pl.Date,
        "move_reasons": pl.List(pl.String),
    }
    columns: dict[str, list[Any]] = {name: [] for name in schema}
    for cal in sorted(set(cal_ids)):
        cols, warning = _one_calendar(cal, dates, weekends=weekends, use_holidays=holidays)
        if warning:
            warnings.append(warning)
            log.warning(warning)
        for name, values in cols.items():
            columns[name].extend(values)
    # Nested Python lists are slow to hand to polars (a Series per inner list): each day's reasons go
    # in as one text, split once in polars.
    joined = pl.lit(
        pl.Series([_SEP.join(r) if r else None for r in columns.pop("move_reasons")], dtype=pl.String)
    )
    days = pl.DataFrame(columns, schema={k: v for k, v in schema.items() if k != "move_reasons"})
    days = days.with_columns(
        move_reasons=pl.when(joined.is_null())
        .then(pl.lit([], dtype=schema["move_reasons"]))
        .otherwise(joined.str.split(_SEP))
    )
    days = days.with_columns(cnt_lt=pl.col("cnt_le") - pl.col("business").cast(pl.Int64))
    index = days.filter(pl.col("business")).select(CAL, bd_index=pl.col("cnt_le"), bd_date=pl.col("date"))
    return Calendars(days=days, index=index, start=start, end=end, warnings=tuple(warnings))


def add_business_days(
    frame: pl.DataFrame, cals: Calendars, *, date: str, n: str, cal: str, out: str
) -> pl.DataFrame:
    """Add ``frame[n]`` business days to ``frame[date]`` in each row's calendar ``frame[cal]``.

    N > 0 counts forward from the date (a Saturday + 1 is the next business day), N < 0 backward,
    N = 0 keeps the date.  Dates outside the calendars' range give null.  Row order is kept.
    """
    tmp = frame.with_row_index("_bd_row").join(
        cals.days.select(CAL, "date", "cnt_le", "cnt_lt"),
        left_on=[cal, date],
        right_on=[CAL, "date"],
        how="left",
        maintain_order="left",
    )
    tmp = tmp.with_columns(
        _bd_idx=pl.when(pl.col(n) > 0)
        .then(pl.col("cnt_le") + pl.col(n))
        .when(pl.col(n) < 0)
        .then(pl.col("cnt_lt") + pl.col(n) + 1)
        .otherwise(None)
    ).join(
        cals.index, left_on=[cal, "_bd_idx"], right_on=[CAL, "bd_index"], how="left", maintain_order="left"
    )
    result = tmp.sort("_bd_row").select(
        pl.when(pl.col(n) == 0).then(pl.col(date)).otherwise(pl.col("bd_date")).alias(out)
    )
    return frame.with_columns(result.to_series())


def next_sendable(
    frame: pl.DataFrame, cals: Calendars, *, date: str, cal: str, out: str, reasons_out: str
) -> pl.DataFrame:
    """Move ``frame[date]`` to the first sendable day on or after it; say why in ``reasons_out``.

    Row order is kept; dates outside the calendars' range give a null ``out``.
    """
    tmp = (
        frame.select(pl.col(cal), pl.col(date))
        .with_row_index("_ns_row")
        .join(
            cals.days.select(CAL, "date", "next_send", "move_reasons"),
            left_on=[cal, date],
            right_on=[CAL, "date"],
            how="left",
            maintain_order="left",
        )
        .sort("_ns_row")
    )
    return frame.with_columns(
        tmp["next_send"].alias(out),
        tmp["move_reasons"].fill_null(pl.lit([], dtype=pl.List(pl.String))).alias(reasons_out),
    )
