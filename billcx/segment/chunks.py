"""Chunks of customers: the segment stage's memory follows a chunk, not the export.

Every figure the stage computes per customer depends only on that customer's rows, so customers
are split into chunks and each chunk's ledger is built, used and dropped before the next one is
read (:func:`billcx.segment.pipeline.segment`).  Chunks are ranges of customer ids
(:func:`chunk_bounds`): outputs computed chunk by chunk, in chunk order, are already in customer
order, so nothing per customer is ever sorted or held twice.  The number of chunks follows the
number of invoice rows (:data:`DEFAULT_CHUNK_INVOICES` per chunk); results never depend on it.

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


def chunk_bounds(data: CleanData, count: int) -> tuple[str, ...]:
    """Customer ids splitting the customers of ``data`` into ``count`` ranges of about equal size.

    Chunk ``i`` holds the ids from bound ``i - 1`` (inclusive) up to bound ``i`` (exclusive); the
    first and last ranges are open, so ids found only in the invoices or payments have a chunk
    too.  Fewer bounds come back when there are fewer distinct ids than chunks.
    """
    if count <= 1:
        return ()
    ids = data.customers.select(pl.col("customer_id").drop_nulls().unique()).collect().to_series().sort()
    n = ids.len()
    picks = {ids[n * k // count] for k in range(1, count)} if n else set()
    first = ids[0] if n else None
    return tuple(sorted(p for p in picks if p != first))


def in_chunk(bounds: tuple[str, ...], index: int) -> pl.Expr:
    """``customer_id`` lies in chunk ``index`` of the ranges ``bounds`` (see :func:`chunk_bounds`)."""
    c = pl.col("customer_id")
    conditions = ([c >= bounds[index - 1]] if index > 0 else []) + \
        ([c < bounds[index]] if index < len(bounds) else [])
    return pl.all_horizontal(conditions) if conditions else pl.lit(True)


def chunk_of(data: CleanData, bounds: tuple[str, ...], index: int) -> CleanData:
    """The customers of chunk ``index`` of the ranges ``bounds`` (all of ``data`` when there is one)."""
    if not bounds:
        return data
    mine = in_chunk(bounds, index)

    def rows(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.filter(mine)

    return CleanData(rows(data.customers), rows(data.invoices), rows(data.payments),
                     rows(data.events) if data.events is not None else None)
