"""Checks across rows and tables: duplicate ids, and references from one table to another.

Decisions (docs/ingest.md repeats them):

* Rows sharing an id and identical in every contract column are one row exported twice: the
  first (by file, then line) is kept, the others are listed as ``duplicate_identical``.
* Rows sharing an id but differing anywhere cannot be told apart: every copy is rejected as
  ``duplicate_conflicting`` (keeping one would be a guess).
* An invoice or payment of a customer missing from the customers table is rejected
  (``unknown_customer``); so are events.
* A payment naming an invoice missing from the invoices table is rejected (``unknown_invoice``),
  not kept as unapplied: treating it as credit on the account could silence reminders for invoices
  it never paid.  A truly unapplied payment leaves ``invoice_id`` empty.
* A row whose customer or invoice was itself rejected is rejected as ``parent_rejected``.
* A payment applied to an invoice of another customer, or in another currency, is rejected.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from billcx.ingest.issues import empty_issues, issues
from billcx.ingest.readers import IDX
from billcx.ingest.staging import count_rows

SRC = "__src"
JOIN_PART_ROWS = 8_000_000
Locate = Callable[[int, np.ndarray], np.ndarray]
InputName = Callable[[str], pl.Expr]


def _where(frame: pl.DataFrame, locate: Locate, files: list[str]) -> pl.Series:
    """``line N`` (same file as the row compared) or ``<file> line N`` for each row."""
    lines = np.zeros(frame.height, dtype=np.int64)
    src = frame[SRC].to_numpy()
    idx = frame[IDX].to_numpy()
    for s in np.unique(src):
        mask = src == s
        lines[mask] = locate(int(s), idx[mask])
    names = frame[SRC].replace_strict(dict(enumerate(files)), return_dtype=pl.String)
    return pl.select(pl.format("{} line {}", pl.lit(names), pl.lit(pl.Series(lines)))).to_series()


def duplicates(
    frame: pl.LazyFrame,
    key: str,
    repeated: pl.Series,
    *,
    input_name: InputName,
    locate: Locate,
    files: list[str],
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Collapse identical duplicates of ``key``; reject every copy of conflicting ones.

    Args:
        frame: the table (with ``__src``, ``__idx``).
        key: its key column.
        repeated: the key values found on more than one row (``staging.scan_order``); only their
            rows are read.

    Returns:
        (``__src, __idx`` of the rows to drop, issues, number of rows collapsed).
    """
    k = pl.col(key)
    none = pl.DataFrame(schema={SRC: pl.Int32, IDX: pl.UInt32})
    if repeated.is_empty():
        return none, empty_issues(), 0
    dup = frame.filter(k.is_in(repeated.implode())).collect(engine="streaming")
    if dup.is_empty():
        return none, empty_issues(), 0
    values = [c for c in dup.columns if c not in (SRC, IDX)]
    dup = dup.sort(SRC, IDX)
    dup = dup.with_columns(where=_where(dup, locate, files))
    variants = dup.group_by(key).agg(
        pl.struct(values).n_unique().alias("__variants"), pl.col("where").alias("__all")
    )
    dup = dup.join(variants, on=key, how="left", maintain_order="left")
    conflicting = dup.filter(pl.col("__variants") > 1).with_columns(
        __others=pl.col("__all").list.set_difference(pl.concat_list("where")).list.sort().list.join(", ")
    )
    identical = dup.filter(pl.col("__variants") == 1).with_columns(
        __first=pl.col("where").first().over(key), __rank=pl.int_range(pl.len()).over(key)
    )
    collapsed = identical.filter(pl.col("__rank") > 0)
    found = [
        conflicting.select(
            issues(
                pl.col(SRC),
                pl.col(IDX),
                input_name(key),
                pl.col(key),
                "duplicate_conflicting",
                pl.col("__others"),
            )
        ),
        collapsed.select(
            issues(pl.col(SRC), pl.col(IDX), "", pl.col(key), "duplicate_identical", pl.col("__first"))
        ),
    ]
    drop = pl.concat([conflicting.select(SRC, IDX), collapsed.select(SRC, IDX)])
    return drop, pl.concat(found), collapsed.height


