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

SRC = "__src"
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
    frame: pl.DataFrame, key: str, *, input_name: InputName, locate: Locate, files: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Collapse identical duplicates of ``key``; reject every copy of conflicting ones.

    ``frame`` must be sorted by ``key`` (then by file and line): copies are neighbours.

    Returns:
        (rows kept, issues, number of rows collapsed).
    """
    k = pl.col(key)
    dup = frame.filter(((k == k.shift(1)) | (k == k.shift(-1))).fill_null(False))
    if dup.is_empty():
        return frame, empty_issues(), 0
    values = [c for c in frame.columns if c not in (SRC, IDX)]
    dup = dup.sort(SRC, IDX).with_columns(where=_where(dup.sort(SRC, IDX), locate, files))
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
    kept = frame.join(drop, on=[SRC, IDX], how="anti", maintain_order="left")
    return kept, pl.concat(found), collapsed.height


def references(
    frame: pl.DataFrame,
    column: str,
    parents: pl.Series,
    rejected: pl.Series,
    *,
    parent: str,
    unknown_code: str,
    input_name: InputName,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Reject rows of ``frame`` whose ``column`` names no clean parent (nulls are not references).

    Args:
        frame: child rows (with ``__src``, ``__idx``).
        column: the referencing column (``customer_id``).
        parents: ids of the clean parent rows.
        rejected: ids of parent rows that were rejected (their children get ``parent_rejected``).
        parent: the parent's name for messages (``customer``).
        unknown_code: code for references to nothing (``unknown_customer``).
        input_name: input column name of a contract column, per row's source.
    """
    orphan = pl.col(column).is_not_null() & ~pl.col(column).is_in(parents.unique().implode())
    mask = frame.select(orphan).to_series()
    if not mask.any():
        return frame, empty_issues()
    return frame.filter(~mask), _orphans(
        frame.filter(mask), column, rejected, parent, unknown_code, input_name
    )


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
    payments: pl.DataFrame, invoices: pl.DataFrame, rejected: pl.Series, *, input_name: InputName
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Reject payments naming an unknown (or rejected) invoice, or an invoice of another customer or
    currency -- with one join."""
    inv = invoices.select(
        "invoice_id", __inv_customer=pl.col("customer_id"), __inv_currency=pl.col("currency")
    )
    # Only the columns compared travel through the join; the payments are then filtered by mask.
    keys = payments.select(SRC, IDX, "invoice_id", "customer_id", "currency")
    joined = keys.join(inv, on="invoice_id", how="left", maintain_order="left")
    applied = pl.col("invoice_id").is_not_null()
    orphan = applied & pl.col("__inv_customer").is_null()
    wrong_customer = applied & ~orphan & (pl.col("customer_id") != pl.col("__inv_customer"))
    wrong_currency = applied & ~orphan & ~wrong_customer & (pl.col("currency") != pl.col("__inv_currency"))
    flags = joined.select(o=orphan, c=wrong_customer, m=wrong_currency)
    bad = flags["o"] | flags["c"] | flags["m"]
    if not bad.any():
        return payments, empty_issues()
    found = pl.concat(
        [
            _orphans(
                joined.filter(flags["o"]), "invoice_id", rejected, "invoice", "unknown_invoice", input_name
            ),
            joined.filter(flags["c"]).select(
                issues(
                    pl.col(SRC),
                    pl.col(IDX),
                    input_name("customer_id"),
                    pl.col("customer_id"),
                    "customer_mismatch",
                    pl.col("__inv_customer"),
                )
            ),
            joined.filter(flags["m"]).select(
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
    return payments.filter(~bad), found
