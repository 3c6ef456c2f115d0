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
from billcx.ingest.staging import conform
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
    frame: pl.LazyFrame, *, status: bool, amount_paid: bool
) -> tuple[pl.LazyFrame, list[Derived]]:
    """Fill ``status`` and ``amount_paid`` from ``paid_date`` where they are absent or empty.

    The counts for the report come from one streaming pass over the columns filled.
    """
    out: list[Derived] = []
    names = frame.collect_schema().names()
    settled = pl.col("paid_date").is_not_null() if "paid_date" in names else pl.lit(False)
    fill: dict[str, pl.Expr] = {}
    if status:
        current = pl.col("status") if "status" in names else pl.lit(None, pl.String)
        fill["status"] = pl.coalesce(current, pl.when(settled).then(pl.lit("paid")).otherwise(pl.lit("open")))
    if amount_paid:
        current = pl.col("amount_paid") if "amount_paid" in names else pl.lit(None, pl.Int64)
        fill["amount_paid"] = pl.coalesce(
            current, pl.when(settled).then(pl.col("amount")).otherwise(pl.lit(0, pl.Int64))
        )
    if not fill:
        return frame, out
    counts = frame.select(
        pl.len().alias("__rows"), *[pl.col(c).null_count().alias(c) for c in fill if c in names]
    ).collect(engine="streaming").row(0, named=True)
    rules = {"status": "paid when paid_date is set, else open",
             "amount_paid": "the full amount when paid_date is set, else 0"}
    for column in fill:
        n = counts[column] if column in names else counts["__rows"]
        if n:
            out.append(Derived(column, int(n), rules[column]))
    return frame.with_columns(**fill), out


def customers_from(invoices: pl.LazyFrame, payments: pl.LazyFrame | None) -> pl.DataFrame:
    """A minimal customers table: every customer id of the invoices (and payments).

    Attributes carried by the invoice export (``customers.<column>``) come from each customer's
    latest invoice (by issue date, then invoice id); ``__src``/``__idx`` point at that invoice so
    a bad carried value is reported on its line.  Reads only the columns it needs; the result
    (one row per customer) is in memory.
    """
    carried = [c for c in invoices.collect_schema().names() if c.startswith(CARRIED_PREFIX)]
    latest = (
        invoices.select("customer_id", "issue_date", "invoice_id", SRC, IDX, *carried)
        .sort("customer_id", "issue_date", "invoice_id", descending=[False, True, True])
        .group_by("customer_id", maintain_order=True)
        .first()
        .select("customer_id", SRC, IDX, *[pl.col(c).alias(c[len(CARRIED_PREFIX) :]) for c in carried])
    )
    ids = [invoices.select("customer_id")]
    if payments is not None and "customer_id" in payments.collect_schema().names():
        ids.append(payments.select("customer_id"))
    every = pl.concat(ids).unique()
    return (
        every.join(latest, on="customer_id", how="left")
        .select("customer_id", *[c for c in latest.collect_schema().names() if c != "customer_id"])
        .collect(engine="streaming")
    )


def payments_from(invoices: pl.LazyFrame) -> pl.LazyFrame:
    """One succeeded payment per settled invoice with something paid (see module doc).

    In the invoices' order: ``settlement:<invoice_id>`` keeps the order of the invoice ids.
    """
    paid = invoices.filter(pl.col("paid_date").is_not_null() & (pl.col("amount_paid") > 0))
    names = invoices.collect_schema().names()
    method = pl.col("payment_method") if "payment_method" in names else pl.lit(None, pl.String)
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
    return conform(PAYMENTS, frame)


def customer_gaps(customers: pl.DataFrame) -> list[str]:
    """Contact columns that are empty for every customer (said in the report when derived)."""
    gaps = []
    for name in ("name", "email", "phone", "country", "timezone", "address_line1"):
        if name not in customers.columns or customers[name].null_count() == customers.height:
            gaps.append(name)
    return gaps