def references(
    frame: pl.LazyFrame,
    column: str,
    parents: pl.Series,
    rejected: pl.Series,
    *,
    parent: str,
    unknown_code: str,
    input_name: InputName,
    key: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Find rows of ``frame`` whose ``column`` names no clean parent (nulls are not references).

    Args:
        frame: child rows (with ``__src``, ``__idx``).
        column: the referencing column (``customer_id``).
        parents: ids of the clean parent rows.
        rejected: ids of parent rows that were rejected (their children get ``parent_rejected``).
        parent: the parent's name for messages (``customer``).
        unknown_code: code for references to nothing (``unknown_customer``).
        input_name: input column name of a contract column, per row's source.
        key: the child table's key, returned with the rows found.

    Returns:
        (``__src, __idx``, ``column`` and ``key`` of the rows found, their issues): one streaming
        pass over the referencing column; only the rows found are held.
    """
    orphan = pl.col(column).is_not_null() & ~pl.col(column).is_in(parents.unique().implode())
    cols = list(dict.fromkeys([SRC, IDX, column, *([key] if key else [])]))
    orphans = frame.filter(orphan).select(cols).collect(engine="streaming")
    if orphans.is_empty():
        return orphans, empty_issues()
    return orphans, _orphans(orphans, column, rejected, parent, unknown_code, input_name)


def _orphans(
    orphans: pl.DataFrame,
    column: str,
    rejected: pl.Series,
    parent: str,
    unknown_code: str,
    input_name: InputName,
) -> pl.DataFrame:
    was_rejected = pl.col(column).is_in(rejected.unique().implode())
    return pl.concat(
        [
            orphans.filter(was_rejected).select(
                issues(
                    pl.col(SRC), pl.col(IDX), input_name(column), pl.col(column), "parent_rejected", parent
                )
            ),
            orphans.filter(~was_rejected).select(
                issues(pl.col(SRC), pl.col(IDX), input_name(column), pl.col(column), unknown_code)
            ),
        ]
    )


def payments_vs_invoices(
    payments: pl.LazyFrame, invoices: pl.LazyFrame, rejected: pl.Series, *, input_name: InputName
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Find payments naming an unknown (or rejected) invoice, or an invoice of another customer or
    currency.

    One streaming anti-join on (invoice, customer, currency) keeps only the payments that match no
    invoice exactly (few); only those are joined with their invoice to say what differs.

    Returns:
        (``__src, __idx`` of the payments found, their issues).
    """
    triple = ["invoice_id", "customer_id", "currency"]
    keys = payments.select(SRC, IDX, *triple)
    applied = pl.col("invoice_id").is_not_null()
    # The anti-join holds the invoices' side in memory (their three key columns): beyond
    # JOIN_PART_ROWS invoices it runs once per slice of invoice ids, each holding one slice. The
    # slices only split the work (a polars hash, never stored); the rows found are the same.
    parts = max(1, -(-count_rows(invoices) // JOIN_PART_ROWS))
    suspect_parts = []
    for part in range(parts):
        mine = (pl.col("invoice_id").hash(seed=0) % parts) == part if parts > 1 else pl.lit(True)
        suspect_parts.append(
            keys.filter(applied & mine)
            .join(invoices.select(triple).filter(mine), on=triple, how="anti")
            .collect(engine="streaming")
        )
    suspects = pl.concat(suspect_parts)
    if suspects.is_empty():
        return suspects.select(SRC, IDX), empty_issues()
    inv = invoices.select(
        "invoice_id", __inv_customer=pl.col("customer_id"), __inv_currency=pl.col("currency")
    ).join(suspects.lazy().select("invoice_id").unique(), on="invoice_id", how="semi")
    orphan = pl.col("__inv_customer").is_null()
    wrong_customer = ~orphan & (pl.col("customer_id") != pl.col("__inv_customer"))
    wrong_currency = ~orphan & ~wrong_customer & (pl.col("currency") != pl.col("__inv_currency"))
    joined = (
        suspects.lazy()
        .join(inv, on="invoice_id", how="left")
        .with_columns(o=orphan, c=wrong_customer, m=wrong_currency)
        .filter(pl.col("o") | pl.col("c") | pl.col("m"))
        .sort(SRC, IDX)
        .collect(engine="streaming")
    )
    if joined.is_empty():
        return joined.select(SRC, IDX), empty_issues()
    found = pl.concat(
        [
            _orphans(
                joined.filter(pl.col("o")), "invoice_id", rejected, "invoice", "unknown_invoice", input_name
            ),
            joined.filter(pl.col("c")).select(
                issues(
                    pl.col(SRC),
                    pl.col(IDX),
                    input_name("customer_id"),
                    pl.col("customer_id"),
                    "customer_mismatch",
                    pl.col("__inv_customer"),
                )
            ),
            joined.filter(pl.col("m")).select(
                issues(
                    pl.col(SRC),
                    pl.col(IDX),
                    input_name("currency"),
                    pl.col("currency"),
                    "currency_mismatch",
                    pl.col("__inv_currency"),
                )
            ),
        ]
    )
    return joined.select(SRC, IDX), found
