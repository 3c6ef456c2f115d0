"""What a replayed schedule would have done, judged against the history that actually followed.

Definitions (docs/evaluate.md repeats them):

* an invoice's *settlement* is its ``paid_date``, or for an invoice marked ``paid`` without one, the
  date of its last successful payment (the same rule as the arms comparison);
* a *reminder* is a treatment message of a collection kind (everything but ``thank_you`` and
  ``feedback``) covering at least one invoice;
* a reminder was *unneeded* when every invoice it covers was settled on or before its due date plus
  the grace days, or before the reminder's local send date: the customer paid anyway;
* a customer *would have paid anyway* when every reminder the replay planned for them was unneeded;
* *projected days to pay* of an invoice open on the replay date and settled later in history: the
  days from issue to ``min(settlement, first reminder + response days)``.  Reminders are assumed
  only ever to pull a payment forward, by the customer's typical response time; a customer who never
  paid stays unpaid.  It is a projection under that stated assumption, not a measurement (only a
  holdout, ``billcx evaluate``, measures).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from billcx.store import CleanData

COURTESY_KINDS = ("thank_you", "feedback")
DEFAULT_RESPONSE_DAYS = 5.0
MIN_RESPONSE_OBSERVATIONS = 20
RESPONSE_WINDOW_DAYS = 30


def settlements(data: CleanData) -> pl.DataFrame:
    """Per invoice of the full history: ``invoice_id, customer_id, issue_date, due_date, settled_on``."""
    last = (data.payments.filter(pl.col("status") == "succeeded", pl.col("invoice_id").is_not_null())
            .group_by("invoice_id").agg(pl.col("paid_at").dt.date().max().alias("_last")))
    return (
        data.invoices.filter(pl.col("amount") > 0)
        .join(last, on="invoice_id", how="left")
        .select("invoice_id", "customer_id", "issue_date", "due_date",
                pl.coalesce(pl.col("paid_date"), pl.when(pl.col("status") == "paid").then(pl.col("_last")))
                .alias("settled_on"))
        .sort("invoice_id")
        .collect()
    )


@dataclass(frozen=True)
class ResponseTime:
    """Typical days from a delivered reminder to the customer's next payment, and where it came from."""

    days: float
    source: str


def response_time(data: CleanData, *, given: float | None) -> ResponseTime:
    """The response time used by projected days to pay.

    Args:
        data: the full history.
        given: a value from the settings; None estimates it from the events export: the median days
            from a ``delivered`` event to the same customer's next successful payment within
            30 days (at least 20 such pairs), else a default of 5 days.

    Returns:
        The days and a sentence saying how they were chosen.
    """
    if given is not None:
        return ResponseTime(float(given), "set in the backtest settings")
    if data.events is None:
        return ResponseTime(DEFAULT_RESPONSE_DAYS, "default (no events export to estimate it from)")
    delivered = (data.events.filter(pl.col("event") == "delivered")
                 .select("customer_id", pl.col("at").alias("t")).sort("t").collect())
    paid = (data.payments.filter(pl.col("status") == "succeeded")
            .select("customer_id", pl.col("paid_at").alias("t"), pl.col("paid_at").alias("paid_at"))
            .sort("t").collect())
    # Both sides are sorted by time above; polars cannot verify that within ``by`` groups.
    pairs = delivered.join_asof(paid, on="t", by="customer_id", strategy="forward",
                                tolerance=dt.timedelta(days=RESPONSE_WINDOW_DAYS),
                                check_sortedness=False).drop_nulls("paid_at")
    if pairs.height < MIN_RESPONSE_OBSERVATIONS:
        return ResponseTime(DEFAULT_RESPONSE_DAYS, f"default ({pairs.height} delivered messages followed by "
                            f"a payment; need {MIN_RESPONSE_OBSERVATIONS} to estimate)")
    lag = ((pairs["paid_at"] - pairs["t"]).dt.total_seconds() / 86_400).median()
    days = round(float(lag), 1) if isinstance(lag, int | float) else DEFAULT_RESPONSE_DAYS
    return ResponseTime(days, f"median delay from {pairs.height:,} delivered messages to the next payment")


