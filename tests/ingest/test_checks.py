"""Cross-row helpers on tiny frames: the early key sort and the payments-vs-invoices join."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from billcx.ingest.assemble import SRC, sort_by_key
from billcx.ingest.checks import payments_vs_invoices
from billcx.ingest.readers import IDX

keys = st.lists(st.one_of(st.none(), st.sampled_from(["A", "B", "b", "C10", "C9", ""])), max_size=30)


def _frame(values: list[str | None], srcs: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "k": pl.Series(values, dtype=pl.String),
            SRC: pl.Series(srcs, dtype=pl.Int32),
            IDX: pl.Series(range(len(values)), dtype=pl.UInt32),
        }
    )


@settings(max_examples=200, deadline=None)
@given(keys, st.data())
def test_sort_by_key_equals_a_full_sort_whether_or_not_the_rows_came_in_order(
    values: list[str | None], data: st.DataObject
) -> None:
    srcs = data.draw(st.lists(st.integers(0, 2), min_size=len(values), max_size=len(values)))
    frame = _frame(values, srcs)
    expected = frame.sort("k", SRC, IDX)
    assert sort_by_key(frame, "k").equals(expected)
    assert sort_by_key(expected, "k").equals(expected)


def test_sort_by_key_sorts_ties_by_file_then_line() -> None:
    frame = _frame(["B", "A", "A", "A"], [0, 1, 0, 0]).with_columns(pl.Series(IDX, [0, 1, 7, 3], pl.UInt32))
    out = sort_by_key(frame, "k")
    assert out.select(SRC, IDX).rows() == [(0, 3), (0, 7), (1, 1), (0, 0)]


def _name(column: str) -> pl.Expr:
    return pl.lit(column)


def test_payments_vs_invoices_rejects_unknown_rejected_and_mismatched_and_keeps_order() -> None:
    invoices = pl.DataFrame(
        {"invoice_id": ["I1", "I2"], "customer_id": ["C1", "C2"], "currency": ["EUR", "USD"]}
    )
    payments = pl.DataFrame(
        {
            SRC: pl.Series([1] * 6, dtype=pl.Int32),
            IDX: pl.Series([5, 0, 3, 1, 4, 2], dtype=pl.UInt32),
            "payment_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "invoice_id": ["I1", None, "I9", "I2", "I2", "I8"],
            "customer_id": ["C1", "C7", "C1", "C1", "C2", "C2"],
            "currency": ["EUR", "EUR", "EUR", "USD", "EUR", "USD"],
        }
    )
    rejected = pl.Series("key", ["I8"], dtype=pl.String)
    kept, found = payments_vs_invoices(payments, invoices, rejected, input_name=_name)
    assert kept["payment_id"].to_list() == ["P1", "P2"]
    assert sorted(found.select(IDX, "code").rows()) == [
        (1, "customer_mismatch"),
        (2, "parent_rejected"),
        (3, "unknown_invoice"),
        (4, "currency_mismatch"),
    ]


def test_payments_vs_invoices_returns_the_frame_itself_when_all_match() -> None:
    invoices = pl.DataFrame({"invoice_id": ["I1"], "customer_id": ["C1"], "currency": ["EUR"]})
    payments = pl.DataFrame(
        {
            SRC: pl.Series([0, 0], dtype=pl.Int32),
            IDX: pl.Series([0, 1], dtype=pl.UInt32),
            "invoice_id": ["I1", None],
            "customer_id": ["C1", "C1"],
            "currency": ["EUR", "EUR"],
        }
    )
    kept, found = payments_vs_invoices(payments, invoices, pl.Series("key", [], pl.String), input_name=_name)
    assert kept is payments
    assert found.is_empty()
