"""Cohorts: customers grouped by the month of their first invoice, followed month by month.

One row per (cohort month, months since), from month 0 to the as-of date's month, including months
in which nobody in the cohort was invoiced:

* ``customers``: cohort size; ``active_customers``: cohort members invoiced that month;
  ``retention`` = active / size;
* ``invoices``: invoices issued that month by the cohort; of these, ``resolved_invoices`` have a
  known outcome on the as-of date and ``on_time_invoices`` were paid on time;
  ``on_time_rate`` = on time / resolved (null when nothing is resolved yet).
"""

from __future__ import annotations

import polars as pl

from billcx.segment.ledger import Ledger

COHORT_COLUMNS = ("cohort", "months_since", "month", "customers", "active_customers", "retention", "invoices",
                  "resolved_invoices", "on_time_invoices", "on_time_rate")


def _month_index(date: pl.Expr) -> pl.Expr:
    return date.dt.year().cast(pl.Int64) * 12 + date.dt.month().cast(pl.Int64) - 1


def _month_text(index: pl.Expr) -> pl.Expr:
    return pl.format("{}-{}", index // 12, (index % 12 + 1).cast(pl.String).str.zfill(2))


def cohort_table(ledger: Ledger) -> pl.DataFrame:
    """The cohort x months-since table as of ``ledger.as_of`` (sorted by cohort, months since)."""
    inv = ledger.invoices.lazy().filter(pl.col("amount") > 0).with_columns(
        _month_index(pl.col("issue_date")).alias("_m"))
    first = inv.group_by("customer_id").agg(pl.col("_m").min().alias("_c"))
    sizes = first.group_by("_c").agg(pl.len().cast(pl.Int64).alias("customers"))
    last_month = ledger.as_of.year * 12 + ledger.as_of.month - 1
    grid = sizes.with_columns(pl.int_ranges(0, pl.lit(last_month) - pl.col("_c") + 1).alias("months_since")) \
        .explode("months_since").with_columns(pl.col("months_since").cast(pl.Int64))
    monthly = (
        inv.join(first, on="customer_id")
        .with_columns((pl.col("_m") - pl.col("_c")).alias("months_since"))
        .group_by("_c", "months_since")
        .agg(
            pl.col("customer_id").n_unique().cast(pl.Int64).alias("active_customers"),
            pl.len().cast(pl.Int64).alias("invoices"),
            pl.col("resolved").sum().cast(pl.Int64).alias("resolved_invoices"),
            (pl.col("resolved") & ~pl.col("late")).sum().cast(pl.Int64).alias("on_time_invoices"),
        )
    )
    counts = ["active_customers", "invoices", "resolved_invoices", "on_time_invoices"]
    return (
        grid.join(monthly, on=["_c", "months_since"], how="left")
        .with_columns(pl.col(counts).fill_null(0))
        .with_columns(
            _month_text(pl.col("_c")).alias("cohort"),
            _month_text(pl.col("_c") + pl.col("months_since")).alias("month"),
            (pl.col("active_customers") / pl.col("customers")).alias("retention"),
            pl.when(pl.col("resolved_invoices") > 0)
            .then(pl.col("on_time_invoices") / pl.col("resolved_invoices")).alias("on_time_rate"),
        )
        .select(COHORT_COLUMNS)
        .sort("cohort", "months_since")
        .collect()
    )