def reminders(schedule: pl.DataFrame) -> pl.DataFrame:
    """Treatment reminders exploded per invoice: ``message_key, customer_id, invoice_id, send_date``."""
    return (
        schedule.filter(pl.col("arm") == "treatment", pl.col("channel") != "task",
                        ~pl.col("kind").is_in(COURTESY_KINDS), pl.col("invoice_ids").list.len() > 0)
        .select("message_key", "customer_id", "invoice_ids",
                pl.col("send_at_local").str.slice(0, 10).str.to_date().alias("send_date"))
        .explode("invoice_ids").rename({"invoice_ids": "invoice_id"})
    )


def replay_counts(schedule: pl.DataFrame, settled: pl.DataFrame, *, grace_days: int) -> dict[str, int]:
    """Messages, customers contacted and the unneeded part of one replayed schedule.

    Args:
        schedule: the replayed plan's schedule.
        settled: :func:`settlements` of the full history.
        grace_days: days after the due date still counted as on time.

    Returns:
        ``messages, tasks, customers_contacted, reminders, unneeded_reminders, customers_reminded,
        customers_paid_anyway``.
    """
    treated = schedule.filter(pl.col("arm") == "treatment")
    messages = treated.filter(pl.col("channel") != "task")
    rem = reminders(schedule).join(settled.select("invoice_id", "due_date", "settled_on"), on="invoice_id",
                                   how="left")
    anyway = (pl.col("settled_on").is_not_null()
              & ((pl.col("settled_on") <= pl.col("due_date") + pl.duration(days=grace_days))
                 | (pl.col("settled_on") < pl.col("send_date")))).fill_null(False)
    per_message = rem.group_by("message_key", "customer_id").agg(anyway.all().alias("unneeded"))
    per_customer = per_message.group_by("customer_id").agg(pl.col("unneeded").all())
    return {
        "messages": messages.height,
        "tasks": treated.height - messages.height,
        "customers_contacted": messages["customer_id"].n_unique(),
        "reminders": per_message.height,
        "unneeded_reminders": int(per_message["unneeded"].sum()),
        "customers_reminded": per_customer.height,
        "customers_paid_anyway": int(per_customer["unneeded"].sum()),
    }


def projected_days(open_invoices: pl.DataFrame, first_reminder: pl.DataFrame,
                   response_days: float) -> tuple[float | None, float | None, int]:
    """Actual and projected mean days from issue to payment of invoices open on a replay date.

    Args:
        open_invoices: ``invoice_id, issue_date, settled_on`` of invoices open on the replay date
            (settled later, or never).
        first_reminder: ``invoice_id, first_send`` under one policy.
        response_days: typical days from a reminder to payment.

    Returns:
        (actual mean, projected mean, invoices measured); only invoices settled in history count.
    """
    paid = open_invoices.filter(pl.col("settled_on").is_not_null())
    if paid.is_empty():
        return None, None, 0
    shift = pl.duration(days=1) * response_days
    frame = paid.join(first_reminder, on="invoice_id", how="left").with_columns(
        pl.when(pl.col("first_send").is_not_null())
        .then(pl.min_horizontal(pl.col("settled_on").cast(pl.Datetime("us")),
                                pl.col("first_send").cast(pl.Datetime("us")) + shift))
        .otherwise(pl.col("settled_on").cast(pl.Datetime("us"))).alias("_projected"))
    issue = pl.col("issue_date").cast(pl.Datetime("us"))
    settled = pl.col("settled_on").cast(pl.Datetime("us"))
    days = frame.select(((settled - issue).dt.total_seconds() / 86_400).mean().alias("a"),
                        ((pl.col("_projected") - issue).dt.total_seconds() / 86_400).mean().alias("p"))
    return float(days["a"][0]), float(days["p"][0]), paid.height
