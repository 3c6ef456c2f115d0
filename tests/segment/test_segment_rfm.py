"""RFM: the explicit grid, the tie policy, shuffle stability and hand-computed values."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from segment_builders import D, at, clean, cust, inv, pay

from billcx.schema import RFM_SEGMENTS
from billcx.segment.ledger import Ledger, build_ledger
from billcx.segment.rfm import GRID, grid_frame, quintile_score, rfm_scores, segment_of


def test_grid_maps_every_cell_to_exactly_one_named_segment() -> None:
    grid = grid_frame()
    assert grid.height == 25
    assert grid.select("r_score", "fm_score").unique().height == 25
    assert set(grid.get_column("r_score")) == set(range(1, 6)) == set(grid.get_column("fm_score"))
    assert set(grid.get_column("rfm_segment")) == set(RFM_SEGMENTS)
    for r in range(1, 6):
        for fm in range(1, 6):
            assert segment_of(r, fm) in RFM_SEGMENTS
    assert len(GRID) == 5 and all(len(row) == 5 for row in GRID.values())


@pytest.mark.parametrize(
    ("r", "fm", "segment"),
    [
        (5, 5, "Champions"),
        (5, 1, "New"),
        (4, 1, "Promising"),
        (3, 3, "Need attention"),
        (1, 5, "Can't lose"),
        (1, 1, "Lost"),
        (2, 1, "Hibernating"),
        (2, 4, "At risk"),
        (3, 5, "Loyal"),
    ],
)
def test_named_cells(r: int, fm: int, segment: str) -> None:
    assert segment_of(r, fm) == segment


def _scores(values: list[int | None], groups: list[str] | None = None) -> list[int]:
    frame = pl.DataFrame(
        {"v": values, "g": groups or ["x"] * len(values)}, schema={"v": pl.Int64, "g": pl.String}
    )
    over = "g" if groups else None
    return frame.select(quintile_score(pl.col("v"), active=pl.col("v") > 0, over=over)).to_series().to_list()


def test_scores_by_average_rank_with_ties_shared() -> None:
    assert _scores([1, 2, 3, 4, 5]) == [1, 2, 3, 4, 5]
    assert _scores(list(range(1, 11))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # Everybody equal: the average rank (n+1)/2 gives the middle score.
    assert _scores([7, 7, 7, 7]) == [3, 3, 3, 3]
    # Ties share a score; no activity (0, null) scores 1 and is not ranked.
    assert _scores([0, None, 4, 4, 9]) == [1, 1, 2, 2, 5]
    assert _scores([3]) == [3]


def test_monetary_is_ranked_within_its_currency() -> None:
    assert _scores([100, 200, 10_000, 20_000], ["USD", "USD", "JPY", "JPY"]) == [2, 4, 2, 4]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=6)), min_size=1, max_size=40),
       st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_row_order(values: list[int | None], rnd) -> None:  # noqa: ANN001
    order = list(range(len(values)))
    rnd.shuffle(order)
    shuffled = _scores([values[i] for i in order])
    original = _scores(values)
    assert [original[i] for i in order] == shuffled
    # Equal values always share a score.
    by_value: dict[int | None, set[int]] = {}
    for v, s in zip(values, original, strict=True):
        by_value.setdefault(v, set()).add(s)
    assert all(len(s) == 1 for s in by_value.values())


def _ledger() -> Ledger:
    customers = [cust("A"), cust("B"), cust("C"), cust("D")]
    invoices = [inv(f"{c}{i}", c, D(2024, m, 1), D(2024, m, 28), amount, paid=D(2024, m, 20))
                for c, months, amount in (("A", (1, 2, 3, 4, 5, 6), 10_000), ("B", (1, 2), 50_000),
                                          ("C", (5, 6), 1_000))
                for i, m in enumerate(months)]
    payments = [pay("x", "A", None, at(2024, 6, 25), 500)]  # unapplied, same day as nothing else
    return build_ledger(clean(customers, invoices, payments), D(2024, 6, 30))


def test_rfm_values_by_hand() -> None:
    ledger = _ledger()
    currencies = pl.DataFrame({"customer_id": ["A", "B", "C", "D"], "currency": ["USD", "USD", "USD", None]})
    out = rfm_scores(ledger, currencies, window_days=120)  # window: after 2024-03-02 up to 2024-06-30
    rows = {r["customer_id"]: r for r in out.iter_rows(named=True)}
    # A: paid on 03-20, 04-20, 05-20, 06-20 (4 x 10,000) and an unapplied 500 on 06-25.
    assert (rows["A"]["recency_days"], rows["A"]["frequency"], rows["A"]["monetary"]) == (5, 5, 40_500)
    assert (rows["B"]["recency_days"], rows["B"]["frequency"], rows["B"]["monetary"]) == (131, 0, 0)
    assert (rows["C"]["recency_days"], rows["C"]["frequency"], rows["C"]["monetary"]) == (10, 2, 2_000)
    assert rows["D"]["recency_days"] is None
    # Recency ranks among the 3 who paid: B 1, C 2, A 3 -> ceil(5 (r - 1/2) / 3) = 1, 3, 5.
    assert [rows[c]["r_score"] for c in "ABCD"] == [5, 1, 3, 1]
    # Two customers active in the window: ranks 1, 2 of 2 -> 2, 4.
    assert [rows[c]["f_score"] for c in "ABCD"] == [4, 1, 2, 1]
    assert [rows[c]["m_score"] for c in "ABCD"] == [4, 1, 2, 1]
    assert [rows[c]["fm_score"] for c in "ABCD"] == [4, 1, 2, 1]
    assert [rows[c]["rfm_segment"] for c in "ABCD"] == ["Champions", "Lost", "About to sleep", "Lost"]
    assert rows["A"]["rfm_score"] == "544"


def test_rfm_is_stable_when_input_rows_are_shuffled() -> None:
    ledger = _ledger()
    currencies = pl.DataFrame({"customer_id": ["A", "B", "C", "D"], "currency": ["USD"] * 4})
    expected = rfm_scores(ledger, currencies, window_days=120)
    for seed in range(3):
        shuffled = Ledger(
            ledger.as_of,
            ledger.export_date,
            ledger.customers.sample(fraction=1.0, shuffle=True, seed=seed),
            ledger.invoices.sample(fraction=1.0, shuffle=True, seed=seed),
            ledger.payments,
            ledger.receipts.sample(fraction=1.0, shuffle=True, seed=seed),
        )
        got = rfm_scores(shuffled, currencies.sample(fraction=1.0, shuffle=True, seed=seed), window_days=120)
        assert got.equals(expected)
    assert dt.date(2024, 6, 30) == ledger.as_of
