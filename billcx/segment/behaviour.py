"""Payment behaviour per customer: punctuality, balances, aging and habits.

All figures come from the point-in-time :class:`~billcx.segment.ledger.Ledger`, as polars
group-bys over invoices and payments (never a Python loop per customer).  Definitions:

* an invoice is *resolved* once its outcome is known: settled, or unsettled past its due date
  plus the grace days (then it is late);
* *lateness* of a resolved invoice is the days between due date and settlement (0 when early), or
  the days it has been overdue so far when still unsettled;
* *lateness trend* = mean lateness of the resolved invoices due in the last ``trend_days`` days
  minus the mean lateness of the earlier ones: positive means the customer is slipping (null
  without invoices on both sides);
* an invoice was *paid in part* when it took more than one payment or is still open with money
  applied; the ratio is over invoices that received any money;
* balances are per currency in minor units; ``currency``, ``open_balance`` and ``overdue_balance``
  give the customer's main currency (that of the latest invoice, credit notes aside; on a tie the
  alphabetically last), ``balances`` lists every
  currency with an open balance and ``currencies_owed`` counts those with a positive one;
* the usual payment weekday (1 = Monday) and hour are the most frequent local weekday and hour of
  successful payments (ties: the earliest).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from billcx.money import major_expr
from billcx.segment.ledger import Ledger
from billcx.segment.settings import BehaviourSettings

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def aging_bucket(days: pl.Expr) -> pl.Expr:
    """The aging bucket of an oldest-overdue-days expression (null or 0 days: ``current``)."""
    return (
        pl.when(days.is_null() | (days <= 0)).then(pl.lit(AGING_BUCKETS[0]))
        .when(days <= 30).then(pl.lit(AGING_BUCKETS[1]))
        .when(days <= 60).then(pl.lit(AGING_BUCKETS[2]))
        .when(days <= 90).then(pl.lit(AGING_BUCKETS[3]))
        .otherwise(pl.lit(AGING_BUCKETS[4]))
    )


def _mode(frame: pl.LazyFrame, column: str, alias: str) -> pl.LazyFrame:
    """Most frequent non-null value of ``column`` per customer; ties go to the smallest value."""
    return (
        frame.filter(pl.col(column).is_not_null())
        .group_by("customer_id", column).agg(pl.len().alias("_n"))
        .group_by("customer_id")
        .agg(pl.col(column).sort_by(pl.col("_n"), pl.col(column), descending=[True, False]).first()
             .alias(alias))
    )


def _invoice_features(ledger: Ledger, settings: BehaviourSettings) -> pl.LazyFrame:
    pos = ledger.invoices.lazy().filter(pl.col("amount") > 0)
    late_days = pl.col("lateness_days")
    recent_from = ledger.as_of - dt.timedelta(days=settings.trend_days)
    recent = late_days.filter(pl.col("due_date") > recent_from)
    got_money = pl.col("paid") > 0
    partial = got_money & (
        (pl.col("n_payments") > 1) | (pl.col("open") & (pl.col("paid") < pl.col("amount")))
    )
    return (
        pos.group_by("customer_id")
        .agg(
            pl.len().cast(pl.Int64).alias("invoices"),
            pl.col("issue_date").min().alias("first_invoice_date"),
            pl.col("issue_date").max().alias("last_invoice_date"),
            pl.col("resolved").sum().cast(pl.Int64).alias("resolved_invoices"),
            (pl.col("resolved") & ~pl.col("late")).sum().cast(pl.Int64).alias("on_time_invoices"),
            late_days.sum().alias("_late_sum"),
            late_days.max().alias("worst_days_late"),
            recent.sum().alias("_recent_sum"),
            recent.count().cast(pl.Int64).alias("_recent_n"),
            got_money.sum().cast(pl.Int64).alias("_got_money"),
            partial.sum().cast(pl.Int64).alias("_partial"),
            pl.col("disputed").sum().cast(pl.Int64).alias("disputed_invoices"),
            pl.col("open").sum().cast(pl.Int64).alias("open_invoices"),
            pl.col("overdue").sum().cast(pl.Int64).alias("overdue_invoices"),
            pl.col("days_overdue").max().alias("oldest_overdue_days"),
            pl.col("currency")
            .filter(pl.col("issue_date") == pl.col("issue_date").max())
            .max()
            .alias("currency"),
        )
        .with_columns(
            # Means from integer sums: exact, whatever order the rows arrive in.
            pl.when(pl.col("resolved_invoices") > 0)
            .then(pl.col("on_time_invoices") / pl.col("resolved_invoices"))
            .alias("on_time_rate"),
            pl.when(pl.col("resolved_invoices") > 0)
            .then(pl.col("_late_sum") / pl.col("resolved_invoices"))
            .alias("mean_days_late"),
            pl.when((pl.col("resolved_invoices") > pl.col("_recent_n")) & (pl.col("_recent_n") > 0))
            .then(
                pl.col("_recent_sum") / pl.col("_recent_n")
                - (pl.col("_late_sum") - pl.col("_recent_sum"))
                / (pl.col("resolved_invoices") - pl.col("_recent_n"))
            )
            .alias("lateness_trend_days"),
            pl.when(pl.col("_got_money") > 0)
            .then(pl.col("_partial") / pl.col("_got_money"))
            .alias("partial_payment_ratio"),
        )
        .drop("_late_sum", "_recent_sum", "_recent_n", "_got_money", "_partial")
    )


def _balances(ledger: Ledger) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Open and overdue balance per (customer, currency), and the per-customer text list."""
    per_currency = (
        ledger.invoices.lazy().filter(pl.col("open"))
        .group_by("customer_id", "currency")
        .agg(pl.col("balance").sum().alias("open_balance"),
             pl.col("balance").filter(pl.col("overdue")).sum().alias("overdue_balance"))
    )
    currencies = ledger.invoices.get_column("currency").unique().drop_nulls().to_list()
    text = (pl.col("currency") + pl.lit(" ") + major_expr("open_balance", "currency", currencies)
            + pl.lit(" open, ") + major_expr("overdue_balance", "currency", currencies) + pl.lit(" overdue"))
    listed = (
        per_currency.filter(pl.col("open_balance") != 0)
        .with_columns(text.alias("_text"))
        .group_by("customer_id")
        .agg(
            pl.col("_text").sort().alias("balances"),
            (pl.col("open_balance") > 0).sum().cast(pl.Int64).alias("currencies_owed"),
        )
    )
    return per_currency, listed


