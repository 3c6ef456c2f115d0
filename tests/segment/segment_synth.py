"""A small seeded ledger generator for the segment tests (independent of billcx.sample).

Customers pay monthly invoices with their own habits: a late-payment propensity that drifts with
their recent lateness (so history predicts the next invoice), a usual local payment hour, partial
payments, failed attempts, credit notes and void invoices.  Vectorised numpy: no loop per customer.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from billcx.schema import CUSTOMERS, INVOICES, PAYMENTS
from billcx.store import CleanData

ZONES = ("UTC", "America/New_York", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney")


def synth_clean(customers: int = 200, *, seed: int = 5, end: dt.date = dt.date(2024, 12, 31),
                months: int = 18) -> CleanData:
    """A ledger of ``customers`` customers with up to ``months`` monthly invoices ending at ``end``."""
    rng = np.random.default_rng(seed)
    n = customers
    cid = np.array([f"K{i:05d}" for i in range(n)])
    zone = rng.integers(0, len(ZONES), n)
    autopay = rng.random(n) < 0.2
    propensity = np.where(autopay, 0.05, rng.beta(1.2, 2.5, n))
    start_month = rng.integers(0, months - 2, n)
    terms = rng.choice([14, 30, 45], n)
    base_amount = np.exp(rng.normal(9.5, 0.8, n)).astype(np.int64)
    currency = np.where(rng.random(n) < 0.7, "USD", "EUR")
    first_day = dt.date(end.year, end.month, 1)
    month0 = first_day.year * 12 + first_day.month - 1 - (months - 1)

    # One row per (customer, month) from the customer's start month.
    counts = months - start_month
    cust = np.repeat(np.arange(n), counts)
    k = np.arange(cust.size) - np.repeat(np.cumsum(counts) - counts, counts)
    m = month0 + start_month[cust] + k
    issue = np.array([dt.date(int(v) // 12, int(v) % 12 + 1, 1) for v in np.unique(m)], dtype="datetime64[D]")
    issue_day = issue[np.searchsorted(np.unique(m), m)] + rng.integers(0, 28, cust.size)
    due = issue_day + terms[cust]

    # Lateness drifts: each customer's chance follows their own last outcome.
    late = np.zeros(cust.size, dtype=bool)
    u = rng.random(cust.size)
    first_of_customer = k == 0
    for step in range(months):  # one pass per month, vectorised over customers
        rows = np.flatnonzero(k == step)
        prev = np.where(first_of_customer[rows], propensity[cust[rows]], 0.0)
        prev = np.where(
            ~first_of_customer[rows], np.where(late[rows - 1], 0.75, 0.5 * propensity[cust[rows]]), prev
        )
        late[rows] = u[rows] < prev
    delay = np.where(late, 1 + rng.geometric(0.08, cust.size), -rng.integers(0, 10, cust.size))
    settled = np.maximum(due + delay, issue_day)
    end64 = np.datetime64(end)
    is_settled = settled <= end64
    amount = (base_amount[cust] * rng.uniform(0.8, 1.2, cust.size)).astype(np.int64)
    credit = rng.random(cust.size) < 0.02
    amount = np.where(credit, -amount // 4, amount)
    void = rng.random(cust.size) < 0.01
    is_settled &= ~credit
    status = np.where(void, "void", np.where(is_settled, "paid", "open"))
    invoice_id = np.array([f"INV{i:07d}" for i in range(cust.size)])

    # Payments: settled invoices paid at a habitual local hour, some in two parts; a few failures.
    hour = rng.integers(7, 22, n)
    paid_rows = np.flatnonzero(is_settled & ~void)
    split = rng.random(paid_rows.size) < 0.15
    part1 = np.where(split, amount[paid_rows] * 2 // 5, 0)
    rows = np.concatenate([paid_rows, paid_rows[split]])
    pay_amount = np.concatenate([amount[paid_rows] - part1, part1[split]])
    pay_day = np.concatenate(
        [settled[paid_rows], np.maximum(settled[paid_rows[split]] - 7, issue_day[paid_rows[split]])]
    )
    fail = rng.random(paid_rows.size) < 0.05
    rows = np.concatenate([rows, paid_rows[fail]])
    pay_amount = np.concatenate([pay_amount, amount[paid_rows[fail]]])
    pay_day = np.concatenate([pay_day, settled[paid_rows[fail]] - 1])
    pay_status = np.array(["succeeded"] * (paid_rows.size + int(split.sum())) + ["failed"] * int(fail.sum()))
    local = pay_day.astype("datetime64[m]") + (hour[cust[rows]] * 60 + rng.integers(0, 60, rows.size))
    payments = pl.DataFrame(
        {
            "payment_id": [f"PAY{i:07d}" for i in range(rows.size)],
            "customer_id": cid[cust[rows]],
            "invoice_id": invoice_id[rows],
            "local": local.astype("datetime64[us]"),
            "zone": np.array(ZONES)[zone[cust[rows]]],
            "amount": pay_amount,
            "currency": currency[cust[rows]],
            "method": np.where(autopay[cust[rows]], "direct_debit", "card"),
            "status": pay_status,
        }
    )
    payments = pl.concat([
        part.with_columns(pl.col("local").dt.replace_time_zone(z, ambiguous="earliest", non_existent="null")
                          .dt.convert_time_zone("UTC").alias("paid_at"))
        for (z,), part in sorted(payments.partition_by("zone", as_dict=True).items())
    ]).filter(pl.col("paid_at").is_not_null() & (pl.col("paid_at").dt.date() <= end))
    paid_before_end = payments.filter(pl.col("status") == "succeeded").group_by("invoice_id").agg(
        pl.col("amount").sum().alias("amount_paid"))

    invoices = (
        pl.DataFrame(
            {
                "invoice_id": invoice_id,
                "customer_id": cid[cust],
                "issue_date": issue_day.astype("datetime64[D]"),
                "due_date": due.astype("datetime64[D]"),
                "amount": amount,
                "currency": currency[cust],
                "paid_date": np.where(is_settled, settled, np.datetime64("NaT")).astype("datetime64[D]"),
                "status": status,
                "disputed": rng.random(cust.size) < 0.03,
            }
        )
        .join(paid_before_end, on="invoice_id", how="left")
        .with_columns(
            pl.when(pl.col("status") == "paid")
            .then(pl.col("amount"))
            .otherwise(pl.col("amount_paid").fill_null(0))
            .alias("amount_paid")
        )
    )
    customers_frame = pl.DataFrame({
        "customer_id": cid, "timezone": np.array(ZONES)[zone], "autopay": autopay,
        "signup_date": (np.array([dt.date(int(v) // 12, int(v) % 12 + 1, 1) for v in month0 + start_month],
                                 dtype="datetime64[D]") - rng.integers(0, 60, n)),
    })
    return CleanData(CUSTOMERS.conform(customers_frame).lazy(), INVOICES.conform(invoices).lazy(),
                     PAYMENTS.conform(payments).lazy())
