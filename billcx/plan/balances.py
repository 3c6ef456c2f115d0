"""Remaining balances as of a date: what each open invoice still owes after payments and credits.

Rules (documented in docs/plan.md):

* Only invoices issued on or before the as-of date count; ``void`` and ``written_off`` ones never.
* Payments count when they succeeded and were made on or before the as-of date (UTC date).  A
  payment whose status is ``refunded`` or ``failed`` pays nothing.
* The payments export is the source of truth for an invoice it mentions.  For an invoice it never
  mentions, the invoice export's ``amount_paid`` is used, unless the invoice was settled
  (``paid_date``) after the as-of date, which means it was still unpaid then.
* An invoice marked ``paid`` with a ``paid_date`` on or before the as-of date owes nothing.
* Credits -- open credit notes (negative invoices) and payments not applied to any invoice -- are
  applied to the customer's open invoices of the same currency, oldest due date first.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

_ORDER = ["customer_id", "currency", "due_date", "issue_date", "invoice_id"]


def _payments_as_of(payments: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    return payments.filter(pl.col("status") == "succeeded", pl.col("paid_at").dt.date() <= as_of)


def open_balances(invoices: pl.LazyFrame, payments: pl.LazyFrame, *, as_of: dt.date) -> pl.DataFrame:
    """Open invoices with their remaining balance as of ``as_of``.

    Args:
        invoices: the clean invoices table (contract ``INVOICES``).
        payments: the clean payments table (contract ``PAYMENTS``).
        as_of: the plan's as-of date.

    Returns:
        One row per invoice that still owes money: ``invoice_id, customer_id, currency, issue_date,
        due_date, amount, paid, credit_applied, balance, disputed, hold_until, payment_method``,
        sorted by customer, currency, due date, issue date and invoice id.
    """
    issued = invoices.filter(pl.col("issue_date") <= as_of, ~pl.col("status").is_in(["void", "written_off"]))
    settled = (
        (pl.col("status") == "paid") & pl.col("paid_date").is_not_null() & (pl.col("paid_date") <= as_of)
    )
    open_note = (pl.col("amount") < 0) & (pl.col("status") == "open")
    # Most invoices of a long export are settled: drop them before any join with the payments.  One
    # read gives the unsettled invoices and the open credit notes.
    kept = issued.filter(((pl.col("amount") > 0) & ~settled) | open_note).collect().lazy()
    candidates = kept.filter(pl.col("amount") > 0)
    # One pass over the payments of candidate invoices: whether any mention it, and what paid it.
    counts = (
        (pl.col("status") == "succeeded")
        & (pl.col("paid_at").dt.date() <= as_of)
        & (pl.col("currency") == pl.col("_inv_currency"))
    )
    per_invoice = (
        payments.filter(pl.col("invoice_id").is_not_null())
        .select("invoice_id", "currency", "status", "paid_at", "amount")
        .join(candidates.select("invoice_id", _inv_currency="currency"), on="invoice_id", how="inner")
        .group_by("invoice_id")
        .agg(applied=pl.col("amount").filter(counts).sum(), _mentioned=pl.lit(True).first())
    )
    debits = (
        candidates.join(per_invoice, on="invoice_id", how="left")
        .with_columns(
            export_paid=pl.when(pl.col("paid_date").is_not_null() & (pl.col("paid_date") > as_of))
            .then(pl.lit(0, dtype=pl.Int64))
            .otherwise(pl.col("amount_paid").fill_null(0)),
        )
        .with_columns(
            paid=pl.when(pl.col("_mentioned").fill_null(False))
            .then(pl.col("applied").fill_null(0))
            .otherwise(pl.col("export_paid"))
        )
        .with_columns(due_before_credit=(pl.col("amount") - pl.col("paid")).clip(lower_bound=0))
        .filter(pl.col("due_before_credit") > 0)
    )
    credit_notes = kept.filter(open_note).select(
        "customer_id",
        "currency",
        credit=(-pl.col("amount") - pl.col("amount_paid").fill_null(0).abs()).clip(lower_bound=0),
    )
    unapplied = (
        _payments_as_of(payments, as_of)
        .filter(pl.col("invoice_id").is_null(), pl.col("amount") > 0)
        .select("customer_id", "currency", credit=pl.col("amount"))
    )
    credits = (
        pl.concat([credit_notes, unapplied])
        .group_by("customer_id", "currency")
        .agg(credit=pl.col("credit").sum())
    )
    out = (
        debits.join(credits, on=["customer_id", "currency"], how="left")
        .with_columns(pl.col("credit").fill_null(0))
        .sort(_ORDER)
        .collect()
    )
    # FIFO: credit covers the oldest due invoices first.
    out = out.with_columns(
        _before=pl.col("due_before_credit").cum_sum().over("customer_id", "currency")
        - pl.col("due_before_credit")
    )
    out = out.with_columns(
        credit_applied=(pl.col("credit") - pl.col("_before"))
        .clip(lower_bound=0)
        .clip(upper_bound=pl.col("due_before_credit"))
    ).with_columns(balance=pl.col("due_before_credit") - pl.col("credit_applied"))
    return out.filter(pl.col("balance") > 0).select(
        "invoice_id",
        "customer_id",
        "currency",
        "issue_date",
        "due_date",
        "amount",
        "paid",
        "credit_applied",
        "balance",
        "disputed",
        "hold_until",
        "payment_method",
    )
