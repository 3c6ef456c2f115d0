"""Reading CSV, Parquet and XLSX exports into all-text frames with a record index.

Read text, then cast: every column arrives as a polars String column named ``c0, c1, ...`` (by
position, so duplicated or empty header names cannot break the read) plus ``__idx``, the record's
index, from which :attr:`RawSource.lines` gives the line an editor shows.  Casting happens later
(``parse.py``); nothing here decides what a value means.

Line numbers by format: CSV and text as an editor shows them (see ``lines.py``); XLSX the
spreadsheet's row number; Parquet the row's position + 1 (as if a header were line 1).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from billcx.errors import InputError, UsageError
from billcx.ingest.encoding import (
    EncodingInfo,
    first_invalid_utf8,
    single_byte_fallback,
    sniff_encoding,
    transcode_to_utf8,
)
from billcx.ingest.lines import read_header, scan_records

log = logging.getLogger(__name__)

IDX = "__idx"
DELIMITERS = (",", ";", "\t", "|")
_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_HEAD_BYTES = 1 << 20


def position_name(i: int) -> str:
    """Name of the i-th input column in a raw frame."""
    return f"c{i}"


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file (from flags and the mapping; None = detect)."""

    encoding: str | None = None
    encoding_by: str = "flag"
    delimiter: str | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class RawSource:
    """One input file as text.

    Attributes:
        name: the file name as given (used in rejects and the report).
        fmt: ``csv``, ``parquet`` or ``xlsx``.
        header: input column names, in file order.
        frame: lazy frame of String columns ``c0..`` plus ``__idx`` (UInt32); blank lines removed.
        n_rows: data rows (blank lines excluded; repeated headers and ragged rows included).
        blank_lines: blank lines skipped (not rows).
        ragged: ``__idx`` and ``fields`` of rows whose field count differs from the header's.
        lines: maps record indices to line numbers.
        encoding: how the text was decoded (None for Parquet/XLSX).
        delimiter: the CSV delimiter, and ``delimiter_by`` how it was chosen.
        excel_serials: numbers in date columns may be spreadsheet serial dates.
    """

    name: str
    fmt: str
    header: tuple[str, ...]
    frame: pl.LazyFrame
    n_rows: int
    blank_lines: int
    ragged: pl.DataFrame
    lines: Callable[[np.ndarray], np.ndarray]
    encoding: EncodingInfo | None = None
    delimiter: str | None = None
    delimiter_by: str = ""
    excel_serials: bool = False
    notes: tuple[str, ...] = field(default=())


def read_source(path: Path, *, name: str, options: ReadOptions, workdir: Path) -> RawSource:
    """Open ``path`` as text columns, choosing the reader from its first bytes, then its suffix.

    Raises:
        UsageError: the file does not exist.
        InputError: it cannot be read as a table (empty, binary, no header, bad quoting).
    """
    if not path.is_file():
        raise UsageError(f"{name}: no such file", hint="check the path; globs are expanded by the shell")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    try:
        if magic == b"PAR1":
            return _read_parquet(path, name)
        if magic == b"PK\x03\x04":
            return _read_xlsx(path, name, options.sheet)
        return _read_csv(path, name, options, workdir)
    except InputError as exc:
        if exc.message.startswith(f"{name}:"):
            raise
        raise InputError(f"{name}: {exc.message}", hint=exc.hint) from None


# -- CSV --------------------------------------------------------------------------------------------


def _read_csv(path: Path, name: str, options: ReadOptions, workdir: Path) -> RawSource:
    info = sniff_encoding(path, forced=options.encoding, forced_by=options.encoding_by)
    text_path = path
    if info.is_utf8 and info.by == "default":
        bad = first_invalid_utf8(path)
        if bad is not None:
            info = single_byte_fallback(path, bad)
    if not info.is_utf8:
        fd, tmp = tempfile.mkstemp(dir=workdir, suffix=".csv")
        os.close(fd)
        text_path = transcode_to_utf8(path, info, Path(tmp))
        skip = 0
    else:
        skip = info.bom
    with open(text_path, "rb") as fh:
        fh.seek(skip)
        head = fh.read(_HEAD_BYTES)
    if not head.strip():
        raise InputError(
            "the file is empty; expected a header line and data rows",
            hint="check the export finished and the right file was given",
        )
    if b"\n" not in head and b"\r" in head:
        raise InputError(
            "lines end with a lone carriage return (classic Mac); expected \\n or \\r\\n",
            hint="convert the line endings, e.g. with `tr '\\r' '\\n'`",
        )
    delimiter, delimiter_by = _choose_delimiter(head, options.delimiter)
    header = read_header(head, delimiter=delimiter, base_offset=skip)
    rmap = scan_records(str(text_path), header, delimiter=delimiter)
    schema = {position_name(i): pl.String() for i in range(len(header.fields))}
    if rmap.n_records:
        lf = pl.scan_csv(
            text_path,
            has_header=False,
            skip_lines=header.end_line,
            separator=delimiter,
            schema=schema,
            truncate_ragged_lines=True,
            missing_columns="insert",
            extra_columns="ignore",
            row_index_name=IDX,
            raise_if_empty=False,
            encoding="utf8",
        )
        if rmap.blank.size:
            lf = lf.filter(~pl.col(IDX).is_in(pl.Series(rmap.blank, dtype=pl.UInt32).implode()))
    else:
        lf = pl.DataFrame(schema={**schema, IDX: pl.UInt32()}).lazy().select(IDX, *schema)
    ragged = pl.DataFrame(
        {
            IDX: pl.Series(rmap.ragged_idx, dtype=pl.UInt32),
            "fields": pl.Series(rmap.ragged_fields, dtype=pl.Int64),
        }
    )
    lines = rmap.lines
    if header.line != 1:
        log.debug("%s: header on line %d", name, header.line)
    notes = (f"header on line {header.line} (blank lines before it)",) if header.line != 1 else ()
    return RawSource(
        name,
        "csv",
        header.fields,
        lf,
        rmap.n_records - int(rmap.blank.size),
        int(rmap.blank.size),
        ragged,
        lines,
        info,
        delimiter,
        delimiter_by,
        notes=notes,
    )