def _payment_habits(ledger: Ledger, window_start: dt.date) -> list[pl.LazyFrame]:
    pays = ledger.payments.lazy()
    ok = pays.filter(pl.col("status") == "succeeded")
    failed = pays.filter((pl.col("status") == "failed") & (pl.col("paid_on") > window_start)) \
        .group_by("customer_id").agg(pl.len().cast(pl.Int64).alias("failed_payments"))
    last = (
        ledger.receipts.lazy().group_by("customer_id").agg(pl.col("paid_on").max().alias("last_payment_date"))
    )
    return [
        failed,
        _mode(ok, "method", "usual_payment_method"),
        _mode(ok, "weekday", "usual_payment_weekday"),
        _mode(ok, "hour", "usual_payment_hour"),
        last,
    ]


def behaviour_features(ledger: Ledger, settings: BehaviourSettings, *, window_days: int) -> pl.DataFrame:
    """Payment behaviour of every customer in ``ledger`` as of its as-of date.

    Args:
        ledger: the point-in-time ledger.
        settings: grace days and trend length.
        window_days: failed payments are counted over this many days up to the as-of date.

    Returns:
        One row per customer (sorted by ``customer_id``) with the columns described in the module
        docstring; money in minor units of ``currency``.
    """
    as_of = ledger.as_of
    window_start = as_of - dt.timedelta(days=window_days)
    base = ledger.customers.lazy()
    per_currency, listed = _balances(ledger)
    parts = [_invoice_features(ledger, settings), listed, *_payment_habits(ledger, window_start)]
    collected = pl.collect_all([base, per_currency, *parts])
    out = collected[0]
    for part in collected[2:]:
        out = out.join(part, on="customer_id", how="left")
    out = out.join(collected[1], on=["customer_id", "currency"], how="left")
    days = (pl.lit(as_of) - pl.col("_since")).dt.total_days()
    last_activity = pl.max_horizontal("last_invoice_date", "last_payment_date")
    return (
        out.with_columns(
            pl.coalesce("signup_date", "first_invoice_date", "last_payment_date").alias("_since"),
        )
        .with_columns(
            pl.col(
                "invoices",
                "resolved_invoices",
                "on_time_invoices",
                "disputed_invoices",
                "open_invoices",
                "overdue_invoices",
                "failed_payments",
                "open_balance",
                "overdue_balance",
                "currencies_owed",
            ).fill_null(0),
            pl.col("balances").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("usual_payment_method").fill_null(pl.col("payment_method")),
            days.clip(0).alias("tenure_days"),
            pl.col("first_invoice_date").dt.strftime("%Y-%m").alias("cohort"),
            aging_bucket(pl.col("oldest_overdue_days")).alias("aging_bucket"),
            (pl.lit(as_of) - last_activity).dt.total_days().alias("days_since_activity"),
        )
        .drop("_since", "payment_method")
        .sort("customer_id")
    )
