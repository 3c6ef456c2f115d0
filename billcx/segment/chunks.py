"""Chunks of customers: the segment stage's memory follows a chunk, not the whole export.

Every figure the stage computes per customer depends only on that customer's rows, so customers
are split into chunks by a hash of their id and each chunk's ledger is built, used and dropped
before the next one is read (:func:`billcx.segment.fit.prepare`).  Only per-customer results,
the open invoices and a bounded sample of risk-model training rows are kept.  The number of
chunks follows the number of invoice rows (:data:`DEFAULT_CHUNK_INVOICES` per chunk); results
never depend on it (the chunk a customer falls in only decides *when* it is computed, which is why
polars' fast in-process hash is good enough here, unlike for shards).

:func:`data_totals` computes, in one lazy pass before the chunks, the few figures that need the
whole export: its latest date, the typical invoice (medians) and how many invoices there are.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import polars as pl

from billcx.errors import UsageError
from billcx.segment.ledger import export_date
from billcx.store import CleanData

DEFAULT_CHUNK_INVOICES = 2_500_000
DEFAULT_TERMS_DAYS = 30.0
_SEED = 0x5E6


@dataclass(frozen=True)
class DataTotals:
    """Figures of the whole export that every chunk needs.

    Attributes:
        export_date: the latest date anywhere in the export.
        positive_invoices: invoices with a positive amount, issued on/before the as-of date, not void.
        next_amount, next_terms_days: median amount and terms of those invoices (the typical next
            invoice of a customer without one).
    """

    export_date: dt.date
    positive_invoices: int
    next_amount: float
    next_terms_days: float


def data_totals(data: CleanData, as_of: dt.date) -> DataTotals:
    """:class:`DataTotals` of ``data`` as of ``as_of``."""
    pos = data.invoices.filter(
        (pl.col("issue_date") <= as_of) & (pl.col("status") != "void") & (pl.col("amount") > 0)
    ).select(
        pl.len().alias("n"),
        pl.col("amount").median().alias("a"),
        (pl.col("due_date") - pl.col("issue_date")).dt.total_days().median().alias("t"),
    ).collect()
    amount, terms = pos["a"][0], pos["t"][0]
    return DataTotals(export_date=export_date(data) or as_of, positive_invoices=int(pos["n"][0]),
                      next_amount=float(amount) if amount is not None else 0.0,
                      next_terms_days=float(terms) if terms is not None else DEFAULT_TERMS_DAYS)


def chunk_count(data: CleanData, chunk_invoices: int | None = None) -> int:
    """How many chunks ``data`` is prepared in: one per ``chunk_invoices`` invoice rows (at least one)."""
    size = DEFAULT_CHUNK_INVOICES if chunk_invoices is None else chunk_invoices
    if size < 1:
        raise UsageError(f"chunk_invoices must be positive, found {size}",
                         hint=f"omit it for the default ({DEFAULT_CHUNK_INVOICES:,} invoice rows per chunk)")
    rows = data.invoices.select(pl.len()).collect().item()
    return max(1, math.ceil(rows / size))


def chunk_of(data: CleanData, index: int, count: int) -> CleanData:
    """The customers of chunk ``index`` of ``count`` (all of ``data`` when ``count`` is 1)."""
    if count == 1:
        return data
    mine = (pl.col("customer_id").hash(seed=_SEED) % count) == index

    def rows(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.filter(mine)

    return CleanData(rows(data.customers), rows(data.invoices), rows(data.payments),
                     rows(data.events) if data.events is not None else None)
