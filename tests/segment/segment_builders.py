"""Tiny hand-made contract frames for the segment tests (rows as keyword arguments)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from billcx.schema import CUSTOMERS, INVOICES, PAYMENTS, Table
from billcx.store import CleanData

D = dt.date
UTC = dt.UTC


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A UTC instant."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def cust(customer_id: str, *, tz: str | None = "UTC", signup: dt.date | None = None, autopay: bool = False,
         method: str | None = None) -> dict[str, Any]:
    return {"customer_id": customer_id, "timezone": tz, "signup_date": signup, "autopay": autopay,
            "payment_method": method}


def inv(invoice_id: str, customer_id: str, issue: dt.date, due: dt.date, amount: int, *,
        paid: dt.date | None = None, status: str | None = None, currency: str = "USD",
        disputed: bool = False, amount_paid: int = 0) -> dict[str, Any]:
    return {"invoice_id": invoice_id, "customer_id": customer_id, "issue_date": issue, "due_date": due,
            "amount": amount, "currency": currency, "amount_paid": amount if paid else amount_paid,
            "paid_date": paid, "status": status or ("paid" if paid else "open"), "disputed": disputed}


def pay(payment_id: str, customer_id: str, invoice_id: str | None, when: dt.datetime, amount: int, *,
        currency: str = "USD", method: str = "card", status: str = "succeeded") -> dict[str, Any]:
    return {"payment_id": payment_id, "customer_id": customer_id, "invoice_id": invoice_id, "paid_at": when,
            "amount": amount, "currency": currency, "method": method, "status": status}


def _frame(rows: list[dict[str, Any]], table: Table) -> pl.DataFrame:
    if not rows:
        return table.empty()
    schema = {k: v for k, v in table.schema.items() if k in rows[0]}
    return table.conform(pl.DataFrame(rows, schema=schema))


def clean(customers: list[dict[str, Any]], invoices: list[dict[str, Any]],
          payments: list[dict[str, Any]] | None = None) -> CleanData:
    """CleanData from rows (missing optional columns get their contract defaults)."""
    return CleanData(_frame(customers, CUSTOMERS).lazy(), _frame(invoices, INVOICES).lazy(),
                     _frame(payments or [], PAYMENTS).lazy())
