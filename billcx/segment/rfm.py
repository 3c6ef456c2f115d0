"""RFM: recency, frequency and monetary value, scored 1-5 and mapped to named segments.

Definitions (as of the as-of date ``D``):

* **recency** = days from the customer's last payment to ``D`` (whole history);
* **frequency** = number of distinct days with a payment in the window ``(D - window_days, D]``;
* **monetary** = money received in that window, in minor units of the customer's main currency
  (payments in other currencies are not added: there is no exchange rate to add them with).

Scores, and the tie policy (stable under any shuffle of the input rows):

* no activity scores 1: never paid (recency), no payment day in the window (frequency), nothing
  received in the window (monetary);
* the other customers are ranked, better values ranking higher (recency: fewer days is better;
  monetary: only against customers of the same currency); tied customers all get the *average* of
  the ranks they occupy, and a rank ``r`` among ``n`` gives the score ``ceil(5 * (r - 1/2) / n)``
  (the quintile holding the middle of its rank: customers who are all equal score 3).  Identical
  values therefore always share a score, and the score depends only on the set of values, never on
  row order;
* ``fm_score`` = ``(f_score + m_score) / 2`` rounded half up.

The named segment comes from :data:`GRID`, an explicit 5 x 5 table of recency score x FM score in
which every cell holds exactly one segment of :data:`billcx.schema.RFM_SEGMENTS`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from billcx.schema import RFM_SEGMENTS
from billcx.segment.ledger import Ledger

# Rows: recency score 5 (most recent) .. 1; columns: FM score 1 .. 5.
GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"),
    3: ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose"),
    1: ("Lost", "Lost", "At risk", "At risk", "Can't lose"),
}


def segment_of(r_score: int, fm_score: int) -> str:
    """The named segment of one grid cell (both scores 1-5)."""
    return GRID[r_score][fm_score - 1]


def grid_frame() -> pl.DataFrame:
    """The grid as a table: ``r_score, fm_score, rfm_segment`` (25 rows)."""
    rows = [(r, fm, segment_of(r, fm)) for r in range(5, 0, -1) for fm in range(1, 6)]
    return pl.DataFrame(rows, schema={"r_score": pl.Int8, "fm_score": pl.Int8, "rfm_segment": pl.String},
                        orient="row")


assert {s for row in GRID.values() for s in row} == set(RFM_SEGMENTS), "GRID must use every segment"


def quintile_score(value: pl.Expr, *, active: pl.Expr, over: str | None = None) -> pl.Expr:
    """Score 1-5 of ``value`` (higher is better) under the documented tie policy.

    Args:
        value: the value to rank; higher values score higher.
        active: rows that take part in the ranking; the others score 1.
        over: rank separately within groups of this column (e.g. currency).
    """
    rank = pl.when(active).then(value).rank("average")
    n = active.cast(pl.Int64).sum()
    if over is not None:
        rank, n = rank.over(over), n.over(over)
    rank2 = (rank * 2).cast(pl.Int64)  # average ranks are whole or halves: exact in integers
    # ceil(5 * (r - 1/2) / n) in integers: ceil(5 * (2r - 1) / 2n)
    score = (5 * (rank2 - 1) + 2 * n - 1) // (2 * n)
    return pl.when(active).then(score.clip(1, 5)).otherwise(1).cast(pl.Int8)


def rfm_scores(ledger: Ledger, currencies: pl.DataFrame, *, window_days: int) -> pl.DataFrame:
    """RFM values, scores and segment per customer.

    Args:
        ledger: the point-in-time ledger.
        currencies: ``customer_id, currency`` (main currency; null when never invoiced) for every
            customer to score.
        window_days: length of the frequency / monetary window in days.

    Returns:
        ``customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, fm_score,
        rfm_score, rfm_segment`` sorted by ``customer_id``.
    """
    as_of = ledger.as_of
    start = as_of - dt.timedelta(days=window_days)
    receipts = ledger.receipts.lazy().join(currencies.lazy().rename({"currency": "_main"}), on="customer_id")
    in_window = pl.col("paid_on") > start
    same_currency = pl.col("_main").is_null() | (pl.col("currency") == pl.col("_main"))
    agg = receipts.group_by("customer_id").agg(
        pl.col("paid_on").max().alias("_last"),
        pl.col("paid_on").filter(in_window).n_unique().cast(pl.Int64).alias("frequency"),
        pl.col("amount").filter(in_window & same_currency).sum().alias("monetary"),
    )
    values = (
        currencies.lazy().join(agg, on="customer_id", how="left")
        .with_columns(
            (pl.lit(as_of) - pl.col("_last")).dt.total_days().alias("recency_days"),
            pl.col("frequency").fill_null(0),
            pl.col("monetary").fill_null(0),
        ).collect()
    )
    scored = values.with_columns(
        quintile_score(-pl.col("recency_days"), active=pl.col("recency_days").is_not_null()).alias("r_score"),
        quintile_score(pl.col("frequency"), active=pl.col("frequency") > 0).alias("f_score"),
        quintile_score(pl.col("monetary"), active=pl.col("monetary") > 0, over="currency").alias("m_score"),
    ).with_columns(
        ((pl.col("f_score").cast(pl.Int16) + pl.col("m_score") + 1) // 2).cast(pl.Int8).alias("fm_score"),
    )
    grid = grid_frame()
    return (
        scored.join(grid, on=["r_score", "fm_score"], how="left")
        .with_columns(
            (pl.col("r_score").cast(pl.String) + pl.col("f_score").cast(pl.String)
             + pl.col("m_score").cast(pl.String)).alias("rfm_score"),
        )
        .select("customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                "fm_score", "rfm_score", "rfm_segment")
        .sort("customer_id")
    )
