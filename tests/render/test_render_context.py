"""The prepared rows handed to the renderer: column-wise conversion equals polars' own."""

from __future__ import annotations

import polars as pl

from billcx.render.context import prepare, rows_of
from billcx.store import CleanData

from .builders import golden_rows, schedule


def test_rows_of_equals_iter_rows_including_null_and_empty_lines(data: CleanData) -> None:
    prepared = prepare(schedule(golden_rows()), data.customers, data.invoices)
    lines = prepared.get_column("lines").to_list()
    lines[0], lines[1] = None, []
    prepared = prepared.with_columns(pl.Series("lines", lines, dtype=prepared.schema["lines"]))
    assert rows_of(prepared) == list(prepared.iter_rows(named=True))
    assert rows_of(prepared.head(0)) == []
    assert [len(r["lines"] or []) for r in rows_of(prepared)][2:4] == [len(x) for x in lines[2:4]]
