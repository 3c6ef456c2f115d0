"""``plan``: open invoices and segments in, a dated and explained schedule out.

The order of the stages matters and is documented in docs/plan.md:

balances -> exclusions (disputes, no ladder, minimum balance) -> step expansion -> sent log, holds
and catch-up -> weekend/holiday moves -> experiment arms -> late fees -> merge per customer-day ->
do-not-contact and channel choice -> frequency cap -> offers -> send time and time zone -> keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import polars as pl

from billcx.errors import ConfigError, UsageError
from billcx.plan import assemble
from billcx.plan.calendar import build_calendars, next_sendable
from billcx.plan.caps import apply_caps
from billcx.plan.catchup import resolve_timing
from billcx.plan.channels import choose_channels, contactability
from billcx.plan.customers import check_stale
from billcx.plan.experiment import assign_arms
from billcx.plan.frames import attach
from billcx.plan.inputs import (
    Inputs,
    invoices_with_ladders,
    payment_history,
    payments_local,
    prepare,
    sent_local,
    unsegmented,
    with_holds,
)
from billcx.plan.ladders import expand_steps, step_tables
from billcx.plan.lint import lint_policy
from billcx.plan.merge import merge_messages
from billcx.plan.offers import build_offers, late_fees
from billcx.plan.policy import Policy, default_policy
from billcx.plan.reasons import concat_reasons
from billcx.plan.result import PlanResult
from billcx.plan.sendtime import payment_histograms, send_minutes
from billcx.plan.triggers import trigger_instances
from billcx.shard import Shard, shard_ids
from billcx.store import CleanData

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]
_MSG_COLS = ["customer_id", "invoice_ids", "currency", "ladder", "step", "date"]
_STAGES = ("balances", "ladders", "timing", "merge", "channels", "caps", "send times", "schedule")


def plan(
    data: CleanData,
    segments: pl.DataFrame,
    *,
    as_of: dt.date,
    policy: Policy | None = None,
    holds: pl.DataFrame | None = None,
    sent: pl.DataFrame | None = None,
    invoice_risk: pl.DataFrame | None = None,
    horizon_days: int = 30,
    for_date: dt.date | None = None,
    force: bool = False,
    shard: Shard | None = None,
    on_progress: ProgressFn | None = None,
) -> PlanResult:
    """Plan every reminder, thank-you and hand-over from ``as_of`` for ``horizon_days`` local days.

    Args:
        data: the clean tables (``CleanData.load`` or ``CleanData.from_frames``).
        segments: segment output, one row per customer (``billcx.schema.SEGMENTS``); customers without
            a row are planned as ``standard`` with medium tiers and counted in the summary.
        as_of: the date the plan is made on; payments after it are unknown.
        policy: the reminder policy (default: :func:`default_policy`).
        holds: optional holds (``billcx.plan.tables.HOLDS``; see :func:`billcx.plan.read_holds`).
        sent: optional sent log (``billcx.plan.tables.SENT``; see :func:`billcx.plan.read_sent`).
        invoice_risk: optional per-invoice scores (``billcx.schema.INVOICE_RISK``) for ladder rules.
        horizon_days: number of local days planned, starting on ``as_of``.
        for_date: plan only up to this local date and return only its sends (for a daily cron).
        force: plan even when the stale-data guard fires.
        shard: plan only this shard's customers.  ``data`` must then still hold every customer (and
            ``segments`` every customer's row): population-level figures -- the stale-data guard,
            who is in the plan, the segments' send-time priors -- come from all of it, so the union
            of the N shards' schedules and skipped rows is exactly the unsharded plan.
        on_progress: ``callback(stage, done, total)``.

    Returns:
        The schedule, the skipped rows and a summary (of the shard's customers, with ``shard``).

    Raises:
        ConfigError: the policy has lint errors.
        UsageError: ``horizon_days`` below 1 or ``for_date`` before ``as_of``.
        StaleDataError: payments end well before invoices and ``force`` is false.
    """
    policy = policy if policy is not None else default_policy()
    errors = [f for f in lint_policy(policy) if f.severity == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(
            f"policy: {errors[0].path}: {errors[0].message}{more}",
            hint="run `billcx policy check` on the policy file",
        )
    if horizon_days < 1:
        raise UsageError(f"--horizon: must be at least 1 day, found {horizon_days}")
    if for_date is not None and for_date < as_of:
        raise UsageError(f"--for-date {for_date} is before --as-of {as_of}")
    window_end = (
        for_date + dt.timedelta(days=1) if for_date is not None else as_of + dt.timedelta(days=horizon_days)
    )
    step = _progress(on_progress)

    warnings: list[str] = []
    stale = check_stale(data, as_of=as_of, max_lag_days=policy.stale_after_days, force=force)
    if stale:
        warnings.append(stale)
        log.warning(stale)
    ins = prepare(data, segments, policy, as_of=as_of, shard=shard)
    warnings += ins.warnings
    step("balances")
    # The send-time history (a year of payments: the largest read) needs only the population, so a
    # second thread reads it while the messages are planned (polars works without holding the GIL).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="billcx-plan-history") as pool:
        history = pool.submit(
            payment_history, data, ins.population, as_of=as_of, days=policy.send.history_days
        )
        result = _plan_messages(
            data,
            ins,
            history,
            policy=policy,
            as_of=as_of,
            window_end=window_end,
            for_date=for_date,
            holds=holds,
            sent=sent,
            invoice_risk=invoice_risk,
            shard=shard,
            stale=stale,
            warnings=warnings,
            step=step,
        )
    if shard is not None:
        result = dataclasses.replace(result, summary=dataclasses.replace(result.summary, shard=str(shard)))
    return result


def _plan_messages(
    data: CleanData,
    ins: Inputs,
    history_job: Future[pl.DataFrame],
    *,
    policy: Policy,
    as_of: dt.date,
    window_end: dt.date,
    for_date: dt.date | None,
    holds: pl.DataFrame | None,
    sent: pl.DataFrame | None,
    invoice_risk: pl.DataFrame | None,
    shard: Shard | None,
    stale: str | None,
    warnings: list[str],
    step: Callable[[str], None],
) -> PlanResult:
    """Everything after the inputs: steps, timing, merge, channels, caps, send times, the schedule.

    ``history_job`` gives the send-time history (:func:`billcx.plan.inputs.payment_history`).
    """
    balances, cust, index = ins.balances, ins.customers, ins.index

    late_days = policy.catch_up.max_late_days
    steps, money, minimums = step_tables(policy)
    # Channel lists are looked up by ladder and step when channels are chosen, not carried along.
    step_cols = steps.drop("channels")
    risk = invoice_risk.select("invoice_id", "late_probability") if invoice_risk is not None else None
    inv, skipped_inv = invoices_with_ladders(balances, cust, risk, minimums, policy)
    reach = _offset_reach(policy)
    cals = build_calendars(
        cust["cal_id"].unique().to_list() + [""],
        as_of - dt.timedelta(days=late_days + 2 * reach + 30),
        window_end + dt.timedelta(days=policy.caps.max_defer_days + 2 * reach + 60),
        weekends=policy.send.weekends,
        holidays=policy.send.holidays,
    )
    warnings += list(cals.warnings)
    # Steps missed by more than the catch-up limit are reported for one more month, then forgotten.
    inst = expand_steps(
        inv.select(
            "invoice_id", "customer_id", "currency", "balance", "due_date", "issue_date", "cal_id", "ladder"
        ),
        step_cols,
        cals,
        earliest=as_of - dt.timedelta(days=late_days + 31),
        window_end=window_end,
    )
    recent_pays = payments_local(
        data, cust, as_of=as_of, since=as_of - dt.timedelta(days=late_days + _max_delay(policy) + 2)
    )
    trig = trigger_instances(
        recent_pays,
        balances,
        cust,
        step_cols,
        policy,
        earliest=as_of - dt.timedelta(days=late_days),
        window_end=window_end,
    )
    trig = trig.join(cust.select("customer_id", "cal_id"), on="customer_id", how="left").with_columns(
        pl.col("cal_id").fill_null("")
    )
    # Date rules are spent once steps are dated: not carried on a million instances.
    inst = pl.concat([inst.with_columns(trigger=pl.lit(False)), trig], how="diagonal_relaxed").drop(
        "offset", "unit", "anchor", "handover", strict=False
    )
    # Large intermediate frames are dropped as soon as they are used: the peak memory is what counts.
    del inv, trig, recent_pays
    step("ladders")

    if shard is not None and sent is not None:
        sent = sent.filter(pl.col("customer_id").is_in(shard_ids(sent["customer_id"], shard).implode()))
    sent_log = sent_local(sent, cust, index, as_of=as_of)
    inst = with_holds(inst, balances, holds, index, as_of=as_of)
    planned, skipped_timing = resolve_timing(
        inst, sent_log, as_of=as_of, window_end=window_end, catch_up=policy.catch_up
    )
    del inst
    planned = next_sendable(planned, cals, date="send_date", cal="cal_id", out="date", reasons_out="_moves")
    planned = planned.filter(pl.col("date").is_not_null(), pl.col("date") < window_end)
    planned = planned.with_columns(concat_reasons(planned, ["reasons", "_moves"])).drop("_moves")
    shares = {name: lad.holdout_share for name, lad in policy.ladders.items()}
    shares |= {t.name: t.holdout_share for t in policy.triggers}
    planned = attach(planned, cust.select("customer_id", "cid"), on="customer_id")
    planned = late_fees(assign_arms(planned, shares, salt=policy.experiment.salt, id_col="cid"), money)
    step("timing")

    msgs = merge_messages(planned).with_row_index("msg_id").with_columns(pl.col("msg_id").cast(pl.Int64))
    del planned
    msgs = attach(
        msgs,
        cust.select(
            "customer_id",
            "cid",
            "preferred_channel",
            "do_not_contact",
            "treatment",
            "country",
            "tz",
            "tz_reason",
            "cal_id",
        ),
        on="customer_id",
    )
    step("merge")

    # Messages to do-not-contact customers get no channel and leave with the cap step's filter.
    dnc_flag = pl.col("do_not_contact").fill_null(False)
    dnc = msgs.select(*_MSG_COLS, "do_not_contact").filter(dnc_flag)
    contact = contactability(
        cust.join(
            msgs.select("customer_id", "do_not_contact").filter(~dnc_flag), on="customer_id", how="semi"
        ),
        ins.events,
        as_of=as_of,
        bounce_limit=policy.channels.bounce_limit,
    )
    msgs, no_channel = choose_channels(msgs, contact, steps.select("ladder", "step", "channels"))
    del contact
    step("channels")

    msg_cols = _MSG_COLS
    # Messages without a channel are dropped by the cap step's filter below (no cap date).
    capped_in = (
        msgs.select("msg_id", *msg_cols, "arm", "cal_id", "family", "strength", "channel")
        .filter(pl.col("family") != "task", pl.col("channel").is_not_null())
        .with_columns(prio=(pl.col("family") == "courtesy").cast(pl.Int64) * 100 + (20 - pl.col("strength")))
    )
    sent_days = (
        sent_log.filter(pl.col("channel").fill_null("") != "task").select("customer_id", date="sent_date")
        if sent_log is not None
        else pl.DataFrame(schema={"customer_id": pl.Int64, "date": pl.Date})
    )
    accepted, capped = apply_caps(capped_in, sent_days, cals, policy.caps, window_end=window_end)
    msgs = (
        attach(msgs, accepted.rename({"date": "_cap_date"}), on="msg_id")
        .filter(~dnc_flag, (pl.col("family") == "task") | pl.col("_cap_date").is_not_null())
        .with_columns(date=pl.coalesce("_cap_date", "date"))
    )
    msgs = msgs.with_columns(concat_reasons(msgs, ["reasons", "cap_reason"])).drop("_cap_date", "cap_reason")
    step("caps")

    msgs = build_offers(msgs, money)
    # The segment priors are learned from the whole population; a shard keeps its own customers' rows.
    history = history_job.result()
    # Only customers with a message need their own counts (a shard's are among them).
    hist_cust, hist_seg = payment_histograms(history, planned=msgs.select("customer_id").unique())
    minutes = send_minutes(
        msgs.select("msg_id", "customer_id", "cid", "treatment", "country", "date", "family", timezone="tz"),
        hist_cust,
        hist_seg,
        policy,
        id_col="cid",
    )
    msgs = attach(msgs, minutes, on="msg_id")
    del history, hist_cust, minutes
    step("send times")

    dropped = [
        dnc.select(msg_cols).with_columns(
            code=pl.lit("do-not-contact"), reason=pl.lit("the customer is marked do_not_contact")
        ),
        no_channel.select(*msg_cols, "code", "reason"),
        capped.join(capped_in.select("msg_id", *msg_cols), on="msg_id", how="inner").select(
            *msg_cols, "code", "reason"
        ),
    ]
    result = assemble.finish(
        msgs,
        skipped_steps=[skipped_inv, skipped_timing],
        skipped_msgs=dropped,
        index=index,
        policy=policy,
        as_of=as_of,
        window_end=window_end,
        for_date=for_date,
        open_invoices=balances.height,
        unsegmented=unsegmented(balances, cust),
        stale=stale is not None,
        warnings=warnings,
    )
    step("schedule")
    return result


def _progress(on_progress: ProgressFn | None) -> Callable[[str], None]:
    done = [0]

    def step(name: str) -> None:
        done[0] += 1
        log.debug("plan: %s done", name)
        if on_progress is not None:
            on_progress("plan: " + name, done[0], len(_STAGES))

    return step


def _offset_reach(policy: Policy) -> int:
    """Largest total distance (days) a ladder's steps can reach from their anchors."""
    reach = 0
    for ladder in policy.ladders.values():
        reach = max(reach, sum(abs(s.offset) for s in ladder.steps))
    return max(reach, max((t.delay_days for t in policy.triggers), default=0))


def _max_delay(policy: Policy) -> int:
    return max((t.delay_days for t in policy.triggers), default=0)
