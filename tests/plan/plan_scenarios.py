"""Tiny hand-made frames and policies for the plan tests."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import polars as pl

from billcx.plan import Policy, plan
from billcx.plan.policy import policy_from_mapping
from billcx.plan.result import PlanResult
from billcx.store import CleanData

UTC = dt.UTC
AS_OF = dt.date(2025, 7, 1)  # a Tuesday


def customer(cid: str, **kw: Any) -> dict[str, Any]:
    """A contactable US customer by email (override anything)."""
    row: dict[str, Any] = {
        "customer_id": cid,
        "name": f"Name {cid}",
        "email": f"{cid}@example.com",
        "phone": None,
        "country": "US",
        "region": None,
        "timezone": "America/New_York",
        "consent_email": True,
        "consent_sms": False,
        "consent_letter": True,
        "consent_push": False,
        "do_not_contact": False,
        "address_line1": None,
        "postal_code": None,
        "city": None,
        "preferred_channel": None,
        "autopay": False,
    }
    row.update(kw)
    return row


def invoice(
    iid: str,
    cid: str,
    due: dt.date,
    amount: int = 10_000,
    *,
    currency: str = "USD",
    issue: dt.date | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """An open invoice issued 30 days before it is due."""
    row: dict[str, Any] = {
        "invoice_id": iid,
        "customer_id": cid,
        "issue_date": issue or due - dt.timedelta(days=30),
        "due_date": due,
        "amount": amount,
        "currency": currency,
        "amount_paid": 0,
        "paid_date": None,
        "status": "open",
        "disputed": False,
        "hold_until": None,
        "payment_method": None,
    }
    row.update(kw)
    return row


def payment(
    pid: str,
    cid: str,
    iid: str | None,
    at: dt.datetime,
    amount: int,
    *,
    currency: str = "USD",
    status: str = "succeeded",
) -> dict[str, Any]:
    """A payment attempt (``at`` in UTC)."""
    return {
        "payment_id": pid,
        "customer_id": cid,
        "invoice_id": iid,
        "paid_at": at.replace(tzinfo=UTC),
        "amount": amount,
        "currency": currency,
        "status": status,
    }


def segment(
    cid: str,
    treatment: str = "standard",
    *,
    risk: str = "medium",
    value: str = "medium",
    late: float | None = None,
) -> dict[str, Any]:
    """A segment row."""
    return {
        "customer_id": cid,
        "rfm_segment": None,
        "value_tier": value,
        "risk_tier": risk,
        "late_probability": late,
        "treatment": treatment,
    }


_CUSTOMER_SCHEMA = {
    "name": pl.String,
    "email": pl.String,
    "phone": pl.String,
    "region": pl.String,
    "address_line1": pl.String,
    "postal_code": pl.String,
    "city": pl.String,
    "preferred_channel": pl.String,
    "timezone": pl.String,
    "country": pl.String,
}
_INVOICE_SCHEMA = {"paid_date": pl.Date, "hold_until": pl.Date, "payment_method": pl.String}


def frames(
    customers: list[dict[str, Any]],
    invoices: list[dict[str, Any]],
    payments: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> CleanData:
    """CleanData from row dicts."""
    cust = pl.DataFrame(customers, schema_overrides=_CUSTOMER_SCHEMA)
    inv = pl.DataFrame(invoices, schema_overrides=_INVOICE_SCHEMA)
    pay = (
        pl.DataFrame(payments, schema_overrides={"invoice_id": pl.String})
        if payments
        else pl.DataFrame(
            schema={
                "payment_id": pl.String,
                "customer_id": pl.String,
                "invoice_id": pl.String,
                "paid_at": pl.Datetime("us", "UTC"),
                "amount": pl.Int64,
                "currency": pl.String,
                "status": pl.String,
            }
        )
    )
    ev = pl.DataFrame(events) if events else None
    return CleanData.from_frames(cust, inv, pay, ev)


def segments(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Segments frame from row dicts."""
    return pl.DataFrame(rows, schema_overrides={"rfm_segment": pl.String, "late_probability": pl.Float64})


BASE_POLICY: dict[str, Any] = {
    "stale_after_days": 100_000,
    "send": {"default_hour": 10, "spread_minutes": 0},
    "quiet_hours": {"default": "us_tcpa"},
    "caps": {"max_messages": 5, "window_days": 7},
    "rules": [{"ladder": "basic"}],
    "ladders": {
        "basic": {
            "steps": [
                {
                    "name": "pre_due",
                    "kind": "pre_due",
                    "offset": -3,
                    "channels": ["email", "sms"],
                    "tone": "friendly",
                },
                {"name": "overdue_1", "kind": "overdue", "offset": 3, "channels": ["email", "sms"]},
                {
                    "name": "final",
                    "kind": "final_notice",
                    "offset": 10,
                    "channels": ["email", "letter"],
                    "tone": "firm",
                },
            ]
        }
    },
}


def policy(**changes: Any) -> Policy:
    """BASE_POLICY with top-level keys replaced (nested dicts are merged one level deep)."""
    data = copy.deepcopy(BASE_POLICY)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict) and key != "ladders":
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return policy_from_mapping(data)


def run(
    data: CleanData,
    segs: list[dict[str, Any]] | pl.DataFrame | None = None,
    *,
    pol: Policy | None = None,
    as_of: dt.date = AS_OF,
    **kw: Any,
) -> PlanResult:
    """Plan with the test policy by default."""
    seg = segs if isinstance(segs, pl.DataFrame) else segments(segs or [])
    return plan(data, seg, as_of=as_of, policy=pol if pol is not None else policy(), **kw)


def rows(result: PlanResult, **match: Any) -> list[dict[str, Any]]:
    """Schedule rows as dicts, optionally filtered by equal columns."""
    out = result.schedule.to_dicts()
    return [r for r in out if all(r[k] == v for k, v in match.items())]


def local_date(row: dict[str, Any]) -> dt.date:
    """Local date of a schedule row."""
    return dt.date.fromisoformat(row["send_at_local"][:10])


def codes(row: dict[str, Any]) -> list[str]:
    """Reason codes of a schedule row."""
    return [r.split(": ", 1)[0] for r in row["reasons"]]
