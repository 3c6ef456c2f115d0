"""as_known_on: the clean tables as an export at the end of an earlier day would have shown them."""

from __future__ import annotations

import datetime as dt

import polars as pl

from billcx.evaluate import as_known_on
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS
from billcx.store import CleanData

from .builders import at, d

DAY = dt.date(2026, 4, 1)


def _data() -> CleanData:
    customers = CUSTOMERS.conform(pl.DataFrame({
        "customer_id": ["K1", "K2", "K3"], "signup_date": [d(1, 1), d(5, 1), None]}))
    invoices = INVOICES.conform(pl.DataFrame({
        "invoice_id": ["X1", "X2", "X3", "X4", "X5", "X6"], "customer_id": ["K1"] * 6,
        "issue_date": [d(3, 1), d(4, 5), d(2, 1), d(2, 1), d(2, 1), d(1, 1)],
        "due_date": [d(3, 31), d(5, 5), d(3, 1), d(3, 1), d(3, 1), d(2, 1)],
        "amount": [1_000, 900, 500, 800, 700, 600], "currency": ["EUR"] * 6,
        "amount_paid": [1_000, 0, 500, 800, 700, 0],
        "paid_date": [d(4, 10), None, d(3, 15), None, d(5, 1), None],
        "status": ["paid", "open", "paid", "paid", "paid", "written_off"]}))
    payments = PAYMENTS.conform(pl.DataFrame({
        "payment_id": ["Q1", "Q2", "Q3", "Q4"], "customer_id": ["K1"] * 4,
        "invoice_id": ["X1", "X1", "X4", "X4"],
        "paid_at": [at(3, 20), at(4, 10), at(3, 10), at(4, 20)], "amount": [400, 600, 300, 500],
        "currency": ["EUR"] * 4}))
    events = EVENTS.conform(pl.DataFrame({"customer_id": ["K1", "K1"], "channel": ["email", "email"],
                                          "event": ["delivered", "unsubscribed"],
                                          "at": [at(3, 1), at(4, 15)]}))
    return CleanData(customers.lazy(), invoices.lazy(), payments.lazy(), events.lazy())


def test_invoices_as_they_stood_on_the_day() -> None:
    inv = as_known_on(_data(), DAY).invoices.collect().sort("invoice_id")
    got = {r["invoice_id"]: (r["status"], r["amount_paid"], r["paid_date"])
           for r in inv.iter_rows(named=True)}
    assert got == {
        "X1": ("open", 400, None),          # settled 04-10: only the 03-20 payment had arrived
        "X3": ("paid", 500, d(3, 15)),      # settled before the day: unchanged
        "X4": ("open", 300, None),          # marked paid without a date, 300 of 800 received by the day
        "X5": ("open", 0, None),            # settled 05-01 with no payment rows: nothing received yet
        "X6": ("written_off", 0, None),     # undated status kept as exported
    }
    assert inv.columns == INVOICES.names


def test_payments_events_and_customers_after_the_day_are_gone() -> None:
    past = as_known_on(_data(), DAY)
    assert past.payments.collect()["payment_id"].sort().to_list() == ["Q1", "Q3"]
    assert past.events is not None and past.events.collect()["event"].to_list() == ["delivered"]
    assert past.customers.collect()["customer_id"].sort().to_list() == ["K1", "K3"]
    assert past.latest_date() == d(3, 20)
