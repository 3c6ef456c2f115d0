"""Reason lists: the ``reasons`` column is built from many text and list columns, row by row.

``pl.concat_list(...).list.drop_nulls()`` is the obvious way to write that, and at 10M invoices it
was one of the plan's largest costs (about a second per call on 600k messages in polars 2.1: both
functions work list by list).  Here the parts are stacked as one long (row, text) table instead and
gathered back per row: an explode per list part, one sort and one group-by, ten times faster.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

_ROW = "_reason_row"
_TEXT = "_reason_text"
REASON_LIST = pl.List(pl.String)


# A part: a column name, an expression, or ``(condition, expression)``: the text only where the
# condition holds, evaluated on those rows alone (a formatted reason that applies to few rows).
Part = str | pl.Expr | tuple[pl.Expr, pl.Expr]


def concat_reasons(frame: pl.DataFrame, parts: Sequence[Part], *, name: str = "reasons") -> pl.Series:
    """Row-wise concatenation of text and list-of-text parts, nulls dropped, order kept.

    For each row the result holds, in order, the non-null texts of every part: a ``String`` part
    gives its value, a ``List(String)`` part its elements.  It equals
    ``pl.concat_list(parts).list.drop_nulls()`` (a ``(condition, expression)`` part read as
    ``pl.when(condition).then(expression)``) except that a null list counts as an empty one.

    Args:
        frame: the rows.
        parts: column names, expressions over ``frame`` (each ``String`` or ``List(String)``), or
            ``(condition, expression)`` pairs, the expression evaluated only where the condition is true.
        name: name of the returned series.

    Returns:
        A ``List(String)`` series aligned with ``frame`` (an empty list where every part is null).

    Raises:
        TypeError: a part is neither ``String`` nor ``List(String)``.
    """
    row = pl.int_range(pl.len(), dtype=pl.Int64).alias(_ROW)
    # A null text for every row first, so that every row has a group and the groups come out in row
    # order (no join back); the stable sort puts each row's texts together in part order.
    pieces: list[pl.DataFrame] = [frame.select(row, pl.lit(None, dtype=pl.String).alias(_TEXT))]
    for part in parts:
        if isinstance(part, tuple):
            cond, expr = part
            piece = frame.lazy().with_columns(row).filter(cond).select(_ROW, expr.alias(_TEXT)).collect()
        else:
            expr = pl.col(part) if isinstance(part, str) else part
            piece = frame.select(row, expr.alias(_TEXT))
        dtype = piece.schema[_TEXT]
        if dtype == REASON_LIST:
            piece = piece.explode(_TEXT)
        elif dtype == pl.Null:
            continue
        elif dtype != pl.String:
            raise TypeError(f"reason part {part!r} is {dtype}, expected String or List(String)")
        pieces.append(piece.filter(pl.col(_TEXT).is_not_null()))
    return (
        pl.concat(pieces)
        .sort(_ROW, maintain_order=True)
        .group_by(_ROW, maintain_order=True)
        .agg(pl.col(_TEXT).drop_nulls())
        .get_column(_TEXT)
        .cast(REASON_LIST)
        .alias(name)
    )
