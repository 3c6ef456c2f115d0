"""The clean tables as an export taken at the end of an earlier day would have shown them.

Backtests plan on these, so a replay can only use what was known on its date:

* customers who signed up after the day are dropped;
* invoices issued after the day are dropped; an invoice settled (``paid_date``) after the day is open
  again; an invoice not settled by the day has received the sum of its successful payments dated on
  or before the day (capped at its amount) when the payments export mentions it, else (when settled
  later) nothing, else what the export says;
* payments and events after the day (UTC date) are dropped.

Two export facts carry no date and are kept as exported: ``void`` / ``written_off`` statuses and
dispute or hold marks.  A backtest over a period when many invoices were written off therefore sees
them a little early; docs/evaluate.md says so.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from billcx.store import CleanData


def as_known_on(data: CleanData, day: dt.date) -> CleanData:
    """Point-in-time view of ``data`` at the end of ``day``.

    Args:
        data: the full clean tables.
        day: the replay date.

    Returns:
        Lazy tables holding only what was known on ``day`` (same contract columns).
    """
    payments = data.payments.filter(pl.col("paid_at").dt.date() <= day)
    applied = (payments.filter(pl.col("status") == "succeeded", pl.col("invoice_id").is_not_null())
               .group_by("invoice_id").agg(pl.col("amount").sum().alias("_applied")))
    mentioned = (data.payments.filter(pl.col("invoice_id").is_not_null()).select("invoice_id").unique()
                 .with_columns(pl.lit(True).alias("_has_rows")))
    later = pl.col("paid_date").is_not_null() & (pl.col("paid_date") > day)
    has_rows = pl.col("_has_rows").fill_null(False)
    settled_by_day = pl.col("paid_date").is_not_null() & (pl.col("paid_date") <= day)
    paid_by_day = pl.min_horizontal(pl.col("_applied").fill_null(0), pl.col("amount").clip(lower_bound=0))
    invoices = (
        data.invoices.filter(pl.col("issue_date") <= day)
        .join(mentioned, on="invoice_id", how="left")
        .join(applied, on="invoice_id", how="left")
        .with_columns(
            pl.when(has_rows & ~settled_by_day).then(paid_by_day)
            .when(later).then(pl.lit(0, dtype=pl.Int64))
            .otherwise(pl.col("amount_paid")).alias("amount_paid"),
            pl.when(later | ((pl.col("status") == "paid") & pl.col("paid_date").is_null() & has_rows
                             & (paid_by_day < pl.col("amount"))))
            .then(pl.lit("open")).otherwise(pl.col("status")).alias("status"),
            pl.when(later).then(pl.lit(None, dtype=pl.Date)).otherwise(pl.col("paid_date"))
            .alias("paid_date"),
        )
        .drop("_has_rows", "_applied")
    )
    customers = data.customers.filter(pl.col("signup_date").is_null() | (pl.col("signup_date") <= day))
    events = data.events.filter(pl.col("at").dt.date() <= day) if data.events is not None else None
    return CleanData(customers=customers, invoices=invoices, payments=payments, events=events)
