"""Writing the generated tables as a billing system exports them (CSV) or natively (Parquet).

CSV cells follow what billing systems print: contract column names; money as major-unit decimal
text (``1234.56``, JPY ``1234``, ``-12.50``); dates ``YYYY-MM-DD``; instants ISO 8601 with offset
(``2026-03-04T09:15:00+00:00``); booleans ``true``/``false``; an empty cell for null.  UTF-8
without BOM, ``\\n`` line ends, quotes only where needed.  Parquet keeps native types (minor units).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import polars as pl

from billcx.atomic import write_bytes
from billcx.errors import UsageError
from billcx.export import Format, write_table
from billcx.money import major_expr
from billcx.sample.generator import SampleData
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS, Kind, Table

EXPORT_TABLES: tuple[Table, ...] = (CUSTOMERS, INVOICES, PAYMENTS, EVENTS)
_SORT_KEYS: dict[str, list[str]] = {
    CUSTOMERS.name: ["customer_id"],
    INVOICES.name: ["invoice_id"],
    PAYMENTS.name: ["payment_id"],
    EVENTS.name: ["customer_id", "at", "channel", "event"],
}


class ExportFormat(StrEnum):
    """Formats ``write_exports`` writes."""

    CSV = "csv"
    PARQUET = "parquet"


def _is_sorted(frame: pl.DataFrame, keys: list[str]) -> bool:
    """Whether rows are in ascending order of ``keys`` (one vectorised pass, no copy of the frame)."""
    if frame.height < 2:
        return True
    in_order: pl.Expr | None = None
    for key in reversed(keys):
        col, following = pl.col(key), pl.col(key).shift(-1)
        before, tied = col < following, col == following
        in_order = (before | tied) if in_order is None else (before | (tied & in_order))
    assert in_order is not None
    return bool(frame.select(in_order.head(frame.height - 1).all()).item())


def sorted_table(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in the order exports are written (sorted only when it is not already)."""
    keys = _SORT_KEYS[name]
    return frame if _is_sorted(frame, keys) else frame.sort(keys, maintain_order=True)


def tables(data: SampleData) -> dict[str, pl.DataFrame]:
    """The exported tables by contract name, sorted by their keys."""
    frames = {CUSTOMERS.name: data.customers, INVOICES.name: data.invoices, PAYMENTS.name: data.payments,
              EVENTS.name: data.events}
    return {name: sorted_table(name, frame) for name, frame in frames.items()}


def export_text(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Every cell as the text a billing export shows (all columns String, nulls stay null).

    Args:
        frame: a frame conforming to ``table``.
        table: its contract table (decides each column's formatting).

    Returns:
        The same rows and columns, as text.
    """
    currencies = frame["currency"].unique().drop_nulls().to_list() if "currency" in frame.columns else []
    exprs = []
    for column in table.columns:
        col = pl.col(column.name)
        if column.kind is Kind.MONEY:
            expr = major_expr(column.name, "currency", currencies)
        elif column.kind is Kind.DATE:
            expr = col.dt.to_string("%Y-%m-%d")
        elif column.kind is Kind.INSTANT:
            expr = col.dt.to_string("%Y-%m-%dT%H:%M:%S%:z")
        elif column.kind is Kind.BOOL:
            expr = pl.when(col).then(pl.lit("true")).when(col.not_()).then(pl.lit("false"))
        else:
            expr = col.cast(pl.String)
        exprs.append(expr.cast(pl.String).alias(column.name))
    return frame.select(exprs)


def csv_bytes(text: pl.DataFrame) -> bytes:
    """CSV bytes of an all-text frame: header, ``\\n`` line ends, empty cells for nulls."""
    return text.write_csv(None, line_terminator="\n", quote_style="necessary").encode("utf-8")


def write_exports(data: SampleData, out_dir: str | Path, *, fmt: str | ExportFormat = ExportFormat.CSV
                  ) -> list[Path]:
    """Write ``customers``, ``invoices``, ``payments`` and ``events`` files into ``out_dir``.

    Each file is written atomically; the same data always gives the same bytes.

    Args:
        data: what :func:`billcx.sample.generate` returned.
        out_dir: target folder (created if missing; other files in it are left alone).
        fmt: ``csv`` (as a billing system exports: major units, ISO dates) or ``parquet`` (native
            contract types, minor units; for benchmarks).

    Returns:
        The paths written, in contract order.

    Raises:
        UsageError: ``fmt`` is not csv or parquet.
    """
    try:
        kind = ExportFormat(fmt)
    except ValueError:
        raise UsageError(f"format: expected csv or parquet, found {fmt!r}") from None
    out = Path(out_dir)
    paths = []
    frames = (data.customers, data.invoices, data.payments, data.events)
    for table, unsorted in zip(EXPORT_TABLES, frames, strict=True):
        frame = sorted_table(table.name, unsorted)  # one table at a time: no copy of the whole data
        target = out / f"{table.file_stem}.{kind.value}"
        if kind is ExportFormat.CSV:
            write_bytes(target, csv_bytes(export_text(frame, table)))
        else:
            write_table(frame, target, fmt=Format.PARQUET)
        paths.append(target)
    return paths
