"""Locating and scanning stage outputs (the folders one stage writes and the next reads)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from billcx.errors import InputError, UsageError
from billcx.schema import Table


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
