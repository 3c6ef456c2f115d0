"""Point-in-time invoice features: only history strictly before the query date, never outcomes."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from segment_builders import D, clean, cust, inv

from billcx.segment.features import build_history, features, model_matrix, point_in_time_features
from billcx.segment.ledger import build_ledger

AS_OF = D(2024, 6, 30)
B3_PAID = D(2024, 4, 15)


def _invoices(b3_paid: dt.date = B3_PAID) -> list[dict]:
    return [
        inv("B1", "B", D(2024, 1, 1), D(2024, 1, 31), 10_000, paid=D(2024, 2, 10), disputed=True),  # 10 late
        inv("B2", "B", D(2024, 2, 1), D(2024, 3, 2), 20_000, paid=D(2024, 2, 20)),                  # on time
        inv("B3", "B", D(2024, 3, 1), D(2024, 3, 31), 30_000, paid=b3_paid),                         # 15 late
        inv("B4", "B", D(2024, 4, 1), D(2024, 5, 1), 40_000),                                        # open
    ]


def _query(
    t: dt.date, *, customer: str = "B", amount: int = 20_000, data_invoices: list | None = None
) -> dict:
    ledger = build_ledger(clean([cust("B"), cust("N")], data_invoices or _invoices()), AS_OF)
    q = pl.DataFrame({"query_id": ["q"], "customer_id": [customer], "t": [t], "amount": [amount],
                      "terms_days": [30], "disputed": [False]})
    return point_in_time_features(q, build_history(ledger, history=2, grace_days=0)).row(0, named=True)


def test_history_before_the_query_date_only() -> None:
    f = _query(D(2024, 2, 15))
    # Issued before: B1, B2. Settled before: B1 (late 10). Nothing overdue; B2 open, not yet due.
    assert (f["n_prior"], f["n_settled"], f["n_late"], f["first_invoice"]) == (2, 1, 1, False)
    assert (f["n_overdue"], f["n_open_other"], f["mean_days_late"], f["last_days_late"]) == (0, 1, 10.0, 10)
    assert (f["n_disputed"], f["tenure_days"]) == (1, 45)
    assert f["amount_ratio"] == pytest.approx(20_000 / 15_000)


def test_settled_on_the_query_date_is_not_yet_history() -> None:
    assert _query(D(2024, 2, 20))["n_settled"] == 1
    assert _query(D(2024, 2, 21))["n_settled"] == 2


def test_late_history_overdue_and_the_last_n() -> None:
    f = _query(D(2024, 5, 10))
    # Settled before: B1 (10 late), B2 (on time), B3 (15 late); B4 due 05-01 and unsettled: overdue.
    assert (f["n_settled"], f["n_late"], f["n_overdue"], f["n_open_other"]) == (3, 2, 1, 0)
    assert f["mean_days_late"] == pytest.approx(25 / 3)
    assert (f["last_n"], f["last_late"], f["last_days_late"]) == (2, 1, 15)  # last 2: B2 on time, B3 late


def test_an_invoices_own_outcome_never_reaches_its_features() -> None:
    early = _query(D(2024, 3, 1), data_invoices=_invoices(b3_paid=D(2024, 3, 5)))
    late = _query(D(2024, 3, 1), data_invoices=_invoices(b3_paid=D(2024, 6, 20)))
    assert early == late


def test_first_invoice_of_a_new_customer() -> None:
    f = _query(D(2024, 5, 1), customer="N")
    assert (f["first_invoice"], f["n_prior"], f["n_settled"], f["tenure_days"]) == (True, 0, 0, 0)
    assert f["amount_ratio"] is None
    matrix = model_matrix(pl.DataFrame([f]), features(2))
    assert matrix.shape == (1, len(features(2))) and not (matrix != matrix).any()  # no NaN


def test_features_are_words_that_fit_the_row() -> None:
    ledger = build_ledger(clean([cust("B")], _invoices()), AS_OF)
    q = pl.DataFrame({"query_id": ["q"], "customer_id": ["B"], "t": [D(2024, 5, 10)], "amount": [20_000],
                      "terms_days": [30], "disputed": [False]})
    frame = point_in_time_features(q, build_history(ledger, history=2, grace_days=0))
    texts = frame.select([f.high.alias(f.name) for f in features(2)]).row(0, named=True)
    assert texts["late_share_last_2"] == "paid 1 of the last 2 invoices late"
    assert texts["other_overdue"] == "1 other invoice overdue"
    assert texts["mean_days_late"] == "paid 8 days late on average"
