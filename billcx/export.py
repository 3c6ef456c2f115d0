"""Writing tables: Parquet for the pipeline, CSV / XLSX / JSON Lines for people and pipes.

All writes are atomic and deterministic (same frame, same bytes).  Spreadsheet formats are
protected against formula injection: a text cell that starts with ``= + - @``, a tab or a carriage
return is prefixed with an apostrophe, as OWASP recommends.  Money columns declared in the
contract are shown in major units next to their currency in CSV and XLSX.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import polars as pl

from billcx.atomic import atomic_path, write_bytes
from billcx.money import major_expr
from billcx.schema import Kind, Table

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class Format(StrEnum):
    """Output formats for tables."""

    PARQUET = "parquet"
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"


def neutralise_formulas(frame: pl.DataFrame, *, skip: tuple[str, ...] = ()) -> pl.DataFrame:
    """Prefix text cells that a spreadsheet would evaluate as a formula with an apostrophe."""
    pattern = "^[" + "".join("\\" + t if t in "-+" else t for t in FORMULA_TRIGGERS) + "]"
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String and name not in skip:
            col = pl.col(name)
            exprs.append(
                pl.when(col.str.contains(pattern)).then(pl.lit("'") + col).otherwise(col).alias(name)
            )
    return frame.with_columns(exprs) if exprs else frame


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become '; '-joined text and structs JSON, so flat formats can hold them."""
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List):
            exprs.append(pl.col(name).cast(pl.List(pl.String)).list.join("; ").alias(name))
        elif isinstance(dtype, pl.Struct):
            exprs.append(pl.col(name).struct.json_encode().alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _money_to_major(frame: pl.DataFrame, table: Table | None) -> tuple[pl.DataFrame, tuple[str, ...]]:
    if table is None or "currency" not in frame.columns:
        return frame, ()
    money = [c.name for c in table.columns if c.kind is Kind.MONEY and c.name in frame.columns]
    if not money:
        return frame, ()
    currencies = frame["currency"].unique().drop_nulls().to_list()
    return frame.with_columns([major_expr(m, "currency", currencies).alias(m) for m in money]), tuple(money)


def to_csv_bytes(frame: pl.DataFrame, *, table: Table | None = None) -> bytes:
    """CSV bytes for people: flattened, money in major units, formulas neutralised."""
    flat, money = _money_to_major(_flatten(frame), table)
    buf = io.BytesIO()
    neutralise_formulas(flat, skip=money).write_csv(buf)
    return buf.getvalue()


def write_table(frame: pl.DataFrame, path: str | Path, *, fmt: Format = Format.PARQUET,
                table: Table | None = None) -> Path:
    """Atomically write ``frame`` to ``path`` (its suffix replaced by the format's).

    Args:
        frame: the table to write; it is written in its current row order.
        path: target path; the suffix is set from ``fmt``.
        fmt: output format.
        table: contract table the frame follows, used to show money in major units.

    Returns:
        The path written.
    """
    target = Path(path).with_suffix(f".{fmt.value}")
    if fmt is Format.PARQUET:
        with atomic_path(target) as tmp:
            frame.write_parquet(tmp, compression="zstd", statistics=True)
    elif fmt is Format.CSV:
        write_bytes(target, to_csv_bytes(frame, table=table))
    elif fmt is Format.JSONL:
        lines = [json.dumps(row, ensure_ascii=False, sort_keys=False, default=str)
                 for row in frame.iter_rows(named=True)]
        write_bytes(target, ("\n".join(lines) + ("\n" if lines else "")).encode())
    elif fmt is Format.XLSX:
        _write_xlsx(frame, target, table)
    return target


def _write_xlsx(frame: pl.DataFrame, target: Path, table: Table | None) -> None:
    import xlsxwriter  # local: only spreadsheet users pay for the import

    flat, money = _money_to_major(_flatten(frame), table)
    flat = neutralise_formulas(flat, skip=money)
    # Major-unit text to numbers for display; the exact value stays in the Parquet output.
    flat = flat.with_columns([pl.col(m).cast(pl.Float64) for m in money])
    with atomic_path(target) as tmp:
        # Fixed creation date and no strings-to-formulas: deterministic, injection-safe workbooks.
        # Excel has no time zones: contract instants are UTC, so they are written as UTC wall time.
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                            "remove_timezone": True})
        wb.set_properties({"created": _EPOCH})
        money_fmt: dict[Any, str] = {m: "#,##0.00" for m in money}
        flat.write_excel(wb, worksheet="data", column_formats=money_fmt or None, autofit=False)
        wb.close()

