"""Merging is independent of the instances' row order, ties included."""

from __future__ import annotations

import datetime as dt

import polars as pl

from billcx.plan.merge import merge_messages


def _thank_you(send_date: dt.date, reasons: list[str]) -> dict[str, object]:
    # Two thank-yous of one invoice (two partial payments) moved to the same Monday: every sort key
    # of the merge is equal except the step's own date and its reasons.
    return {
        "customer_id": 7,
        "arm": "treatment",
        "family": "courtesy",
        "currency": "EUR",
        "date": dt.date(2026, 11, 2),
        "send_date": send_date,
        "invoice_id": "INV-1",
        "balance": 500,
        "fee": 0,
        "reasons": reasons,
        "ladder": "thank_you",
        "step": "thank_you",
        "pos": 0,
        "kind": "thank_you",
        "strength": 0,
        "tone": "warm",
        "template": "thank_you",
        "channels": ["email"],
        "offer_type": None,
        "offer_n": None,
        "offer_interval": None,
        "offer_first": None,
        "offer_ext_days": None,
    }


SATURDAY = ["moved:weekend: Saturday", "moved:weekend: Sunday"]
SUNDAY = ["moved:weekend: Sunday"]
SCHEMA = {
    "offer_type": pl.String,
    "offer_n": pl.Int64,
    "offer_interval": pl.Int64,
    "offer_first": pl.Int64,
    "offer_ext_days": pl.Int64,
}


def test_tied_instances_merge_to_the_same_reasons_in_either_order() -> None:
    sat = _thank_you(dt.date(2026, 10, 31), SATURDAY)
    sun = _thank_you(dt.date(2026, 11, 1), SUNDAY)
    one = merge_messages(pl.DataFrame([sat, sun], schema_overrides=SCHEMA))
    other = merge_messages(pl.DataFrame([sun, sat], schema_overrides=SCHEMA))
    assert one.height == 1
    assert one["reasons"].to_list() == [["moved:weekend: Saturday", "moved:weekend: Sunday"]]
    assert one.equals(other)
