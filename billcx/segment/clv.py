"""The repeat-purchase summary (lifetimes semantics) and customer lifetime value.

:func:`summary_data` is usable on any transaction table (it reproduces lifetimes'
``summary_data_from_transaction_data``):

* timestamps are floored to the period (``freq``: ``D`` day, ``W`` Monday-based week, ``M``
  calendar month) and purchases in one period are merged (amounts summed);
* transactions in periods after the observation end's period are dropped (a transaction later in
  the observation end's own period counts, as in lifetimes);
* ``frequency`` = number of periods with a purchase, minus one (repeat periods);
* ``recency`` = age at the last purchase (last period - first period), not the time since it;
* ``T`` = age at the observation end (its period - first period);
* ``monetary_value`` = mean of the repeat periods' sums (0 for one-time buyers);
* ``recency`` and ``T`` are divided by ``freq_multiplier`` (daily periods with 7 give weeks).

:func:`customer_lifetime_value` sums, month by month, expected purchases in that month times expected
spend, discounted at a monthly rate, as lifetimes does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import polars as pl

_EPOCH = dt.date(1970, 1, 1)  # a Thursday: Monday-based week k starts on day 7k - 3
PERIODS_PER_MONTH = {"D": 30.0, "W": 4.345, "M": 1.0}


def _period(expr: pl.Expr, freq: str) -> pl.Expr:
    day = expr.cast(pl.Date).cast(pl.Int64)  # days since 1970-01-01
    if freq == "D":
        return day
    if freq == "W":
        return (day + 3) // 7
    if freq == "M":
        d = expr.cast(pl.Date)
        return d.dt.year().cast(pl.Int64) * 12 + d.dt.month().cast(pl.Int64) - 1
    raise ValueError(f"freq must be one of D, W, M, found {freq!r}")


def summary_data(transactions: pl.DataFrame | pl.LazyFrame, customer: str, datetime: str,
                 monetary: str | None = None, *, observation_end: dt.date | dt.datetime, freq: str = "D",
                 freq_multiplier: float = 1.0) -> pl.DataFrame:
    """Repeat-purchase summary per customer (see the module docstring for the definitions).

    Args:
        transactions: one row per transaction.
        customer: customer id column.
        datetime: date or datetime column (a zoned datetime is read in its own zone).
        monetary: amount column, or None for no ``monetary_value``.
        observation_end: end of the observation period (its whole period counts).
        freq: period: ``D``, ``W`` or ``M``.
        freq_multiplier: ``recency`` and ``T`` are divided by this.

    Returns:
        ``customer, frequency, recency, T[, monetary_value]`` sorted by customer.

    Raises:
        ValueError: unknown ``freq`` or a non-positive ``freq_multiplier``.
    """
    return summary_lazy(transactions, customer, datetime, monetary, observation_end=observation_end,
                        freq=freq, freq_multiplier=freq_multiplier).collect()


def summary_lazy(transactions: pl.DataFrame | pl.LazyFrame, customer: str, datetime: str,
                 monetary: str | None = None, *, observation_end: dt.date | dt.datetime, freq: str = "D",
                 freq_multiplier: float = 1.0, mean_as: str | None = None) -> pl.LazyFrame:
    """:func:`summary_data` as a lazy query; ``mean_as`` also names the mean transaction amount
    (over the rows, before same-period purchases are merged) in the same group-by."""
    if freq_multiplier <= 0:
        raise ValueError(f"freq_multiplier must be positive, found {freq_multiplier}")
    end = observation_end.date() if isinstance(observation_end, dt.datetime) else observation_end
    end_period = (end - _EPOCH).days
    if freq == "W":
        end_period = (end_period + 3) // 7
    elif freq == "M":
        end_period = end.year * 12 + end.month - 1
    else:
        _period(pl.lit(end), freq)  # validates freq
    lf = transactions.lazy().select(
        pl.col(customer), _period(pl.col(datetime), freq).alias("_p"),
        *([pl.col(monetary).cast(pl.Float64).alias("_m")] if monetary else [pl.lit(0.0).alias("_m")]),
    ).filter(pl.col("_p") <= end_period)
    first = pl.col("_p") == pl.col("_p").min()
    # One group-by: distinct periods give frequency; the first period's purchases are left out of
    # the repeat spend by a filtered sum (no per-customer sort).
    out = (
        lf.group_by(customer).agg(
            pl.col("_p").min().alias("_first"), pl.col("_p").max().alias("_last"),
            pl.col("_p").n_unique().alias("_n"), pl.col("_m").sum().alias("_sum"),
            pl.col("_m").filter(first).sum().alias("_m_first"),
            *([pl.col("_m").mean().alias(mean_as)] if mean_as else []),
        )
        .with_columns((pl.col("_n") - 1).cast(pl.Int64).alias("frequency"))
        .with_columns(
            ((pl.col("_last") - pl.col("_first")) / freq_multiplier).alias("recency"),
            ((pl.lit(end_period) - pl.col("_first")) / freq_multiplier).alias("T"),
            pl.when(pl.col("frequency") > 0).then((pl.col("_sum") - pl.col("_m_first")) / pl.col("frequency"))
            .otherwise(0.0).alias("monetary_value"),
        )
        .select(customer, "frequency", "recency", "T", *(["monetary_value"] if monetary else []),
                *([mean_as] if mean_as else []))
        .sort(customer)
    )
    return out


def customer_lifetime_value(expected: Callable[[float], np.ndarray], spend: np.ndarray, *, months: int,
                            discount_rate: float, periods_per_month: float) -> np.ndarray:
    """Discounted value of expected future purchases, month by month (as lifetimes).

    Args:
        expected: ``expected(t)`` gives each customer's expected purchases in the next ``t`` periods.
        spend: expected spend per purchase of each customer.
        months: horizon in months.
        discount_rate: monthly discount rate.
        periods_per_month: time periods in a month (4.345 for weeks, 30 for days).

    Returns:
        CLV per customer, in the unit of ``spend``.
    """
    total = np.zeros_like(np.asarray(spend, dtype=np.float64))
    previous = expected(0.0)
    for month in range(1, months + 1):
        current = expected(month * periods_per_month)
        total += spend * (current - previous) / (1 + discount_rate) ** month
        previous = current
    return total
