"""What the segment stage is measured against: two polars floors and the pandas code users write today.

All three read the same clean folder the segment stage reads (``invoices.parquet``,
``payments.parquet``), so the ratios compare computation, not different inputs.

* :func:`read_columns_floor` -- (a) only read the invoice and payment columns customer features
  need.  Nothing can be faster than reading its input.
* :func:`groupby_floor` -- (b) a polars lazy scan of those columns and one group-by per customer
  and table (counts, sums, first/last dates): the least work any per-customer feature set needs.
* :func:`pandas_summary` -- (c) the repeat-purchase summary (``frequency, recency, T,
  monetary_value``) written the way lifetimes' ``summary_data_from_transaction_data`` and most
  notebooks do it in pandas: daily periods, same-day purchases merged, the first purchase left out
  of ``monetary_value``.
* :func:`lifetimes_summary` -- (d) the same summary through the ``lifetimes`` library itself
  (``lifetimes.utils.summary_data_from_transaction_data``, 0.11.3, what BG/NBD users call today).
* :func:`billcx_summary` -- the same summary through ``billcx.segment.summary_data``, over the
  same rows, so the two can be timed and checked against each other (:func:`same_summary`).

Purchases are positive, non-void invoices dated by their issue date, as the segment stage's lifetime
model uses them; recency and T are in days (``freq="D"``, no multiplier).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from billcx.schema import INVOICES, PAYMENTS
from billcx.store import table_path

# The columns customer features are computed from (see billcx/segment/behaviour.py and ledger.py).
INVOICE_COLUMNS = (
    "customer_id",
    "issue_date",
    "due_date",
    "amount",
    "currency",
    "amount_paid",
    "paid_date",
    "status",
)
PAYMENT_COLUMNS = ("customer_id", "invoice_id", "paid_at", "amount", "status")
SUMMARY_COLUMNS = ("customer_id", "issue_date", "amount", "status")
SUMMARY_OUTPUT = ("customer_id", "frequency", "recency", "T", "monetary_value")


def read_columns_floor(clean: Path) -> dict[str, int]:
    """(a) Read the needed invoice and payment columns into memory.

    Args:
        clean: a clean folder (``invoices.parquet``, ``payments.parquet``).

    Returns:
        ``{"invoices": rows, "payments": rows}`` read.
    """
    inv = pl.read_parquet(table_path(clean, INVOICES), columns=list(INVOICE_COLUMNS))
    pay = pl.read_parquet(table_path(clean, PAYMENTS), columns=list(PAYMENT_COLUMNS))
    return {"invoices": inv.height, "payments": pay.height}


def groupby_floor(clean: Path) -> dict[str, int]:
    """(b) Lazy scan + one group-by per customer over invoices and over payments.

    Args:
        clean: a clean folder.

    Returns:
        ``{"customers": rows of the invoice aggregate, "paying_customers": rows of the payment one}``.
    """
    inv = (
        pl.scan_parquet(table_path(clean, INVOICES))
        .group_by("customer_id")
        .agg(
            pl.len().alias("invoices"),
            pl.col("amount").sum().alias("billed"),
            pl.col("amount_paid").sum().alias("paid"),
            pl.col("issue_date").min().alias("first_issue"),
            pl.col("issue_date").max().alias("last_issue"),
            pl.col("issue_date").n_unique().alias("issue_days"),
            (pl.col("paid_date") > pl.col("due_date")).sum().alias("late"),
            (pl.col("status") == "open").sum().alias("open"),
        )
    )
    pay = (
        pl.scan_parquet(table_path(clean, PAYMENTS))
        .group_by("customer_id")
        .agg(
            pl.len().alias("payments"),
            pl.col("amount").sum().alias("received"),
            pl.col("paid_at").max().alias("last_paid_at"),
            (pl.col("status") != "succeeded").sum().alias("failed"),
        )
    )
    a, b = pl.collect_all([inv, pay])
    return {"customers": a.height, "paying_customers": b.height}


def _pandas_purchases(clean: Path) -> pd.DataFrame:
    """Purchases as the pandas baselines read them: positive, non-void invoices."""
    df = pd.read_parquet(table_path(clean, INVOICES), columns=list(SUMMARY_COLUMNS))
    return df[(df["amount"] > 0) & (df["status"] != "void")]


def pandas_summary(clean: Path, observation_end: dt.date) -> pd.DataFrame:
    """(c) The repeat-purchase summary in pandas, as users write it today (lifetimes' algorithm).

    Args:
        clean: a clean folder.
        observation_end: the last day observed (the as-of date).

    Returns:
        One row per customer: ``customer_id, frequency, recency, T, monetary_value``, sorted by id.
    """
    df = _pandas_purchases(clean)
    df["date"] = pd.to_datetime(df["issue_date"]).dt.floor("D")
    end = pd.Timestamp(observation_end)
    df = df[df["date"] <= end]
    # Purchases on the same day are one purchase (amounts summed).
    daily = df.groupby(["customer_id", "date"], sort=True, as_index=False)["amount"].sum()
    first = ~daily["customer_id"].duplicated()
    per_customer = daily.groupby("customer_id", sort=True)["date"].agg(["min", "max", "count"])
    out = pd.DataFrame(
        {
            "frequency": per_customer["count"] - 1,
            "recency": (per_customer["max"] - per_customer["min"]) / np.timedelta64(1, "D"),
            "T": (end - per_customer["min"]) / np.timedelta64(1, "D"),
        }
    )
    repeat = daily["amount"].astype("float64").where(~first)
    out["monetary_value"] = repeat.groupby(daily["customer_id"]).mean().reindex(out.index).fillna(0.0)
    return out.reset_index()


def lifetimes_summary(clean: Path, observation_end: dt.date) -> pd.DataFrame:
    """(d) The repeat-purchase summary through the ``lifetimes`` library, over the same rows.

    Args:
        clean: a clean folder.
        observation_end: the last day observed (the as-of date).

    Returns:
        One row per customer: ``customer_id, frequency, recency, T, monetary_value``, sorted by id.
    """
    from lifetimes.utils import summary_data_from_transaction_data

    df = _pandas_purchases(clean)
    df["issue_date"] = pd.to_datetime(df["issue_date"])
    out = summary_data_from_transaction_data(
        df, "customer_id", "issue_date", monetary_value_col="amount",
        observation_period_end=pd.Timestamp(observation_end), freq="D",
    )
    out["frequency"] = out["frequency"].astype("int64")
    return out.reset_index().sort_values("customer_id", ignore_index=True)


def billcx_summary(clean: Path, observation_end: dt.date) -> pl.DataFrame:
    """The same summary through ``billcx.segment.summary_data`` over the same rows.

    Args:
        clean: a clean folder.
        observation_end: the last day observed (the as-of date).

    Returns:
        ``customer_id, frequency, recency, T, monetary_value`` sorted by id.
    """
    from billcx.segment import summary_data

    purchases = (
        pl.scan_parquet(table_path(clean, INVOICES))
        .select(SUMMARY_COLUMNS)
        .filter((pl.col("amount") > 0) & (pl.col("status") != "void"))
    )
    return summary_data(
        purchases, "customer_id", "issue_date", "amount", observation_end=observation_end, freq="D"
    )


def same_summary(pandas_frame: pd.DataFrame, polars_frame: pl.DataFrame, *, rel_tol: float = 1e-9) -> bool:
    """Whether the pandas and billcx summaries agree row for row (floats within ``rel_tol``)."""
    left = pl.from_pandas(pandas_frame[list(SUMMARY_OUTPUT)]).sort("customer_id")
    right = polars_frame.select(SUMMARY_OUTPUT).sort("customer_id")
    if left.height != right.height or left["customer_id"].to_list() != right["customer_id"].to_list():
        return False
    if left["frequency"].cast(pl.Int64).to_list() != right["frequency"].cast(pl.Int64).to_list():
        return False
    for column in ("recency", "T", "monetary_value"):
        a = left[column].cast(pl.Float64).to_numpy()
        b = right[column].cast(pl.Float64).to_numpy()
        if not np.allclose(a, b, rtol=rel_tol, atol=1e-9):
            return False
    return True
