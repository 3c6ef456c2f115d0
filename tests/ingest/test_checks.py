"""Cross-row helpers on tiny frames: the order pass, the merge/sort fallback and the
payments-vs-invoices join."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billcx.ingest.checks import payments_vs_invoices
from billcx.ingest.readers import IDX
from billcx.ingest.staging import SRC, order_table, scan_order, without

keys = st.lists(st.one_of(st.none(), st.sampled_from(["A", "B", "b", "C10", "C9", ""])), max_size=30)


def _frame(values: list[str | None], src: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "k": pl.Series(values, dtype=pl.String),
            SRC: pl.Series([src] * len(values), dtype=pl.Int32),
            IDX: pl.Series(range(len(values)), dtype=pl.UInt32),
        }
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(keys, min_size=1, max_size=3))
def test_order_table_gives_the_key_order_and_every_repeated_key(
    tmp_path: Path, files: list[list[str | None]]
) -> None:
    parts = [_frame(v, i).lazy() for i, v in enumerate(files)]
    frame, order = order_table(parts, ["k"], key="k", sorted_path=tmp_path / "t.parquet")
    out = frame.collect()
    every = pl.concat([p.collect() for p in parts])
    assert out.sort(SRC, IDX).equals(every.sort(SRC, IDX))  # the same rows
    assert out["k"].to_list() == every.sort("k", SRC, IDX)["k"].to_list()  # in key order, nulls first
    counts = every.drop_nulls("k").group_by("k").len().filter(pl.col("len") > 1)["k"]
    assert sorted(order.repeated.to_list()) == sorted(counts.to_list())


def test_scan_order_compares_across_batches_and_columns() -> None:
    frame = pl.LazyFrame({"a": ["x", "x", "y"], "b": [2, 1, 0]})
    assert not scan_order(frame, ["a", "b"], key=None).ordered
    assert scan_order(frame, ["a"], key="a").ordered
    assert scan_order(frame, ["a"], key="a").repeated.to_list() == ["x"]


def test_order_table_merges_exports_sorted_on_their_own(tmp_path: Path) -> None:
    parts = [_frame(["A", "C", "E"], 0).lazy(), _frame(["B", "C", "D"], 1).lazy()]
    frame, order = order_table(parts, ["k"], key="k", sorted_path=tmp_path / "t.parquet")
    assert frame.collect()["k"].to_list() == ["A", "B", "C", "C", "D", "E"]
    assert order.ordered and order.repeated.to_list() == ["C"]
    assert not (tmp_path / "t.parquet").exists()  # merged while streaming, no sort


def test_without_drops_only_the_rows_named_by_file_and_line() -> None:
    frame = pl.concat([_frame(["A", "B"], 0), _frame(["A", "B"], 1)])
    drop = pl.DataFrame({SRC: pl.Series([1], dtype=pl.Int32), IDX: pl.Series([0], dtype=pl.UInt32)})
    assert without(frame.lazy(), drop).collect().select(SRC, IDX).rows() == [(0, 0), (0, 1), (1, 1)]


def _name(column: str) -> pl.Expr:
    return pl.lit(column)


def test_payments_vs_invoices_rejects_unknown_rejected_and_mismatched() -> None:
    invoices = pl.LazyFrame(
        {"invoice_id": ["I1", "I2"], "customer_id": ["C1", "C2"], "currency": ["EUR", "USD"]}
    )
    payments = pl.LazyFrame(
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
    wrong, found = payments_vs_invoices(payments, invoices, rejected, input_name=_name)
    assert wrong.rows() == [(1, 1), (1, 2), (1, 3), (1, 4)]
    assert without(payments, wrong).collect()["payment_id"].to_list() == ["P1", "P2"]
    assert sorted(found.select(IDX, "code").rows()) == [
        (1, "customer_mismatch"),
        (2, "parent_rejected"),
        (3, "unknown_invoice"),
        (4, "currency_mismatch"),
    ]


def test_payments_vs_invoices_finds_nothing_when_all_match() -> None:
    invoices = pl.LazyFrame({"invoice_id": ["I1"], "customer_id": ["C1"], "currency": ["EUR"]})
    payments = pl.LazyFrame(
        {
            SRC: pl.Series([0, 0], dtype=pl.Int32),
            IDX: pl.Series([0, 1], dtype=pl.UInt32),
            "invoice_id": ["I1", None],
            "customer_id": ["C1", "C1"],
            "currency": ["EUR", "EUR"],
        }
    )
    wrong, found = payments_vs_invoices(payments, invoices, pl.Series("key", [], pl.String), input_name=_name)
    assert wrong.is_empty()
    assert found.is_empty()


def test_payments_vs_invoices_finds_the_same_rows_when_the_join_is_split(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import billcx.ingest.checks as checks

    invoices = pl.LazyFrame(
        {"invoice_id": [f"I{i}" for i in range(50)], "customer_id": ["C1"] * 50, "currency": ["EUR"] * 50}
    )
    payments = pl.LazyFrame(
        {
            SRC: pl.Series([0] * 60, dtype=pl.Int32),
            IDX: pl.Series(range(60), dtype=pl.UInt32),
            "invoice_id": [f"I{i}" for i in range(60)],
            "customer_id": ["C1" if i % 7 else "C2" for i in range(60)],
            "currency": ["EUR" if i % 5 else "USD" for i in range(60)],
        }
    )
    none = pl.Series("key", [], pl.String)
    whole = payments_vs_invoices(payments, invoices, none, input_name=_name)
    monkeypatch.setattr(checks, "JOIN_PART_ROWS", 7)
    split = payments_vs_invoices(payments, invoices, none, input_name=_name)
    assert whole[0].equals(split[0])
    assert whole[1].sort(IDX, "code").equals(split[1].sort(IDX, "code"))
    assert whole[0].height == 10 + 8 + 8  # unknown invoices, other customers, other currencies
