"""Locating and scanning stage outputs (the folders one stage writes and the next reads)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from billcx.errors import InputError, UsageError
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS, Table
from billcx.shard import Shard, filter_shard, shard_ids


def table_path(folder: str | Path, table: Table) -> Path:
    """``folder/<table file stem>.parquet``."""
    return Path(folder) / f"{table.file_stem}.parquet"


def scan(folder: str | Path, table: Table, *, optional: bool = False,
         columns: list[str] | None = None) -> pl.LazyFrame | None:
    """Lazily scan a stage output table, checking that its contract columns are present.

    Args:
        folder: a stage output folder (e.g. what ``billcx ingest`` wrote).
        table: the contract table expected there.
        optional: return None instead of raising when the file is absent.
        columns: read only these columns (data minimisation); default all contract columns.

    Raises:
        UsageError: the folder does not exist.
        InputError: the table file is missing (and not optional) or lacks contract columns.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder", hint="give the folder an earlier stage wrote")
    path = table_path(folder, table)
    if not path.exists():
        if optional:
            return None
        raise InputError(f"{path}: missing; expected the {table.name} table here",
                         hint="run the stage that writes it first")
    lf = pl.scan_parquet(path)
    have = set(lf.collect_schema().names())
    want = columns if columns is not None else table.names
    missing = [c for c in want if c not in have]
    if missing:
        raise InputError(f"{path}: missing columns {', '.join(missing)} of the {table.name} contract")
    return lf.select(want)


def read(folder: str | Path, table: Table, *, columns: list[str] | None = None) -> pl.DataFrame:
    """Eagerly read a required stage output table (see :func:`scan`)."""
    lf = scan(folder, table, columns=columns)
    assert lf is not None
    return lf.collect()


@dataclass(frozen=True)
class CleanData:
    """The clean contract tables ``billcx ingest`` writes, as lazy frames.

    ``events`` is None when no engagement export was ingested.  Build it with :meth:`load` from a
    folder, or directly from frames (tests, notebooks) with :meth:`from_frames`.
    """

    customers: pl.LazyFrame
    invoices: pl.LazyFrame
    payments: pl.LazyFrame
    events: pl.LazyFrame | None = None

    @classmethod
    def load(cls, folder: str | Path, *, shard: Shard | None = None) -> CleanData:
        """Scan ``folder``'s clean tables; with ``shard``, keep only that shard's customers."""
        customers = scan(folder, CUSTOMERS)
        invoices = scan(folder, INVOICES)
        payments = scan(folder, PAYMENTS)
        events = scan(folder, EVENTS, optional=True)
        assert customers is not None and invoices is not None and payments is not None
        data = cls(customers, invoices, payments, events)
        return data.shard(shard) if shard is not None else data

    @classmethod
    def from_frames(cls, customers: pl.DataFrame | pl.LazyFrame, invoices: pl.DataFrame | pl.LazyFrame,
                    payments: pl.DataFrame | pl.LazyFrame,
                    events: pl.DataFrame | pl.LazyFrame | None = None) -> CleanData:
        """Conform frames to the contract (missing optional columns get defaults)."""
        return cls(CUSTOMERS.conform(customers).lazy(), INVOICES.conform(invoices).lazy(),
                   PAYMENTS.conform(payments).lazy(),
                   EVENTS.conform(events).lazy() if events is not None else None)

    def shard(self, shard: Shard) -> CleanData:
        """Only the customers of ``shard`` (and their invoices, payments and events)."""
        ids = shard_ids(self.customers.select("customer_id").collect()["customer_id"], shard)
        return CleanData(filter_shard(self.customers, ids, shard), filter_shard(self.invoices, ids, shard),
                         filter_shard(self.payments, ids, shard),
                         filter_shard(self.events, ids, shard) if self.events is not None else None)

    def latest_date(self) -> dt.date:
        """The latest date in the data: the default as-of date (never the wall clock)."""
        inv = self.invoices.select(pl.col("issue_date").max()).collect().item()
        pay = self.payments.select(pl.col("paid_at").max().dt.date()).collect().item()
        dates = [d for d in (inv, pay) if d is not None]
        if not dates:
            raise InputError("no invoices or payments: cannot choose an as-of date",
                             hint="pass --as-of YYYY-MM-DD")
        return max(dates)
