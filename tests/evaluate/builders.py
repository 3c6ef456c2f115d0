"""A hand-made plan and its outcomes, with every unit's result worked out by hand.

The plan was made on 2026-03-01; the outcomes export ends on 2026-04-30 (a 60-day window).

=====  ==========  =========  ======================================================================
unit   ladder      arm        what happened (standard ladder unless said)
=====  ==========  =========  ======================================================================
A      standard    treatment  2 messages; I1 due 03-10 paid 03-08: paid, on time, 7 days; unsubscribed
                              on 02-01 (before the window: not an opt-out)
B      standard    holdout    I2 due 02-15, paid_date 03-20, no payment rows: paid late, 19 days,
                              recovered its full 50.00
C      standard    treatment  1 message + 1 task; I3 due 03-05 never paid: late (known), 60 days;
                              unsubscribed 03-12: opted out
C      firm        treatment  same invoice on a ladder without holdout: excluded
D      standard    holdout    I4 due 05-30 unpaid: on time unknown, 60 days; do_not_contact now
E      standard    treatment  I5 paid 02-20, before the plan: nothing open, excluded
F      standard    treatment  I6 paid (status) by payments 03-15 30.00 + 03-25 20.00, due 03-20: late,
                              24 days, recovered 50.00
G      standard    treatment  I99 is not in the outcomes: excluded
H      standard    holdout    a feedback message without invoices: excluded
=====  ==========  =========  ======================================================================
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS, SCHEDULE
from billcx.store import CleanData

AS_OF = dt.date(2026, 3, 1)
END = dt.date(2026, 4, 30)
UTC = dt.UTC


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def at(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


def schedule() -> pl.DataFrame:
    rows = [  # key, customer, invoices, ladder, channel, arm, kind
        ("a1", "A", ["I1"], "standard", "email", "treatment", "pre_due"),
        ("a2", "A", ["I1"], "standard", "sms", "treatment", "due"),
        ("b1", "B", ["I2"], "standard", "email", "holdout", "overdue"),
        ("c1", "C", ["I3"], "standard", "email", "treatment", "overdue"),
        ("c2", "C", ["I3"], "standard", "task", "treatment", "final_notice"),
        ("c3", "C", ["I3"], "firm", "email", "treatment", "overdue"),
        ("d1", "D", ["I4"], "standard", "email", "holdout", "pre_due"),
        ("e1", "E", ["I5"], "standard", "email", "treatment", "overdue"),
        ("f1", "F", ["I6"], "standard", "letter", "treatment", "due"),
        ("g1", "G", ["I99"], "standard", "email", "treatment", "overdue"),
        ("h1", "H", [], "standard", "email", "holdout", "feedback"),
    ]
    return SCHEDULE.conform(pl.DataFrame({
        "message_key": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
        "invoice_ids": [r[2] for r in rows], "currency": ["USD"] * len(rows),
        "amount_due": [1_000] * len(rows),
        "kind": [r[6] for r in rows], "step": [r[0] for r in rows], "ladder": [r[3] for r in rows],
        "channel": [r[4] for r in rows], "send_at_utc": [at(3, 2)] * len(rows),
        "send_at_local": ["2026-03-02T09:00:00+00:00"] * len(rows), "timezone": ["UTC"] * len(rows),
        "template": ["t"] * len(rows), "tone": ["neutral"] * len(rows), "arm": [r[5] for r in rows],
    }, schema_overrides={"invoice_ids": pl.List(pl.String)}))


def outcomes() -> CleanData:
    customers = CUSTOMERS.conform(pl.DataFrame({
        "customer_id": list("ABCDEFGH"), "do_not_contact": [c == "D" for c in "ABCDEFGH"]}))
    invoices = INVOICES.conform(pl.DataFrame({
        "invoice_id": ["I1", "I2", "I3", "I4", "I5", "I6"],
        "customer_id": ["A", "B", "C", "D", "E", "F"],
        "issue_date": [d(2, 8), d(1, 15), d(2, 3), d(4, 30), d(1, 20), d(2, 18)],
        "due_date": [d(3, 10), d(2, 15), d(3, 5), d(5, 30), d(2, 19), d(3, 20)],
        "amount": [10_000, 5_000, 7_000, 2_000, 1_000, 5_000],
        "currency": ["USD"] * 6,
        "amount_paid": [10_000, 5_000, 0, 0, 1_000, 5_000],
        "paid_date": [d(3, 8), d(3, 20), None, None, d(2, 20), None],
        "status": ["paid", "paid", "open", "open", "paid", "paid"]}))
    payments = PAYMENTS.conform(pl.DataFrame({
        "payment_id": ["P1", "P2", "P3", "P4"], "customer_id": ["A", "F", "F", "E"],
        "invoice_id": ["I1", "I6", "I6", "I5"], "paid_at": [at(3, 8), at(3, 15), at(3, 25), at(2, 20)],
        "amount": [10_000, 3_000, 2_000, 1_000], "currency": ["USD"] * 4}))
    events = EVENTS.conform(pl.DataFrame({
        "customer_id": ["A", "C"], "channel": ["email", "email"], "event": ["unsubscribed", "unsubscribed"],
        "at": [at(2, 1), at(3, 12)]}))
    return CleanData(customers.lazy(), invoices.lazy(), payments.lazy(), events.lazy())
