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
from billcx.segment.population import Bounds, CurrencyBounds, RfmCuts

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


def rfm_values(ledger: Ledger, currencies: pl.DataFrame, *, window_days: int) -> pl.DataFrame:
    """RFM values per customer (before scoring).

    Args:
        ledger: the point-in-time ledger.
        currencies: ``customer_id, currency`` (main currency; null when never invoiced) for every
            customer to score.
        window_days: length of the frequency / monetary window in days.

    Returns:
        ``customer_id, currency, recency_days, frequency, monetary`` in the order of ``currencies``.
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
    return (
        currencies.lazy().join(agg, on="customer_id", how="left", maintain_order="left")
        .select(
            "customer_id", "currency",
            (pl.lit(as_of) - pl.col("_last")).dt.total_days().alias("recency_days"),
            pl.col("frequency").fill_null(0),
            pl.col("monetary").fill_null(0),
        ).collect()
    )


_SCORES = (2, 3, 4, 5)


def _population_scores(values: pl.DataFrame) -> pl.DataFrame:
    """Scores of a whole population by rank (the definition the cut points are taken from)."""
    return values.with_columns(
        quintile_score(-pl.col("recency_days"), active=pl.col("recency_days").is_not_null()).alias("r_score"),
        quintile_score(pl.col("frequency"), active=pl.col("frequency") > 0).alias("f_score"),
        quintile_score(pl.col("monetary"), active=pl.col("monetary") > 0, over="currency").alias("m_score"),
    )


def _bounds(frame: pl.DataFrame, value: str, score: str, *, lowest: bool) -> Bounds:
    """Per score s = 2..5: the least (``lowest``) or greatest value scoring at least s."""
    out: list[int | None] = []
    for s in _SCORES:
        reached = frame.filter(pl.col(score) >= s).get_column(value)
        bound = reached.min() if lowest else reached.max()
        out.append(None if bound is None else int(bound))  # type: ignore[arg-type]
    return (out[0], out[1], out[2], out[3])


def fit_rfm_cuts(values: pl.DataFrame) -> RfmCuts:
    """RFM cut points of a population (:func:`rfm_values` of every customer).

    Scores follow the tie policy of the module docstring; the cut points are the least values
    (greatest recency) reaching each score, so :func:`score_rfm` reproduces every member's score.
    """
    scored = _population_scores(values)
    active_r = scored.filter(pl.col("recency_days").is_not_null())
    active_f = scored.filter(pl.col("frequency") > 0)
    active_m = scored.filter(pl.col("monetary") > 0)
    monetary = tuple(
        CurrencyBounds(key[0], _bounds(part, "monetary", "m_score", lowest=True))  # type: ignore[arg-type]
        for key, part in sorted(active_m.partition_by("currency", as_dict=True).items(),
                                key=lambda kv: (kv[0][0] is not None, kv[0][0] or ""))
    )
    return RfmCuts(recency_max_days=_bounds(active_r, "recency_days", "r_score", lowest=False),
                   frequency_min=_bounds(active_f, "frequency", "f_score", lowest=True),
                   monetary_min=monetary)


def _score_from(reached: list[pl.Expr], active: pl.Expr) -> pl.Expr:
    total = pl.lit(1, dtype=pl.Int32)
    for condition in reached:
        total = total + condition.fill_null(False).cast(pl.Int32)
    return pl.when(active).then(total).otherwise(1).cast(pl.Int8)


# A customer whose currency the population has no monetary ranking for scores as if ranked alone.
ALONE_SCORE = 3


def score_rfm(values: pl.DataFrame, cuts: RfmCuts) -> pl.DataFrame:
    """RFM scores and segment of each customer of ``values`` against a population's cut points.

    Args:
        values: :func:`rfm_values` of the customers to score.
        cuts: the population's cut points (:func:`fit_rfm_cuts`).

    Returns:
        ``customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, fm_score,
        rfm_score, rfm_segment`` sorted by ``customer_id``.
    """
    money_schema = {"currency": pl.String, **{f"_m{s}": pl.Int64 for s in _SCORES}}
    money = pl.DataFrame([(c.currency, *c.bounds) for c in cuts.monetary_min], schema=money_schema,
                         orient="row").with_columns(pl.lit(True).alias("_ranked"))
    recency = [pl.col("recency_days") <= b for b in cuts.recency_max_days if b is not None]
    frequency = [pl.col("frequency") >= b for b in cuts.frequency_min if b is not None]
    monetary = [pl.col("monetary") >= pl.col(f"_m{s}") for s in _SCORES]
    m_active = pl.col("monetary") > 0
    scored = (
        values.join(money, on="currency", how="left", nulls_equal=True, maintain_order="left")
        .with_columns(
            _score_from(recency, pl.col("recency_days").is_not_null()).alias("r_score"),
            _score_from(frequency, pl.col("frequency") > 0).alias("f_score"),
            pl.when(m_active & pl.col("_ranked").is_null()).then(pl.lit(ALONE_SCORE, dtype=pl.Int8))
            .otherwise(_score_from(monetary, m_active)).alias("m_score"),
        )
        .with_columns(
            ((pl.col("f_score").cast(pl.Int16) + pl.col("m_score") + 1) // 2).cast(pl.Int8).alias("fm_score"),
        )
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


def rfm_scores(ledger: Ledger, currencies: pl.DataFrame, *, window_days: int) -> pl.DataFrame:
    """RFM values, scores and segment of every customer, ranked among themselves.

    Args:
        ledger: the point-in-time ledger.
        currencies: ``customer_id, currency`` (main currency; null when never invoiced) for every
            customer to score.
        window_days: length of the frequency / monetary window in days.

    Returns:
        As :func:`score_rfm`.
    """
    values = rfm_values(ledger, currencies, window_days=window_days)
    return score_rfm(values, fit_rfm_cuts(values))
