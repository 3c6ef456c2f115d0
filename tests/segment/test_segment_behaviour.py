"""Payment behaviour features on a hand-made customer, with hand-computed expectations."""

from __future__ import annotations

import polars as pl
import pytest
from segment_builders import D, at, clean, cust, inv, pay

from billcx.segment.behaviour import aging_bucket, behaviour_features
from billcx.segment.ledger import build_ledger
from billcx.segment.settings import BehaviourSettings

AS_OF = D(2024, 6, 30)


def _data() -> tuple[list, list, list]:
    customers = [cust("P", tz="Europe/Paris", signup=D(2023, 12, 1), method="card"),
                 cust("M", signup=D(2024, 6, 1)), cust("Q")]
    invoices = [
        inv("A1", "P", D(2024, 1, 1), D(2024, 1, 31), 10_000, paid=D(2024, 1, 31)),  # on time
        inv("A2", "P", D(2024, 2, 1), D(2024, 2, 29), 10_000, paid=D(2024, 3, 5), disputed=True),  # 5 late
        inv("A3", "P", D(2024, 3, 1), D(2024, 3, 31), 10_000),  # 10 late, 2 payments
        inv("A4", "P", D(2024, 4, 1), D(2024, 4, 30), 10_000, paid=D(2024, 4, 25)),  # early
        inv("A5", "P", D(2024, 5, 1), D(2024, 5, 31), 10_000),  # open, 30 overdue
        inv("A6", "P", D(2024, 6, 25), D(2024, 7, 25), 4_000),  # open, not due
        inv("M1", "M", D(2024, 6, 1), D(2024, 6, 10), 5_000, currency="USD"),
        inv("M2", "M", D(2024, 6, 2), D(2024, 7, 2), 7_000, currency="EUR"),
        inv("M3", "M", D(2024, 6, 3), D(2024, 6, 3), -2_000, currency="GBP"),
    ]
    payments = [
        # Wednesdays 09:30 and 09:15 in Paris (UTC+2), a Monday 17:00: usual weekday 3, hour 9.
        pay("p1", "P", "A3", at(2024, 4, 3, 7, 30), 4_000, method="bank_transfer"),
        pay("p2", "P", "A3", at(2024, 4, 10, 7, 15), 6_000, method="bank_transfer"),
        pay("p3", "P", "A5", at(2024, 5, 20, 15, 0), 1_000, method="card"),
        pay("p4", "P", "A5", at(2024, 6, 1, 15, 0), 9_000, method="card", status="failed"),
    ]
    return customers, invoices, payments


@pytest.fixture(scope="module")
def features() -> pl.DataFrame:
    customers, invoices, payments = _data()
    ledger = build_ledger(clean(customers, invoices, payments), AS_OF)
    return behaviour_features(ledger, BehaviourSettings(trend_days=62), window_days=365)


def _get(frame: pl.DataFrame, customer: str) -> dict:
    return frame.filter(pl.col("customer_id") == customer).row(0, named=True)


def test_punctuality(features: pl.DataFrame) -> None:
    p = _get(features, "P")
    # Lateness by due date: A1 0, A2 5, A3 10, A4 0, A5 30 (still open); A6 not yet due.
    assert (p["invoices"], p["resolved_invoices"], p["on_time_invoices"]) == (6, 5, 2)
    assert p["on_time_rate"] == pytest.approx(0.4)
    assert p["mean_days_late"] == pytest.approx(9.0)
    assert p["worst_days_late"] == 30
    # Due in the last 62 days (after 04-29): A4 0 and A5 30; before: A1 0, A2 5, A3 10.
    assert p["lateness_trend_days"] == pytest.approx((0 + 30) / 2 - (0 + 5 + 10) / 3)


def test_payments_and_habits(features: pl.DataFrame) -> None:
    p = _get(features, "P")
    # Money arrived on A1..A5; A3 took two payments and A5 is part-paid: 2 of 5.
    assert p["partial_payment_ratio"] == pytest.approx(0.4)
    assert (p["failed_payments"], p["disputed_invoices"]) == (1, 1)
    assert (p["usual_payment_method"], p["usual_payment_weekday"], p["usual_payment_hour"]) == (
        "bank_transfer",
        3,
        9,
    )
    assert p["last_payment_date"] == D(2024, 5, 20)
    q = _get(features, "Q")
    assert q["usual_payment_method"] is None and q["invoices"] == 0 and q["aging_bucket"] == "current"


def test_balances_and_aging(features: pl.DataFrame) -> None:
    p = _get(features, "P")
    assert (p["currency"], p["open_balance"], p["overdue_balance"]) == ("USD", 9_000 + 4_000, 9_000)
    assert (p["open_invoices"], p["overdue_invoices"], p["oldest_overdue_days"]) == (2, 1, 30)
    assert (p["aging_bucket"], p["balances"], p["currencies_owed"]) == (
        "1-30", ["USD 130.00 open, 90.00 overdue"], 1)
    m = _get(features, "M")
    # Main currency = that of the latest invoice, credit notes aside; every currency owed is listed.
    assert (m["currency"], m["open_balance"], m["currencies_owed"]) == ("EUR", 7_000, 2)
    assert m["balances"] == ["EUR 70.00 open, 0.00 overdue", "GBP -20.00 open, 0.00 overdue",
                             "USD 50.00 open, 50.00 overdue"]


def test_tenure_and_cohort(features: pl.DataFrame) -> None:
    p = _get(features, "P")
    assert (p["tenure_days"], p["cohort"], p["first_invoice_date"]) == (212, "2024-01", D(2024, 1, 1))
    assert p["days_since_activity"] == 5  # last invoice 2024-06-25


@pytest.mark.parametrize(("days", "bucket"), [(None, "current"), (0, "current"), (1, "1-30"), (30, "1-30"),
                                              (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"),
                                              (91, "90+")])
def test_aging_bucket_edges(days: int | None, bucket: str) -> None:
    frame = pl.DataFrame({"d": [days]}, schema={"d": pl.Int64})
    assert frame.select(aging_bucket(pl.col("d"))).item() == bucket
