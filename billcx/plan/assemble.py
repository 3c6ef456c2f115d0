"""The last stage of a plan: instants, reasons, keys, the schedule and skipped tables, the summary."""

from __future__ import annotations

import datetime as dt

import polars as pl

from billcx.plan.customers import CustomerIndex
from billcx.plan.frames import attach
from billcx.plan.keys import message_keys
from billcx.plan.offers import fee_reason
from billcx.plan.policy import Policy
from billcx.plan.reasons import concat_reasons
from billcx.plan.result import PlanResult, PlanSummary
from billcx.plan.tables import SKIPPED
from billcx.plan.tz import localize
from billcx.schema import SCHEDULE

_EMPTY_LIST = pl.lit([], dtype=pl.List(pl.String))


def skipped_from_steps(frame: pl.DataFrame) -> pl.DataFrame:
    """Skipped rows about single invoices (``invoice_id`` column) in the ``SKIPPED`` shape."""
    return SKIPPED.conform(
        frame.with_columns(
            invoice_ids=pl.when(pl.col("invoice_id").is_null())
            .then(_EMPTY_LIST)
            .otherwise(pl.concat_list(pl.col("invoice_id")))
        )
    )


def finish(
    msgs: pl.DataFrame,
    *,
    skipped_steps: list[pl.DataFrame],
    skipped_msgs: list[pl.DataFrame],
    index: CustomerIndex,
    policy: Policy,
    as_of: dt.date,
    window_end: dt.date,
    for_date: dt.date | None,
    open_invoices: int,
    unsegmented: int,
    stale: bool,
    warnings: list[str],
) -> PlanResult:
    """Turn planned messages into the schedule, gather skipped rows and count.

    Args:
        msgs: messages with ``msg_id, date, minute, tz``, the coded ``customer_id``, its text ``cid``
            and the schedule's content columns.
        skipped_steps: skipped rows per invoice (``invoice_id`` column), coded customer ids.
        skipped_msgs: skipped rows per message (``invoice_ids`` column), coded customer ids.
        index: customer codes, to put the text ids back.
        policy: the policy (DST rule, holdout shares).
        as_of: the as-of date.
        window_end: first local date after the window.
        for_date: keep only this local date's rows, if given.
        open_invoices: count for the summary.
        unsegmented: count for the summary.
        stale: the stale-data guard was overridden.
        warnings: warnings for the summary.

    Returns:
        The plan result.
    """
    loc = localize(
        msgs.select("msg_id", "date", "minute", "tz"),
        date="date",
        minute="minute",
        tz="tz",
        gap=policy.send.dst_gap,
        fold=policy.send.dst_fold,
    )
    msgs = attach(msgs, loc.select("msg_id", "send_at_utc", "send_at_local", "dst_reason"), on="msg_id")
    currencies = msgs["currency"].drop_nulls().unique().to_list()
    holdout = pl.format(
        "holdout: the customer is in the holdout arm of {}; recorded, not sent", pl.col("ladder")
    )
    reasons = concat_reasons(
        msgs,
        [
            "reasons",
            (pl.col("late_fee") > 0, fee_reason(currencies)),
            "offer_reason",
            "time_reasons",
            "dst_reason",
            "tz_reason",
            (pl.col("arm") == "holdout", holdout),
        ],
    )
    msgs = msgs.with_columns(reasons)
    msgs = msgs.drop("customer_id").rename({"cid": "customer_id"})
    msgs = msgs.with_columns(message_key=message_keys(msgs))
    if msgs["message_key"].is_duplicated().any():
        raise RuntimeError("plan produced two messages with the same key (a bug in billcx)")
    if for_date is not None:
        msgs = msgs.filter(pl.col("date") == for_date)
    schedule = SCHEDULE.conform(msgs.rename({"tz": "timezone"})).sort(
        "send_at_utc", "customer_id", "message_key"
    )
    skipped = pl.concat(
        [
            *(skipped_from_steps(index.decode(f)) for f in skipped_steps),
            *(SKIPPED.conform(index.decode(f)) for f in skipped_msgs),
        ],
        how="vertical_relaxed",
    )
    if for_date is not None:
        skipped = skipped.filter(pl.col("date").is_null() | (pl.col("date") == for_date))
    skipped = (
        skipped.with_columns(_ids=pl.col("invoice_ids").list.join(","))
        .sort("customer_id", "date", "code", "ladder", "step", "_ids", "reason", nulls_last=True)
        .drop("_ids")
    )
    summary = _summary(
        schedule,
        skipped,
        as_of=as_of,
        window_end=window_end,
        for_date=for_date,
        open_invoices=open_invoices,
        unsegmented=unsegmented,
        stale=stale,
        warnings=warnings,
    )
    return PlanResult(schedule=schedule, skipped=skipped, summary=summary)


def _summary(
    schedule: pl.DataFrame,
    skipped: pl.DataFrame,
    *,
    as_of: dt.date,
    window_end: dt.date,
    for_date: dt.date | None,
    open_invoices: int,
    unsegmented: int,
    stale: bool,
    warnings: list[str],
) -> PlanSummary:
    treat = schedule.filter(pl.col("arm") == "treatment")
    # Grouped on the ISO date text (it sorts like the date); only the few groups are parsed.
    by_day = (
        treat.group_by(day=pl.col("send_at_local").str.slice(0, 10), channel="channel", kind="kind")
        .agg(n=pl.len())
        .with_columns(pl.col("day").str.to_date("%Y-%m-%d"))
        .sort("day", "channel", "kind")
    )
    by_code = skipped.group_by("code").agg(n=pl.len()).sort("code")
    return PlanSummary(
        as_of=as_of,
        window_start=for_date if for_date is not None else as_of,
        window_end=window_end - dt.timedelta(days=1),
        for_date=for_date,
        customers=schedule["customer_id"].n_unique(),
        messages=treat.filter(pl.col("channel") != "task").height,
        holdout=schedule.height - treat.height,
        tasks=treat.filter(pl.col("channel") == "task").height,
        open_invoices=open_invoices,
        by_day=tuple((r[0], r[1], r[2], int(r[3])) for r in by_day.iter_rows()),
        skipped_by_code=tuple((r[0], int(r[1])) for r in by_code.iter_rows()),
        unsegmented_customers=unsegmented,
        stale_forced=stale,
        warnings=tuple(warnings),
    )
