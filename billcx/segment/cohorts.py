"""Cohorts: customers grouped by the month of their first invoice, followed month by month.

One row per (cohort month, months since), from month 0 to the as-of date's month, including months
in which nobody in the cohort was invoiced:

* ``customers``: cohort size; ``active_customers``: cohort members invoiced that month;
  ``retention`` = active / size;
* ``invoices``: invoices issued that month by the cohort; of these, ``resolved_invoices`` have a
  known outcome on the as-of date and ``on_time_invoices`` were paid on time;
  ``on_time_rate`` = on time / resolved (null when nothing is resolved yet).

Every figure but the two rates is a count over customers, and every customer belongs to one
cohort: the tables of disjoint sets of customers (shards) add up to the whole's, row by row, and
the rates follow from the summed counts (:func:`merge_cohorts`).
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
    return _finish(grid.join(monthly, on=["_c", "months_since"], how="left"))


_COUNTS = ["active_customers", "invoices", "resolved_invoices", "on_time_invoices"]


def _finish(frame: pl.LazyFrame) -> pl.DataFrame:
    """Fill missing counts, derive the labels and rates, order and collect."""
    counts = _COUNTS
    return (
        frame
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


def merge_cohorts(tables: list[pl.DataFrame]) -> pl.DataFrame:
    """The cohort table of the union of disjoint customer sets (shards) from their cohort tables.

    Counts are summed per (cohort, months since); ``retention`` and ``on_time_rate`` are derived
    again from the sums (then rounded to 4 places, as ``segment`` writes them).  The result equals the
    cohort table of the unsharded run.

    Args:
        tables: ``cohorts`` of each shard (as written to ``cohorts.parquet``).

    Returns:
        The merged table, sorted by cohort and months since.
    """
    stacked = pl.concat([t.select(COHORT_COLUMNS) for t in tables], how="vertical").lazy()
    # The cohort month's index is recovered from its text: the label columns are then rebuilt as usual.
    year, month = pl.col("cohort").str.slice(0, 4), pl.col("cohort").str.slice(5, 2)
    index = year.cast(pl.Int64) * 12 + month.cast(pl.Int64) - 1
    summed = stacked.group_by("cohort", "months_since").agg(pl.col("customers", *_COUNTS).sum()) \
        .with_columns(index.alias("_c"))
    return _finish(summed).with_columns(pl.col("retention", "on_time_rate").round(4))
