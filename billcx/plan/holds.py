"""Holds: no reminders for an invoice (or all of a customer's invoices) before a date.

Holds come from the invoices' own ``hold_until`` column (a promise to pay, a pause) and from an
optional holds file (``invoice_id`` or ``customer_id``, ``until``, ``reason``).  A hold ending on or
before the as-of date is over.  Reminders resume on the ``until`` date itself; see
:mod:`billcx.plan.catchup` for what happens to the steps that fell inside the hold.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from billcx.plan.tables import HOLDS, bad_value, read_control_csv


def read_holds(path: str | Path) -> pl.DataFrame:
    """Read a holds CSV into the ``HOLDS`` shape.

    Args:
        path: CSV with ``until`` and ``invoice_id`` and/or ``customer_id`` (``reason`` optional).

    Returns:
        The holds, one row per line.

    Raises:
        UsageError: the file does not exist.
        InputError: a line has neither an invoice nor a customer, or a date that is not YYYY-MM-DD;
            the message names the file, line and column.
    """
    path = Path(path)
    raw = read_control_csv(path, HOLDS)
    for col in ("invoice_id", "customer_id", "reason"):
        if col not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    bad_value(
        path,
        raw,
        pl.col("invoice_id").is_null() & pl.col("customer_id").is_null(),
        "invoice_id",
        "an invoice_id or a customer_id",
    )
    parsed = raw.with_columns(_until=pl.col("until").str.to_date("%Y-%m-%d", strict=False))
    bad_value(path, parsed, pl.col("_until").is_null(), "until", "a date as YYYY-MM-DD")
    return HOLDS.conform(parsed.with_columns(until=pl.col("_until"), reason=pl.col("reason").fill_null("")))


def hold_ends(invoices: pl.DataFrame, holds: pl.DataFrame | None, *, as_of: dt.date) -> pl.DataFrame:
    """The date each invoice's hold ends (null when not held), and why.

    Args:
        invoices: open invoices with ``invoice_id, customer_id, hold_until``.
        holds: optional holds table with the ``HOLDS`` columns, ``customer_id`` of the same type as in
            ``invoices``.
        as_of: holds ending on or before this date are over.

    Returns:
        ``invoice_id, hold_end, hold_reason`` for held invoices only (the latest hold wins).
    """
    parts = [
        invoices.select(
            "invoice_id", until=pl.col("hold_until"), reason=pl.lit("hold_until in the invoices export")
        )
    ]
    if holds is not None and holds.height:
        h = holds.select(HOLDS.names)  # already conformed (customer ids may be the plan's codes)
        by_invoice = h.filter(pl.col("invoice_id").is_not_null()).select("invoice_id", "until", "reason")
        by_customer = (
            h.filter(pl.col("invoice_id").is_null())
            .select("customer_id", "until", "reason")
            .join(invoices.select("invoice_id", "customer_id"), on="customer_id")
            .select("invoice_id", "until", "reason")
        )
        parts += [by_invoice, by_customer]
    allh = pl.concat(parts).filter(pl.col("until").is_not_null(), pl.col("until") > as_of)
    allh = allh.with_columns(pl.col("reason").fill_null("").replace("", "no reason given"))
    return (
        allh.sort("invoice_id", "until", "reason", descending=[False, True, False])
        .group_by("invoice_id", maintain_order=True)
        .first()
        .select("invoice_id", hold_end=pl.col("until"), hold_reason=pl.col("reason"))
    )