def _choose_delimiter(head: bytes, forced: str | None) -> tuple[str, str]:
    if forced is not None:
        if len(forced) != 1:
            raise UsageError(f"delimiter must be one character, found {forced!r}")
        return forced, "mapping"
    text = head.decode("utf-8", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip()][:30]
    if len(head) == _HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle
    best: tuple[int, int, str] | None = None
    for d in DELIMITERS:
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=d))
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        agree = sum(1 for r in rows[1:] if len(r) == width)
        score = (agree * 100 // max(len(rows) - 1, 1), width, d)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None:
        raise InputError(
            "no delimiter found: the header has a single column; expected , ; tab or |",
            hint="the file may not be a CSV export; set `delimiter` in the mapping if it is",
        )
    return best[2], "detected"


def delimiter_name(d: str | None) -> str:
    """Human name of a delimiter for the report."""
    return _DELIM_NAMES.get(d or "", repr(d))


# -- Parquet ----------------------------------------------------------------------------------------


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            return col.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.f+00:00")
        return col.dt.strftime("%Y-%m-%dT%H:%M:%S%.f")
    if isinstance(dtype, pl.Date):
        return col.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.List | pl.Array | pl.Struct):
        return pl.lit(None, dtype=pl.String)  # nested values are not contract fields
    return col.cast(pl.String)


def _read_parquet(path: Path, name: str) -> RawSource:
    try:
        lf = pl.scan_parquet(path)
        schema = lf.collect_schema()
        n = lf.select(pl.len()).collect().item()
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise InputError(f"{name}: not a readable Parquet file ({type(exc).__name__})") from None
    header = tuple(schema.names())
    exprs = [_as_text(c, dt).alias(position_name(i)) for i, (c, dt) in enumerate(schema.items())]
    frame = lf.with_row_index(IDX).select(pl.col(IDX), *exprs)
    return RawSource(name, "parquet", header, frame, n, 0, _no_ragged(), lambda idx: np.asarray(idx) + 2)


def _no_ragged() -> pl.DataFrame:
    return pl.DataFrame(schema={IDX: pl.UInt32(), "fields": pl.Int64()})


# -- XLSX -------------------------------------------------------------------------------------------


def _read_xlsx(path: Path, name: str, sheet: str | None) -> RawSource:
    import fastexcel  # local: only spreadsheet users pay for the import

    try:
        reader = fastexcel.read_excel(str(path))
        names = reader.sheet_names
        if sheet is not None and sheet not in names:
            raise UsageError(f"{name}: no sheet {sheet!r}; the workbook has {', '.join(names)}")
        index = names.index(sheet) if sheet is not None else 0
        frame = reader.load_sheet(index, header_row=None, dtypes="string").to_polars()
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - fastexcel raises its own hierarchy
        raise InputError(f"{name}: not a readable XLSX workbook ({type(exc).__name__})") from None
    first_row = _first_xlsx_row(path, index)
    frame = frame.with_row_index(IDX)
    cols = [c for c in frame.columns if c != IDX]
    filled = frame.select(IDX, pl.any_horizontal(pl.col(cols).str.strip_chars().ne("")).alias("x"))
    nonblank = filled.filter(pl.col("x").fill_null(False))[IDX]
    if nonblank.is_empty():
        raise InputError(f"{name}: the sheet is empty; expected a header row and data rows")
    h = int(nonblank[0])
    header = tuple("" if v is None else str(v) for v in frame.row(h)[1:])
    data = frame.filter(pl.col(IDX) > h).with_columns((pl.col(IDX) - h - 1).cast(pl.UInt32))
    blank_idx = filled.filter(pl.col(IDX) > h, ~pl.col("x").fill_null(False))[IDX] - h - 1
    data = data.filter(~pl.col(IDX).is_in(blank_idx.cast(pl.UInt32).implode()))
    data = data.select(IDX, *[pl.col(c).alias(position_name(i)) for i, c in enumerate(cols)])
    header_line = first_row + h
    return RawSource(
        name,
        "xlsx",
        header,
        data.lazy(),
        data.height,
        blank_idx.len(),
        _no_ragged(),
        lambda idx: np.asarray(idx) + header_line + 1,
        excel_serials=True,
        notes=(f"sheet {names[index]!r}",),
    )


def _first_xlsx_row(path: Path, index: int) -> int:
    """Row number of the first row with a value: calamine drops the empty rows above it."""
    try:
        with zipfile.ZipFile(path) as zf:
            rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            book = zf.read("xl/workbook.xml").decode("utf-8", "replace")
            rids = re.findall(r"<sheet\b[^>]*\br:id=\"([^\"]+)\"", book)
            targets = dict(
                re.findall(r"<Relationship\b[^>]*\bId=\"([^\"]+)\"[^>]*\bTarget=\"([^\"]+)\"", rels)
            )
            target = targets[rids[index]].lstrip("/")
            target = target if target.startswith("xl/") else f"xl/{target}"
            with zf.open(target) as fh:
                head = fh.read(1 << 20).decode("utf-8", "replace")
    except (KeyError, IndexError, zipfile.BadZipFile):
        return 1
    for m in re.finditer(r"<row\b[^>]*\br=\"(\d+)\"[^>]*>(.*?)</row>", head, flags=re.S):
        if re.search(r"<v>|<is>", m.group(2)):
            return int(m.group(1))
    return 1
