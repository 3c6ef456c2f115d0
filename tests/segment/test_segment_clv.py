"""Repeat-purchase summary, BG/NBD, Gamma-Gamma and CLV (CDNOW checks when ../shared is present)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from segment_builders import D, clean, cust, inv

from billcx.segment import (
    FitError,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
    segment,
    summary_data,
)
from billcx.segment.bgnbd import BgNbdParams, expected_purchases_new_customer
from billcx.segment.gamma_gamma import GammaGammaParams

TRANSACTIONS = pl.DataFrame({
    "id": ["a", "a", "a", "a", "a", "b"],
    "when": [dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 1, 18), dt.datetime(2024, 1, 8),
             dt.datetime(2024, 1, 15), dt.datetime(2024, 2, 1), dt.datetime(2024, 1, 20)],
    "spend": [10.0, 5.0, 20.0, 30.0, 99.0, 7.0],
})


def test_summary_by_day_merges_same_day_and_drops_later_purchases() -> None:
    out = summary_data(TRANSACTIONS, "id", "when", "spend", observation_end=D(2024, 1, 31))
    assert out.to_dicts() == [
        {"id": "a", "frequency": 2, "recency": 14.0, "T": 30.0, "monetary_value": 25.0},
        {"id": "b", "frequency": 0, "recency": 0.0, "T": 11.0, "monetary_value": 0.0},
    ]


def test_summary_by_week_and_month_and_multiplier() -> None:
    # As in lifetimes, the whole period of the observation end counts: Thursday 02-01 is in the
    # week of Wednesday 01-31 (weeks start on Monday 01-01).
    weeks = summary_data(TRANSACTIONS, "id", "when", observation_end=D(2024, 1, 31), freq="W")
    assert weeks.select("frequency", "recency", "T").rows() == [(3, 4.0, 4.0), (0, 0.0, 2.0)]
    months = summary_data(TRANSACTIONS, "id", "when", observation_end=D(2024, 2, 29), freq="M")
    assert months.select("frequency", "recency", "T").rows() == [(1, 1.0, 1.0), (0, 0.0, 1.0)]
    scaled = summary_data(TRANSACTIONS, "id", "when", observation_end=D(2024, 1, 31), freq_multiplier=7)
    assert scaled.get_column("T").to_list() == pytest.approx([30 / 7, 11 / 7])
    with pytest.raises(ValueError, match="freq must be one of D, W, M"):
        summary_data(TRANSACTIONS, "id", "when", observation_end=D(2024, 1, 31), freq="Q")


def test_bgnbd_identities() -> None:
    params = BgNbdParams(r=0.24, alpha=4.4, a=0.79, b=2.43)
    # No history yet (x = t_x = T = 0) is a customer just acquired.
    assert expected_purchases(params, 52.0, [0], [0], [0])[0] == pytest.approx(
        expected_purchases_new_customer(params, 52.0))
    assert probability_alive(params, [0, 3, 3], [0, 30, 5], [40, 40, 40]).tolist()[0] == 1.0
    alive = probability_alive(params, [3, 3], [30, 5], [40, 40])
    assert 0 < alive[1] < alive[0] < 1  # a long silence lowers P(alive)
    with pytest.raises(ValueError, match="recency 0 when frequency is 0"):
        probability_alive(params, [0], [3], [40])


def test_fit_failures_are_clear_errors() -> None:
    with pytest.raises(FitError, match="needs customers with repeat purchases"):
        fit_bgnbd([0, 0, 0], [0, 0, 0], [5, 6, 7])
    with pytest.raises(FitError, match="at least 3 repeat customers"):
        fit_gamma_gamma([1, 0], [10.0, 0.0])
    with pytest.raises(FitError, match="q = 0.9 <= 1"):
        expected_spend(GammaGammaParams(p=2.0, q=0.9, v=1.0), [1], [10.0])


def test_clv_sums_discounted_monthly_increments() -> None:
    clv = customer_lifetime_value(lambda t: np.array([0.5 * t]), np.array([100.0]), months=2,
                                  discount_rate=0.1, periods_per_month=4.0)
    assert clv[0] == pytest.approx(200 / 1.1 + 200 / 1.21)


def test_lifetime_falls_back_with_a_warning_and_no_nan() -> None:
    invoices = [inv("A1", "A", D(2024, 1, 1), D(2024, 1, 31), 1_000, paid=D(2024, 1, 20)),
                inv("A2", "A", D(2024, 2, 1), D(2024, 2, 28), 3_000, paid=D(2024, 2, 20)),
                inv("B1", "B", D(2024, 2, 10), D(2024, 3, 10), 5_000)]
    result = segment(clean([cust("A"), cust("B"), cust("C")], invoices), as_of=D(2024, 3, 31))
    assert any(
        w.startswith("BG/NBD: 2 customers, 1 with repeat invoices; need 30 and 20") for w in result.warnings
    )
    assert any(w.startswith("Gamma-Gamma not usable for USD") for w in result.warnings)
    rows = {r["customer_id"]: r for r in result.customers.iter_rows(named=True)}
    assert rows["A"]["clv_method"] == "empirical+mean_amount"
    assert rows["A"]["expected_amount"] == 2_000
    # A: 1 repeat invoice in 90 days of age; its usual gap is 31 days and the last invoice was 59
    # days ago: one usual gap plus 28 days -> P(alive) = exp(-28 / 31).
    assert rows["A"]["expected_invoices"] == pytest.approx(52.14 / (90 / 7), abs=1e-3)
    assert rows["A"]["p_alive"] == pytest.approx(np.exp(-28 / 31), abs=1e-6)
    assert rows["C"]["clv"] is None and rows["C"]["clv_method"] is None  # never invoiced: no model applies
    for column in ("p_alive", "expected_invoices", "clv"):
        values = result.customers.get_column(column).drop_nulls()
        assert values.is_finite().all() if values.dtype.is_float() else True


def _cdnow(shared: Path) -> pl.DataFrame:
    lines = pl.read_csv(shared / "cdnow" / "CDNOW_sample.txt", has_header=False, new_columns=["line"],
                        separator="\x01")
    parts = lines.select(pl.col("line").str.extract_all(r"\S+").alias("p"))
    return parts.select(pl.col("p").list.get(1).cast(pl.Int64).alias("id"),
                        pl.col("p").list.get(2).str.to_date("%Y%m%d").alias("date"),
                        pl.col("p").list.get(4).cast(pl.Float64).alias("dollars"))


@pytest.mark.shared
def test_cdnow_summary_is_reproduced_exactly(shared_datasets: Path) -> None:
    ours = summary_data(_cdnow(shared_datasets), "id", "date", "dollars", observation_end=D(1997, 9, 30),
                        freq="D", freq_multiplier=7)
    published = pl.read_csv(shared_datasets / "cdnow" / "cdnow_customers_summary.csv")
    joined = published.join(ours, left_on="ID", right_on="id", how="full", suffix="_ours")
    assert joined.height == published.height == ours.height == 2357
    assert (joined["frequency"] == joined["frequency_ours"]).all()
    assert (joined["recency"] == joined["recency_ours"].round(2)).all()
    assert (joined["T"] == joined["T_ours"].round(2)).all()
    with_spend = pl.read_csv(shared_datasets / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    spend = with_spend.join(ours, left_on="ID", right_on="id")
    # The published file rounds half up; ours is the exact mean: they differ by at most half a cent.
    assert ((spend["zbar"] - spend["monetary_value"]).abs() <= 0.005 + 1e-9).all()


@pytest.mark.shared
def test_cdnow_bgnbd_matches_fader_hardie_lee(shared_datasets: Path) -> None:
    summary = pl.read_csv(shared_datasets / "cdnow" / "cdnow_customers_summary.csv")
    fit = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    # Fader, Hardie and Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    p = fit.params
    assert (p.r, p.alpha, p.a, p.b) == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=2e-3)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)


@pytest.mark.shared
def test_cdnow_gamma_gamma_matches_the_published_fit(shared_datasets: Path) -> None:
    data = pl.read_csv(shared_datasets / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    fit = fit_gamma_gamma(data["x"], data["zbar"])
    # Fader and Hardie's Gamma-Gamma note and the lifetimes docs: p = 6.25, q = 3.74, v = 15.44,
    # fitted on 946 customers.
    assert fit.subjects == 946
    assert (fit.params.p, fit.params.q, fit.params.v) == pytest.approx((6.25, 3.74, 15.44), abs=0.015)
