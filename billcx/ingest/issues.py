"""Issues found while ingesting, and the ``rejects`` table made from them.

Internally an issue names its file by position (``src``) and its row by record index (``__idx``);
:func:`render_rejects` turns them into the contract's REJECTS table: file name as given, table,
line as an editor shows it, input column, value as read, code and message.  Messages are filled
from the code's template with polars string formatting, so ten thousand rejects cost no Python
loop either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import polars as pl

from billcx.ingest.codes import CODES, REJECTING
from billcx.ingest.readers import IDX
from billcx.schema import REJECTS

ISSUE_SCHEMA = pl.Schema(
    {
        "src": pl.Int32(),
        IDX: pl.UInt32(),
        "column": pl.String(),
        "value": pl.String(),
        "code": pl.String(),
        "detail": pl.String(),
    }
)
_MESSAGE_VALUE_CHARS = 60


def empty_issues() -> pl.DataFrame:
    """An issue frame with no rows."""
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def conform_issue_part(part: pl.DataFrame) -> pl.DataFrame:
    """Cast a part (``__idx, column, value, code, detail``) to the issue column types."""
    return part.select(
        pl.col(IDX).cast(pl.UInt32),
        *[pl.col(c).cast(pl.String) for c in ("column", "value", "code", "detail")],
    )


def with_src(part: pl.DataFrame, src: int | pl.Expr) -> pl.DataFrame:
    """Add the file position and order the columns as :data:`ISSUE_SCHEMA`."""
    expr = src if isinstance(src, pl.Expr) else pl.lit(src)
    return (
        conform_issue_part(part).with_columns(expr.cast(pl.Int32).alias("src")).select(ISSUE_SCHEMA.names())
    )


def issues(
    src: pl.Expr | int,
    idx: pl.Expr,
    column: pl.Expr | str,
    value: pl.Expr,
    code: str,
    detail: pl.Expr | str = "",
) -> list[pl.Expr]:
    """Select expressions building issue rows from a frame of offending rows."""
    return [
        (src if isinstance(src, pl.Expr) else pl.lit(src)).cast(pl.Int32).alias("src"),
        idx.cast(pl.UInt32).alias(IDX),
        (column if isinstance(column, pl.Expr) else pl.lit(column)).cast(pl.String).alias("column"),
        value.cast(pl.String).alias("value"),
        pl.lit(code).alias("code"),
        (detail if isinstance(detail, pl.Expr) else pl.lit(detail)).cast(pl.String).alias("detail"),
    ]


def rejecting(frame: pl.DataFrame) -> pl.DataFrame:
    """Only the issues that reject their row."""
    return frame.filter(pl.col("code").is_in(sorted(REJECTING)))


def _message_expr() -> pl.Expr:
    value = pl.col("value").fill_null("")
    short = (
        pl.when(value.str.len_chars() > _MESSAGE_VALUE_CHARS)
        .then(value.str.slice(0, _MESSAGE_VALUE_CHARS - 1) + pl.lit("…"))
        .otherwise(value)
    )
    fields = {
        "column": pl.col("column").fill_null(""),
        "value": short,
        "detail": pl.col("detail").fill_null(""),
    }
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for code in CODES:
        names = re.findall(r"\{(\w+)\}", code.template)
        fmt = re.sub(r"\{\w+\}", "{}", code.template)
        expr = (
            pl.when(pl.col("code") == code.name)
            .then(pl.format(fmt, *[fields[n] for n in names]))
            .otherwise(expr)
        )
    return expr


def render_rejects(
    frame: pl.DataFrame, *, files: Sequence[str], tables: Sequence[str], lines: Sequence[object]
) -> pl.DataFrame:
    """The REJECTS table for ``frame``'s issues, sorted by file, line, column and code.

    Args:
        frame: issues (:data:`ISSUE_SCHEMA`).
        files: display name of each source, by position.
        tables: table each source feeds, by position.
        lines: per source, a function mapping record indices (numpy) to line numbers.
    """
    if frame.is_empty():
        return REJECTS.empty()
    parts = []
    for src, group in frame.with_row_index("__row").group_by("src", maintain_order=True):
        s = int(src[0])
        idx = group[IDX].to_numpy()
        line_of = lines[s]
        line = line_of(idx) if callable(line_of) else idx + 2  # type: ignore[operator]
        parts.append(
            group.with_columns(
                line=pl.Series(np.asarray(line, dtype=np.int64)),
                file=pl.lit(files[s]),
                table=pl.lit(tables[s]),
            )
        )
    out = pl.concat(parts).with_columns(message=_message_expr())
    out = out.sort("src", "line", "column", "code", "value", nulls_last=True)
    return REJECTS.conform(out)
