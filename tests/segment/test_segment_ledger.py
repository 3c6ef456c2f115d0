"""Point-in-time ledger: settlement, balances and dates as they stood on the as-of date."""

from __future__ import annotations

import polars as pl
from segment_builders import D, at, clean, cust, inv, pay

from billcx.segment.ledger import build_ledger


def _row(ledger_invoices: pl.DataFrame, invoice_id: str) -> dict:
    return ledger_invoices.filter(pl.col("invoice_id") == invoice_id).row(0, named=True)


def test_payments_settle_on_the_local_date_of_the_customer() -> None:
    # 03:00 UTC on Feb 1 is still Jan 31 in New York: on time there, one day late in UTC.
    invoices = [inv("I1", "NY", D(2024, 1, 1), D(2024, 1, 31), 10_000),
                inv("I2", "UT", D(2024, 1, 1), D(2024, 1, 31), 10_000)]
    payments = [
        pay("P1", "NY", "I1", at(2024, 1, 20, 15), 4_000),
        pay("P2", "NY", "I1", at(2024, 2, 1, 3), 6_000),
        pay("P3", "UT", "I2", at(2024, 1, 20, 15), 4_000),
        pay("P4", "UT", "I2", at(2024, 2, 1, 3), 6_000),
    ]
    ledger = build_ledger(
        clean([cust("NY", tz="America/New_York"), cust("UT")], invoices, payments), D(2024, 3, 1)
    )
    ny, ut = _row(ledger.invoices, "I1"), _row(ledger.invoices, "I2")
    assert (ny["settled_on"], ny["late"], ny["lateness_days"], ny["n_payments"]) == (
        D(2024, 1, 31),
        False,
        0,
        2,
    )
    assert (ut["settled_on"], ut["late"], ut["lateness_days"]) == (D(2024, 2, 1), True, 1)
    local = ledger.payments.filter(pl.col("payment_id") == "P2").row(0, named=True)
    assert (local["paid_on"], local["weekday"], local["hour"]) == (D(2024, 1, 31), 3, 22)


def test_a_paid_date_after_the_as_of_date_is_ignored() -> None:
    invoices = [inv("I1", "A", D(2024, 1, 1), D(2024, 1, 31), 10_000, paid=D(2024, 3, 10))]
    payments = [pay("P1", "A", "I1", at(2024, 2, 10), 2_500), pay("P2", "A", "I1", at(2024, 3, 10), 7_500)]
    ledger = build_ledger(clean([cust("A")], invoices, payments), D(2024, 3, 1))
    row = _row(ledger.invoices, "I1")
    assert row["settled_on"] is None and row["open"] and row["overdue"]
    assert (row["paid"], row["balance"], row["days_overdue"], row["late"]) == (2_500, 7_500, 30, True)
    assert ledger.payments.get_column("payment_id").to_list() == ["P1"]
    # On the settlement day itself the invoice is settled, 39 days late.
    later = _row(build_ledger(clean([cust("A")], invoices, payments), D(2024, 3, 10)).invoices, "I1")
    assert (later["open"], later["lateness_days"], later["balance"]) == (False, 39, 0)


def test_undated_amount_paid_is_trusted_only_on_the_export_date() -> None:
    invoices = [inv("I1", "A", D(2024, 1, 1), D(2024, 1, 31), 10_000, amount_paid=3_000),
                inv("I2", "A", D(2024, 3, 1), D(2024, 3, 31), 1_000)]
    data = clean([cust("A")], invoices)
    assert _row(build_ledger(data, D(2024, 3, 1)).invoices, "I1")["balance"] == 7_000
    assert _row(build_ledger(data, D(2024, 2, 15)).invoices, "I1")["balance"] == 10_000


def test_failed_and_refunded_payments_do_not_settle() -> None:
    invoices = [inv("I1", "A", D(2024, 1, 1), D(2024, 1, 31), 10_000)]
    payments = [pay("P1", "A", "I1", at(2024, 1, 10), 10_000, status="failed"),
                pay("P2", "A", "I1", at(2024, 1, 11), 10_000, status="refunded")]
    row = _row(build_ledger(clean([cust("A")], invoices, payments), D(2024, 2, 10)).invoices, "I1")
    assert (row["open"], row["paid"], row["balance"], row["late"]) == (True, 0, 10_000, True)


def test_void_written_off_and_undated_paid_invoices() -> None:
    invoices = [inv("V", "A", D(2024, 1, 1), D(2024, 1, 31), 500, status="void"),
                inv("W", "A", D(2024, 1, 1), D(2024, 1, 31), 700, status="written_off"),
                inv("U", "A", D(2024, 1, 1), D(2024, 1, 31), 900, status="paid"),
                inv("C", "A", D(2024, 1, 5), D(2024, 1, 5), -300)]
    ledger = build_ledger(clean([cust("A")], invoices), D(2024, 3, 1))
    assert sorted(ledger.invoices.get_column("invoice_id")) == ["C", "U", "W"]
    w, u, c = (_row(ledger.invoices, i) for i in "WUC")
    assert (w["open"], w["balance"], w["resolved"], w["late"]) == (False, 0, True, True)
    assert (u["open"], u["undated"], u["resolved"], u["late"]) == (False, True, False, None)
    assert (c["open"], c["balance"], c["resolved"]) == (True, -300, False)


def test_customers_signed_up_after_the_as_of_date_do_not_exist_yet() -> None:
    customers = [cust("EARLY", signup=D(2023, 1, 1)), cust("LATE", signup=D(2024, 6, 1)), cust("NONE")]
    ledger = build_ledger(clean(customers, []), D(2024, 3, 1))
    assert ledger.customers.get_column("customer_id").to_list() == ["EARLY", "NONE"]
