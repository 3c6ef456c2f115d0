"""Hand-made customers, invoices and schedule rows for the render tests (import from here)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl

from billcx.schema import SCHEDULE
from billcx.store import CleanData

SEND = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC)


def customers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "name": [
                "Jean <script>alert(1)</script> Dupont",
                "Ana García",
                "Max Müller",
                None,
                "Yuki Tanaka",
            ],
            "email": [
                "jean@example.fr",
                "ana@example.es",
                "max@example.de",
                "anon@example.com",
                "yuki@example.jp",
            ],
            "phone": ["+33612345678", "+34612345678", "+4915112345678", "+15555550123", "+819012345678"],
            "locale": ["fr-CA", "es-ES", "de-DE", "en-US", "ja-JP"],
            "country": ["CA", "ES", "DE", "US", "JP"],
            "address_line1": [
                "1 rue Sainte-Catherine",
                "Calle Mayor 1",
                "Hauptstraße 5",
                "1 Main St",
                "1-1 Chiyoda",
            ],
            "postal_code": ["H2X 1Y4", "28013", "10115", "10001", "100-0001"],
            "city": ["Montréal", "Madrid", "Berlin", "New York", "Tokyo"],
        }
    )


def invoices() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "invoice_id": ["F-1", "F-2", "E-1", "D-1", "D-2", "U-1", "J-1"],
            "customer_id": ["C1", "C1", "C2", "C3", "C3", "C4", "C5"],
            "issue_date": [dt.date(2026, 9, 1)] * 7,
            "due_date": [
                dt.date(2026, 10, 1),
                dt.date(2026, 10, 15),
                dt.date(2026, 11, 10),
                dt.date(2026, 10, 1),
                dt.date(2026, 10, 5),
                dt.date(2026, 10, 20),
                dt.date(2026, 11, 3),
            ],
            "amount": [100_000, 23_456, 5_000, 12_000, -2_000, 9_999, 50_000],
            "currency": ["CAD", "CAD", "EUR", "EUR", "EUR", "USD", "JPY"],
            "amount_paid": [0, 0, 1_000, 0, 0, 0, 0],
        }
    )


def clean_data() -> CleanData:
    payments = pl.DataFrame(
        schema={
            "payment_id": pl.String,
            "customer_id": pl.String,
            "paid_at": pl.Datetime("us", "UTC"),
            "amount": pl.Int64,
            "currency": pl.String,
        }
    )
    return CleanData.from_frames(customers(), invoices(), payments)


def row(
    key: str,
    customer: str,
    invoice_ids: list[str],
    currency: str | None,
    amount: int,
    kind: str,
    channel: str,
    *,
    tone: str = "neutral",
    offer: dict[str, Any] | None = None,
    arm: str = "treatment",
    template: str | None = None,
    late_fee: int = 0,
) -> dict[str, Any]:
    return {
        "message_key": key,
        "customer_id": customer,
        "invoice_ids": invoice_ids,
        "currency": currency,
        "amount_due": amount,
        "kind": kind,
        "step": "s1",
        "ladder": "standard",
        "channel": channel,
        "send_at_utc": SEND,
        "send_at_local": "2026-11-03T10:30:00+01:00",
        "timezone": "Europe/Paris",
        "template": template or kind,
        "tone": tone,
        "offer": json.dumps(offer) if offer else None,
        "arm": arm,
        "reasons": ["test:fixture"],
        "late_fee": late_fee,
    }


def schedule(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return SCHEDULE.conform(pl.DataFrame(rows, infer_schema_length=None))


def golden_rows() -> list[dict[str, Any]]:
    plan = {
        "type": "payment_plan",
        "instalments": [
            {"due": "2026-11-15", "amount": 41_152},
            {"due": "2026-12-15", "amount": 41_152},
            {"due": "2027-01-15", "amount": 41_152},
        ],
    }
    return [
        row(
            "m-fr-overdue-email",
            "C1",
            ["F-1", "F-2"],
            "CAD",
            125_956,
            "overdue",
            "email",
            tone="firm",
            late_fee=2_500,
        ),
        row(
            "m-fr-plan-email", "C1", ["F-1", "F-2"], "CAD", 123_456, "payment_plan_offer", "email", offer=plan
        ),
        row("m-es-predue-sms", "C2", ["E-1"], "EUR", 4_000, "pre_due", "sms", tone="friendly"),
        row("m-de-overdue-sms", "C3", ["D-1", "D-2"], "EUR", 10_000, "overdue", "sms"),
        row("m-de-final-letter", "C3", ["D-1", "D-2"], "EUR", 10_000, "final_notice", "letter", tone="firm"),
        row(
            "m-en-ext-push",
            "C4",
            ["U-1"],
            "USD",
            9_999,
            "extension_offer",
            "push",
            offer={"type": "extension", "new_due": "2026-11-30"},
        ),
        row("m-en-thanks-email", "C4", ["U-1"], "USD", 0, "thank_you", "email", tone="friendly"),
        row("m-ja-due-email", "C5", ["J-1"], "JPY", 50_000, "due", "email"),
        row("m-task", "C3", ["D-1", "D-2"], "EUR", 10_000, "final_notice", "task"),
        row("m-holdout", "C2", ["E-1"], "EUR", 4_000, "pre_due", "email", arm="holdout"),
    ]
