"""Backtest pieces on hand-made frames: replay dates, unneeded reminders, projections, validation."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from billcx.errors import UsageError
from billcx.evaluate import BacktestSettings, backtest, default_replay_window, replay_dates
from billcx.evaluate.replay_metrics import projected_days, replay_counts, response_time
from billcx.plan import default_policy
from billcx.schema import EVENTS, PAYMENTS, SCHEDULE
from billcx.store import CleanData

from .builders import at, d, outcomes


def test_replay_dates_and_default_window() -> None:
    assert replay_dates(d(1, 1), d(3, 1), 30) == (d(1, 1), d(1, 31))
    assert replay_dates(d(1, 1), d(3, 2), 30) == (d(1, 1), d(1, 31), d(3, 2))
    assert replay_dates(d(1, 1), d(1, 1), 7) == (d(1, 1),)
    assert default_replay_window(d(10, 31), 30) == (d(7, 3), d(10, 1))
    with pytest.raises(UsageError, match="--from 2026-02-01 is after --to 2026-01-01"):
        replay_dates(d(2, 1), d(1, 1), 7)


def _schedule() -> pl.DataFrame:
    rows = [  # key, customer, invoices, arm, channel, kind, local send date
        ("m1", "A", ["I1"], "treatment", "email", "due", "2026-03-10"),
        ("m2", "A", ["I2"], "treatment", "email", "overdue", "2026-03-15"),
        ("m3", "B", ["I3"], "treatment", "email", "overdue", "2026-03-15"),
        ("m4", "B", ["I3"], "treatment", "task", "final_notice", "2026-03-16"),
        ("m5", "C", ["I4"], "holdout", "email", "overdue", "2026-03-15"),
        ("m6", "D", [], "treatment", "email", "thank_you", "2026-03-15"),
        ("m7", "E", ["I5", "I6"], "treatment", "sms", "overdue", "2026-03-15"),
    ]
    return SCHEDULE.conform(pl.DataFrame({
        "message_key": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
        "invoice_ids": [r[2] for r in rows], "arm": [r[3] for r in rows], "channel": [r[4] for r in rows],
        "kind": [r[5] for r in rows], "send_at_local": [f"{r[6]}T10:00:00+01:00" for r in rows],
        "step": ["s"] * 7, "ladder": ["l"] * 7, "send_at_utc": [at(3, 10)] * 7, "timezone": ["UTC"] * 7,
        "template": ["t"] * 7, "tone": ["firm"] * 7,
    }, schema_overrides={"invoice_ids": pl.List(pl.String)}))


def _settled() -> pl.DataFrame:
    return pl.DataFrame({
        "invoice_id": ["I1", "I2", "I3", "I4", "I5", "I6"],
        "due_date": [d(3, 10), d(3, 1), d(3, 1), d(3, 1), d(3, 20), d(3, 1)],
        "settled_on": [d(3, 8), d(3, 20), d(3, 12), None, d(3, 19), None]})


def test_reminders_to_customers_who_paid_anyway() -> None:
    counts = replay_counts(_schedule(), _settled(), grace_days=0)
    assert counts == {"messages": 5, "tasks": 1, "customers_contacted": 4, "reminders": 4,
                      "unneeded_reminders": 2,  # m1 (paid before due), m3 (paid before it was sent)
                      "customers_reminded": 3, "customers_paid_anyway": 1}  # B only: A's m2 was needed


def test_grace_days_widen_paid_anyway() -> None:
    counts = replay_counts(_schedule(), _settled(), grace_days=30)
    assert counts["unneeded_reminders"] == 3  # m2: paid 03-20, due 03-01 + 30


def test_projected_days_to_pay_by_hand() -> None:
    open_invoices = pl.DataFrame({
        "invoice_id": ["J1", "J2", "J3", "J4"], "issue_date": [d(1, 1)] * 4,
        "settled_on": [d(2, 10), d(1, 11), None, d(1, 31)]})
    first = pl.DataFrame({"invoice_id": ["J1", "J2", "J3"], "first_send": [d(1, 20), d(1, 20), d(1, 20)]})
    actual, projected, n = projected_days(open_invoices, first, 5.0)
    assert n == 3  # J3 never paid
    assert actual == pytest.approx((40 + 10 + 30) / 3)
    assert projected == pytest.approx((24 + 10 + 30) / 3)  # J1 pulled to 01-25; J2 paid before anyway
    assert projected_days(open_invoices, first, 2.5)[1] == pytest.approx((21.5 + 10 + 30) / 3)
    assert projected_days(open_invoices.head(0), first, 5.0) == (None, None, 0)


def test_response_time_given_estimated_or_default() -> None:
    data = outcomes()
    assert response_time(data, given=3.0).days == 3.0
    no_events = CleanData(data.customers, data.invoices, data.payments, None)
    assert response_time(no_events, given=None).source == "default (no events export to estimate it from)"
    few = response_time(data, given=None)
    assert (few.days, few.source) == (5.0, "default (0 delivered messages followed by a payment; need 20 to "
                                           "estimate)")
    ids = [f"C{i}" for i in range(21)]
    events = EVENTS.conform(pl.DataFrame({"customer_id": ids, "channel": ["email"] * 21,
                                          "event": ["delivered"] * 21, "at": [at(3, 1)] * 21}))
    payments = PAYMENTS.conform(pl.DataFrame({
        "payment_id": ids, "customer_id": ids, "paid_at": [at(3, 4)] * 20 + [at(3, 6)],
        "amount": [1] * 21, "currency": ["USD"] * 21}))
    est = response_time(CleanData(data.customers, data.invoices, payments.lazy(), events.lazy()), given=None)
    assert (est.days, est.source) == (3.0, "median delay from 21 delivered messages to the next payment")


def test_backtest_checks_its_arguments_before_replaying() -> None:
    data, pol = outcomes(), default_policy()
    with pytest.raises(UsageError, match="give at least one policy file"):
        backtest(data, [], start=d(3, 1), end=d(3, 1))
    with pytest.raises(UsageError, match="policy names must differ, found a, a"):
        backtest(data, [("a", pol), ("a", pol)], start=d(3, 1), end=d(3, 1))
    with pytest.raises(UsageError, match=r"--to 2026-04-30 is not before the end of the history \(2026-04"):
        backtest(data, [("a", pol)], start=d(3, 1), end=d(4, 30))
    with pytest.raises(UsageError, match="--every: expected at least 1 day, found 0"):
        BacktestSettings(every_days=0)
    assert dt.date(2026, 4, 30) == data.latest_date()
