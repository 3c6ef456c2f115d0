"""What ingest derives when an export lacks it, each counted so the report can say it plainly.

* invoice ``status``: ``paid`` when ``paid_date`` is set, else ``open`` (when the column is absent
  or a cell is empty and ``derive.status_from_paid_date`` is on);
* invoice ``amount_paid``: the full amount when ``paid_date`` is set, else 0 (same conditions);
* customers, when no customers export is given: one row per customer id found in the invoices and
  payments, with the attributes an invoice export carries (``customers.<column>`` in the mapping)
  taken from the customer's latest invoice;
* payments, when no payments export is given: one succeeded payment per settled invoice with a
  positive ``amount_paid``, dated ``paid_date`` at 00:00 UTC, id ``settlement:<invoice_id>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from billcx.ingest.mapping import CARRIED_PREFIX
from billcx.ingest.readers import IDX
from billcx.schema import PAYMENTS

SRC = "__src"
PAYMENT_PREFIX = "settlement:"


@dataclass(frozen=True)
class Derived:
    """How many values a derivation filled, for the report."""

    column: str
    rows: int
    rule: str


def invoice_columns(
    frame: pl.DataFrame, *, status: bool, amount_paid: bool
) -> tuple[pl.DataFrame, list[Derived]]:
    """Fill ``status`` and ``amount_paid`` from ``paid_date`` where they are absent or empty."""
    out: list[Derived] = []
    settled = pl.col("paid_date").is_not_null() if "paid_date" in frame.columns else pl.lit(False)
    if status:
        current = pl.col("status") if "status" in frame.columns else pl.lit(None, pl.String)
        n = frame.select(current.is_null().sum()).item() if "status" in frame.columns else frame.height
        frame = frame.with_columns(
            status=pl.coalesce(current, pl.when(settled).then(pl.lit("paid")).otherwise(pl.lit("open")))
        )
        if n:
            out.append(Derived("status", int(n), "paid when paid_date is set, else open"))
    if amount_paid:
        current = pl.col("amount_paid") if "amount_paid" in frame.columns else pl.lit(None, pl.Int64)
        n = frame.select(current.is_null().sum()).item() if "amount_paid" in frame.columns else frame.height
        frame = frame.with_columns(
            amount_paid=pl.coalesce(
                current, pl.when(settled).then(pl.col("amount")).otherwise(pl.lit(0, pl.Int64))
            )
        )
        if n:
            out.append(Derived("amount_paid", int(n), "the full amount when paid_date is set, else 0"))
    return frame, out


def customers_from(invoices: pl.DataFrame, payments: pl.DataFrame | None) -> pl.DataFrame:
    """A minimal customers table: every customer id of the invoices (and payments).

    Attributes carried by the invoice export (``customers.<column>``) come from each customer's
    latest invoice (by issue date, then invoice id); ``__src``/``__idx`` point at that invoice so
    a bad carried value is reported on its line.
    """
    carried = [c for c in invoices.columns if c.startswith(CARRIED_PREFIX)]
    latest = (
        invoices.sort("customer_id", "issue_date", "invoice_id", descending=[False, True, True])
        .group_by("customer_id", maintain_order=True)
        .first()
        .select("customer_id", SRC, IDX, *[pl.col(c).alias(c[len(CARRIED_PREFIX) :]) for c in carried])
    )
    ids = [invoices.select("customer_id")]
    if payments is not None and "customer_id" in payments.columns:
        ids.append(payments.select("customer_id"))
    every = pl.concat(ids).unique()
    return every.join(latest, on="customer_id", how="left").select(
        "customer_id", *[c for c in latest.columns if c != "customer_id"]
    )


def payments_from(invoices: pl.DataFrame) -> pl.DataFrame:
    """One succeeded payment per settled invoice with something paid (see module doc)."""
    paid = invoices.filter(pl.col("paid_date").is_not_null() & (pl.col("amount_paid") > 0))
    method = pl.col("payment_method") if "payment_method" in invoices.columns else pl.lit(None, pl.String)
    frame = paid.select(
        payment_id=pl.lit(PAYMENT_PREFIX) + pl.col("invoice_id"),
        customer_id=pl.col("customer_id"),
        invoice_id=pl.col("invoice_id"),
        paid_at=pl.col("paid_date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        amount=pl.col("amount_paid"),
        currency=pl.col("currency"),
        method=method,
        status=pl.lit("succeeded"),
    )
    return PAYMENTS.conform(frame)


def customer_gaps(customers: pl.DataFrame) -> list[str]:
    """Contact columns that are empty for every customer (said in the report when derived)."""
    gaps = []
    for name in ("name", "email", "phone", "country", "timezone", "address_line1"):
        if name not in customers.columns or customers[name].null_count() == customers.height:
            gaps.append(name)
    return gaps
