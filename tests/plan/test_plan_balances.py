"""Remaining balances as of a date."""

from __future__ import annotations

import datetime as dt

from plan_scenarios import customer, frames, invoice, payment

from billcx.plan.balances import open_balances

D = dt.date
T = dt.datetime
AS_OF = D(2025, 7, 1)


def _balances(
    invoices: list[dict[str, object]], payments: list[dict[str, object]] | None = None
) -> dict[str, int]:
    data = frames([customer("c1")], invoices, payments)
    out = open_balances(data.invoices, data.payments, as_of=AS_OF)
    return dict(zip(out["invoice_id"], out["balance"], strict=True))


def test_partial_payments_up_to_as_of_only() -> None:
    pays = [
        payment("p1", "c1", "i1", T(2025, 6, 10, 12), 3_000),
        payment("p2", "c1", "i1", T(2025, 7, 1, 23, 59), 1_000),
        payment("p3", "c1", "i1", T(2025, 7, 2, 0, 1), 6_000),
    ]
    assert _balances([invoice("i1", "c1", D(2025, 6, 30))], pays) == {"i1": 6_000}


def test_failed_and_refunded_payments_pay_nothing() -> None:
    pays = [
        payment("p1", "c1", "i1", T(2025, 6, 10, 12), 3_000, status="failed"),
        payment("p2", "c1", "i1", T(2025, 6, 10, 12), 2_000, status="refunded"),
    ]
    assert _balances([invoice("i1", "c1", D(2025, 6, 30))], pays) == {"i1": 10_000}


def test_export_amount_paid_when_payments_never_mention_the_invoice() -> None:
    invoices = [
        invoice("i1", "c1", D(2025, 6, 30), amount_paid=4_000),
        invoice("i2", "c1", D(2025, 6, 30), amount_paid=10_000, status="paid", paid_date=D(2025, 7, 5)),
        invoice("i3", "c1", D(2025, 6, 30), amount_paid=10_000, status="paid", paid_date=D(2025, 6, 5)),
    ]
    # i2 was settled after the as-of date: it still owed everything then.
    assert _balances(invoices) == {"i1": 6_000, "i2": 10_000}


def test_credit_notes_and_unapplied_payments_cover_oldest_due_first() -> None:
    invoices = [
        invoice("old", "c1", D(2025, 6, 1), 5_000),
        invoice("new", "c1", D(2025, 6, 20), 5_000),
        invoice("eur", "c1", D(2025, 6, 1), 5_000, currency="EUR"),
        invoice("cn", "c1", D(2025, 6, 1), -4_000, issue=D(2025, 6, 1)),
    ]
    pays = [payment("u1", "c1", None, T(2025, 6, 15, 12), 2_000)]
    assert _balances(invoices, pays) == {"new": 4_000, "eur": 5_000}


def test_void_future_and_written_off_invoices_are_not_open() -> None:
    invoices = [
        invoice("v", "c1", D(2025, 6, 30), status="void"),
        invoice("w", "c1", D(2025, 6, 30), status="written_off"),
        invoice("f", "c1", D(2025, 8, 30), issue=D(2025, 7, 2)),
        invoice("o", "c1", D(2025, 6, 30)),
    ]
    assert _balances(invoices) == {"o": 10_000}
