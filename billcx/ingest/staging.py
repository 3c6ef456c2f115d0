"""Where ingest keeps its rows: Parquet files in a staging folder, never whole tables in memory.

Pass one sinks each file's typed rows to ``<staging>/pass1-<src>.parquet`` (fast LZ4, read a few
times, deleted at the end); the tables are lazy scans over those files, and each check reads only
the columns it compares, on polars' streaming engine, and collects only the rows it finds (few).
The final tables are sunk to ``<staging>/<table>.parquet`` in the contract's bytes (zstd,
statistics, fixed row groups) and :func:`billcx.ingest.write_ingest` links or copies them into the
output folder.

Order: the outputs are sorted by key.  Exports usually come in key order, so :func:`order_table`
checks the order in one streaming pass over the key column(s), batch by batch (memory: one batch),
and finds the duplicate keys on the way (in key order they are neighbours).  Only a table that is
not in order is sorted, in memory (the cost docs/ingest.md gives), and sunk sorted before the
checks read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from billcx.ingest.readers import IDX
from billcx.schema import Table

SRC = "__src"
# Fixed row groups: the Parquet bytes depend on the rows only, never on how they were read or in
# how many pieces (a table of up to this many rows is one row group, as polars writes a frame).
ROW_GROUP_ROWS = 131_072
_BATCH_ROWS = 1 << 20


def sink_stage(frame: pl.LazyFrame, path: Path) -> pl.LazyFrame:
    """Sink ``frame`` to a staging file (LZ4: cheap to write and read back) and scan it."""
    frame.sink_parquet(path, compression="lz4", statistics=False, engine="streaming")
    return pl.scan_parquet(path)


def sink_output(frame: pl.LazyFrame, path: Path) -> int:
    """Sink a final table (zstd, statistics, :data:`ROW_GROUP_ROWS` per row group) in its order.

    Returns:
        The rows written.
    """
    frame.sink_parquet(
        path, compression="zstd", statistics=True, row_group_size=ROW_GROUP_ROWS, engine="streaming"
    )
    return count_rows(pl.scan_parquet(path))


def conform(table: Table, frame: pl.LazyFrame) -> pl.LazyFrame:
    """:meth:`billcx.schema.Table.conform`, lazily: contract columns, order and types (defaults
    for absent columns)."""
    present = set(frame.collect_schema().names())
    return frame.select(
        pl.col(c.name).cast(c.dtype) if c.name in present else pl.lit(c.default, dtype=c.dtype).alias(c.name)
        for c in table.columns
    )


def count_rows(frame: pl.LazyFrame) -> int:
    """Rows of a lazy frame (from Parquet metadata when it is a plain scan)."""
    return int(frame.select(pl.len()).collect(engine="streaming").item())


def row_id(src: pl.Expr | None = None, idx: pl.Expr | None = None) -> pl.Expr:
    """One UInt64 per row read: file position in the high half, record index in the low half."""
    s = (src if src is not None else pl.col(SRC)).cast(pl.UInt64)
    i = (idx if idx is not None else pl.col(IDX)).cast(pl.UInt64)
    return (s * (1 << 32) + i).alias("__rid")


def without(frame: pl.LazyFrame, drop: pl.DataFrame) -> pl.LazyFrame:
    """``frame`` without the rows listed in ``drop`` (``__src``, ``__idx``), order kept.

    A membership test on one integer per row: it streams, and only ``drop`` (few rows) is held.
    """
    if drop.is_empty():
        return frame
    ids = drop.select(row_id()).to_series().unique()
    return frame.filter(~row_id().is_in(ids.implode()))


@dataclass(frozen=True)
class Order:
    """What one pass over a table's order columns found.

    Attributes:
        ordered: the rows come in order (non-decreasing by the order columns, nulls not allowed).
        repeated: keyed tables: key values seen on more than one neighbouring row.
    """

    ordered: bool
    repeated: pl.Series


def _in_order(cols: Sequence[str]) -> pl.Expr:
    """Each row >= the row before it, lexicographically over ``cols`` (null: not in order)."""
    expr: pl.Expr | None = None
    for c in reversed(cols):
        cur, prev = pl.col(c), pl.col(c).shift(1)
        expr = cur >= prev if expr is None else (cur > prev) | ((cur == prev) & expr)
    assert expr is not None
    return expr.fill_null(False)


def scan_order(frame: pl.LazyFrame, cols: Sequence[str], *, key: str | None) -> Order:
    """Check the order of ``frame`` over ``cols`` and find repeated neighbouring keys, streaming.

    Batches are compared with the last row of the batch before, so memory is one batch of the
    order columns whatever the table's size.
    """
    names = list(dict.fromkeys([*cols, *([key] if key else [])]))
    ordered = True
    repeated: list[pl.Series] = []
    last: pl.DataFrame | None = None
    for batch in frame.select(names).collect_batches(chunk_size=_BATCH_ROWS, engine="streaming"):
        if batch.is_empty():
            continue
        chunk = batch if last is None else pl.concat([last, batch])
        skip = 0 if last is None else 1
        if ordered:
            ordered = bool(chunk.select(_in_order(cols).slice(1).all()).item()) and (
                skip == 1 or chunk.select(pl.col(cols[0]).first().is_not_null()).item()
            )
        if key is not None:
            k = pl.col(key)
            rep = chunk.filter((k == k.shift(1)).fill_null(False))[key]
            if len(rep):
                repeated.append(rep)
        last = batch.tail(1)
    rep_keys = (
        pl.concat(repeated).unique(maintain_order=True) if repeated else pl.Series(key or "", [], pl.String)
    )
    return Order(ordered, rep_keys)


def order_table(
    parts: Sequence[pl.LazyFrame], cols: Sequence[str], *, key: str | None, sorted_path: Path
) -> tuple[pl.LazyFrame, Order]:
    """The table made of ``parts`` (in file order), in order over ``cols``, and its repeated keys.

    Tried in turn: the parts as they come; for a keyed table, the parts merged on the key (each
    export sorted on its own); otherwise a sort (in memory), sunk to ``sorted_path``.  Rows with
    the same key end up neighbours in every case; which of them is kept is decided later by file
    and line, not by this order.
    """
    frame = parts[0] if len(parts) == 1 else pl.concat(list(parts), how="diagonal_relaxed")
    order = scan_order(frame, cols, key=key)
    if order.ordered:
        return frame, order
    schemas = [p.collect_schema() for p in parts]
    if key is not None and len(parts) > 1 and all(s == schemas[0] for s in schemas):
        merged = parts[0]
        for p in parts[1:]:
            merged = merged.merge_sorted(p, key=key)
        order = scan_order(merged, cols, key=key)
        if order.ordered:
            return merged, order
    by = [*cols, SRC, IDX]
    frame = sink_stage(frame.sort(by, nulls_last=False, maintain_order=True), sorted_path)
    return frame, scan_order(frame, cols, key=key)
