"""Event messages: a thank-you after a payment, a notice after a failed charge.

A trigger's nominal date is the event's local date (in the customer's zone) plus ``delay_days``.
Like ladder steps, a trigger dated before the as-of date is only sent late when a sent log shows it
was missed (see :mod:`billcx.plan.catchup`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from billcx.plan.policy import Policy


def trigger_instances(
    payments_local: pl.DataFrame,
    balances: pl.DataFrame,
    customers: pl.DataFrame,
    steps: pl.DataFrame,
    policy: Policy,
    *,
    earliest: dt.date,
    window_end: dt.date,
) -> pl.DataFrame:
    """Step instances of the policy's triggers.

    Args:
        payments_local: payments up to the as-of date with ``local_date`` (customer zone).
        balances: open invoices with their remaining ``balance``.
        customers: ``customer_id, treatment`` and the calendar/zone columns the plan carries.
        steps: the step table (triggers have ``anchor = "event"``).
        policy: the policy (its ``triggers``).
        earliest: the oldest nominal date worth considering (catch-up limit).
        window_end: first local date after the planning window.

    Returns:
        Instances with the columns of ladder instances: ``customer_id, invoice_id, currency, balance,
        due_date, issue_date, planned_date, trigger`` plus the step columns.
    """
    parts: list[pl.DataFrame] = []
    ok = payments_local.filter(pl.col("status") == "succeeded")
    for trig in policy.triggers:
        if trig.on == "payment":
            events = ok.select("customer_id", "invoice_id", "currency", "local_date")
        else:
            failed = payments_local.filter(pl.col("status") == "failed", pl.col("invoice_id").is_not_null())
            later_ok = ok.filter(pl.col("invoice_id").is_not_null()).select(
                "invoice_id", _ok_at=pl.col("paid_at")
            )
            # A failed charge followed by a succeeded payment of the same invoice needs no notice.
            recovered = (
                failed.join(later_ok, on="invoice_id", how="inner")
                .filter(pl.col("_ok_at") > pl.col("paid_at"))
                .select("payment_id")
                .unique()
            )
            events = (
                failed.join(recovered, on="payment_id", how="anti")
                .join(balances.select("invoice_id"), on="invoice_id", how="semi")
                .select("customer_id", "invoice_id", "currency", "local_date")
            )
        events = events.with_columns(planned_date=pl.col("local_date") + pl.duration(days=trig.delay_days))
        events = events.filter(pl.col("planned_date") >= earliest, pl.col("planned_date") < window_end)
        if trig.treatments:
            events = events.join(
                customers.filter(pl.col("treatment").is_in(list(trig.treatments))).select("customer_id"),
                on="customer_id",
                how="semi",
            )
        parts.append(
            events.select("customer_id", "invoice_id", "currency", "planned_date")
            .unique()
            .with_columns(ladder=pl.lit(trig.name))
        )
    schema: dict[str, Any] = {
        "customer_id": customers.schema["customer_id"],
        "invoice_id": pl.String,
        "currency": pl.String,
        "planned_date": pl.Date,
        "ladder": pl.String,
    }
    ev = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    ev = ev.join(
        balances.select("invoice_id", "balance", "due_date", "issue_date"), on="invoice_id", how="left"
    ).with_columns(pl.col("balance").fill_null(0))
    return ev.join(steps.filter(pl.col("anchor") == "event"), on="ladder", how="inner").with_columns(
        trigger=pl.lit(True)
    )
