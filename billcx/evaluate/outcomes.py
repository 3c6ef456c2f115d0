"""What happened to each experiment unit after the plan: the outcomes the arms are compared on.

The unit is a customer on a ladder (the plan assigns arms per customer and ladder).  Its invoices
are every invoice its schedule rows cover; only those still open at the as-of date count.  From a
later clean export (the *outcomes*), each invoice gets a settlement date:

* the invoice's ``paid_date`` when present;
* otherwise, for an invoice marked ``paid``, the date of its last successful payment;
* otherwise it is unsettled.

Within the outcome window ``(as_of, window_end]``, per unit:

* ``paid``: every open invoice was settled in the window;
* ``on_time``: every open invoice was settled on or before its due date plus the grace days; null
  while that is not yet known (an unsettled invoice not yet past due + grace at the window's end);
* ``days_to_pay``: days from the as-of date to the last settlement, or the whole window when not
  everything was paid (a restricted mean: unpaid units are not dropped, which would flatter the arm
  that converts slow payers);
* ``opted_out``: the customer unsubscribed in the window or is marked ``do_not_contact`` in the
  outcomes (nobody in the schedule was, when it was planned);
* ``messages``: treatment messages planned for the unit (tasks are not messages; holdout: 0).

Money recovered is per unit and currency: successful payments to the unit's invoices dated in the
window; an invoice without any payment rows that settled in the window counts its full amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from billcx.schema import SCHEDULE
from billcx.store import CleanData

UNIT = ["customer_id", "ladder"]


@dataclass(frozen=True)
class UnitOutcomes:
    """Outcomes per unit, and what could not be measured.

    Attributes:
        units: one row per measured unit: ``customer_id, ladder, arm, messages, invoices, paid,
            on_time, days_to_pay, opted_out``, sorted by customer and ladder.
        money: one row per unit and currency: ``customer_id, ladder, arm, messages, currency,
            recovered`` (minor units), sorted.
        excluded: units left out, by reason.
        mixed_arms: units whose rows were in both arms (taken as treatment).
    """

    units: pl.DataFrame
    money: pl.DataFrame
    excluded: dict[str, int]
    mixed_arms: int


def _schedule_units(schedule: pl.DataFrame) -> pl.DataFrame:
    sched = SCHEDULE.conform(schedule)
    treated = pl.col("arm") == "treatment"
    return (
        sched.group_by(UNIT)
        .agg(
            pl.when(treated.any()).then(pl.lit("treatment")).otherwise(pl.lit("holdout")).alias("arm"),
            (pl.col("arm").n_unique() > 1).alias("mixed"),
            (treated & (pl.col("channel") != "task")).sum().cast(pl.Int64).alias("messages"),
            pl.col("invoice_ids").list.explode(keep_nulls=False, empty_as_null=False).drop_nulls().unique()
            .sort().alias("invoice_ids"),
        )
        .sort(UNIT)
    )


def _settlements(outcomes: CleanData, *, as_of: dt.date, window_end: dt.date) -> pl.DataFrame:
    """Per invoice: due date, currency, settlement date (within the window or null) and recovered."""
    pays = (outcomes.payments.filter(pl.col("status") == "succeeded", pl.col("invoice_id").is_not_null())
            .select("invoice_id", pl.col("paid_at").dt.date().alias("day"), "amount"))
    in_window = (pl.col("day") > as_of) & (pl.col("day") <= window_end)
    per_invoice = pays.group_by("invoice_id").agg(
        pl.col("day").max().alias("_last_payment"),
        pl.col("amount").filter(in_window).sum().alias("_paid_in_window"),
    )
    settle = pl.coalesce(pl.col("paid_date"),
                         pl.when(pl.col("status") == "paid").then(pl.col("_last_payment")))
    return (
        outcomes.invoices.select("invoice_id", "due_date", "amount", "currency", "paid_date", "status")
        .join(per_invoice, on="invoice_id", how="left")
        .with_columns(settle.alias("settled_on"))
        .with_columns(
            (pl.col("settled_on").is_not_null() & (pl.col("settled_on") <= as_of)).alias("settled_before"),
            pl.when(pl.col("settled_on") <= window_end).then(pl.col("settled_on")).alias("settled_on"),
        )
        .with_columns(
            pl.when(pl.col("_last_payment").is_not_null()).then(pl.col("_paid_in_window"))
            .when(pl.col("settled_on").is_not_null() & ~pl.col("settled_before")).then(pl.col("amount"))
            .otherwise(pl.lit(0, dtype=pl.Int64)).alias("recovered"))
        .select("invoice_id", "due_date", "currency", "settled_on", "settled_before", "recovered")
        .collect()
    )


def _opt_outs(outcomes: CleanData, *, as_of: dt.date, window_end: dt.date) -> pl.DataFrame:
    dnc = outcomes.customers.filter(pl.col("do_not_contact")).select("customer_id")
    frames = [dnc]
    if outcomes.events is not None:
        frames.append(outcomes.events.filter(
            pl.col("event") == "unsubscribed", pl.col("at").dt.date() > as_of,
            pl.col("at").dt.date() <= window_end).select("customer_id"))
    return pl.concat(frames).unique().with_columns(pl.lit(True).alias("opted_out")).collect()


def unit_outcomes(schedule: pl.DataFrame, outcomes: CleanData, *, as_of: dt.date, window_end: dt.date,
                  grace_days: int) -> UnitOutcomes:
    """Measure every unit of ``schedule`` against the outcomes export.

    Args:
        schedule: the plan's schedule (``billcx.schema.SCHEDULE``), both arms.
        outcomes: a clean export taken after the as-of date.
        as_of: the date the plan was made on.
        window_end: last date whose outcomes count.
        grace_days: days after the due date still counted as on time.

    Returns:
        The per-unit outcomes, per-unit money and the exclusion counts.
    """
    units = _schedule_units(schedule)
    window = (window_end - as_of).days
    grace = dt.timedelta(days=grace_days)
    inv = (units.select(*UNIT, "invoice_ids").explode("invoice_ids").rename({"invoice_ids": "invoice_id"})
           .filter(pl.col("invoice_id").is_not_null())
           .join(_settlements(outcomes, as_of=as_of, window_end=window_end), on="invoice_id", how="left"))
    found = inv.filter(pl.col("due_date").is_not_null())
    open_inv = found.filter(~pl.col("settled_before")).with_columns(
        pl.col("settled_on").is_not_null().alias("settled"),
        (pl.col("settled_on") <= pl.col("due_date") + grace).fill_null(False).alias("_on_time"),
        (pl.col("settled_on").is_not_null() | (pl.col("due_date") + grace < window_end)).alias("_known"))
    per_unit = open_inv.group_by(UNIT).agg(
        pl.len().cast(pl.Int64).alias("invoices"),
        pl.col("settled").all().alias("paid"),
        pl.when((pl.col("_known") & ~pl.col("_on_time")).any()).then(pl.lit(False))
        .when(pl.col("_known").all()).then(pl.lit(True)).otherwise(pl.lit(None, dtype=pl.Boolean))
        .alias("on_time"),
        pl.col("settled_on").max().alias("_last"),
    )
    measured = (
        units.join(per_unit, on=UNIT, how="inner")
        .join(_opt_outs(outcomes, as_of=as_of, window_end=window_end), on="customer_id", how="left")
        .with_columns(
            pl.when(pl.col("paid")).then((pl.col("_last") - pl.lit(as_of)).dt.total_days())
            .otherwise(pl.lit(window)).cast(pl.Int64).alias("days_to_pay"),
            pl.col("opted_out").fill_null(False))
        .select(*UNIT, "arm", "messages", "invoices", "paid", "on_time", "days_to_pay", "opted_out")
        .sort(UNIT)
    )
    money = (
        open_inv.group_by(*UNIT, "currency").agg(pl.col("recovered").sum().alias("recovered"))
        .join(measured.select(*UNIT, "arm", "messages"), on=UNIT, how="inner")
        .select(*UNIT, "arm", "messages", "currency", "recovered")
        .sort(*UNIT, "currency")
    )
    no_invoices = units.filter(pl.col("invoice_ids").list.len() == 0).height
    with_invoices = units.height - no_invoices
    unknown = with_invoices - found.select(UNIT).unique().height
    excluded = {
        "no invoices in the schedule rows": no_invoices,
        "invoices not in the outcomes export": unknown,
        "nothing open at the as-of date": with_invoices - unknown - measured.height,
    }
    return UnitOutcomes(units=measured, money=money, excluded={k: v for k, v in excluded.items() if v},
                        mixed_arms=int(units["mixed"].sum()))
