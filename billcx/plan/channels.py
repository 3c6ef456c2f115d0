"""Who may be contacted, on which channel: consent, a valid address, opt-outs, fallback.

A channel is usable for a customer when the customer consented to it, has an address for it, has
not unsubscribed from it (or complained) in the engagement events up to the as-of date, and it has not
bounced ``bounce_limit`` times.  ``do_not_contact`` overrides everything.  A message goes by the first
usable channel of its step's list, the customer's preferred channel first when the step allows it;
every channel passed over is recorded as a ``fallback:`` reason, and a message with no usable channel
is skipped with the reasons.  Push has no address in the contract, so consent alone makes it usable.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from billcx.plan.frames import attach
from billcx.plan.reasons import concat_reasons
from billcx.schema import CHANNELS

_E164 = r"^\+[1-9][0-9]{6,14}$"
_DNC = pl.col("do_not_contact").fill_null(False)
_LABEL = {"email": "email", "sms": "SMS", "letter": "letter", "push": "push"}
_ADDRESS = {
    "email": "email address",
    "sms": "mobile number",
    "letter": "postal address",
    "push": "push registration",
}


def _has_address(ch: str) -> pl.Expr:
    if ch == "email":
        return pl.col("email").fill_null("").str.contains("@")
    if ch == "sms":
        return pl.col("phone").fill_null("").str.contains(_E164)
    if ch == "letter":
        return pl.col("address_line1").is_not_null() & (
            pl.col("postal_code").is_not_null() | pl.col("city").is_not_null()
        )
    return pl.lit(True)


def contactability(
    customers: pl.DataFrame, events: pl.DataFrame | None, *, as_of: dt.date, bounce_limit: int
) -> pl.DataFrame:
    """Per customer and channel: whether it is usable and, if not, why.

    Args:
        customers: the customers table (contract columns).
        events: engagement events or None.
        as_of: events after this date are ignored.
        bounce_limit: bounces that make an address unusable.

    Returns:
        ``customer_id, channel, usable, why_code, why`` (why is null when usable).
    """
    base = customers.select(
        "customer_id",
        "email",
        "phone",
        "address_line1",
        "postal_code",
        "city",
        *[f"consent_{c}" for c in CHANNELS],
    )
    if events is not None and events.height:
        ev = events.filter(pl.col("at").dt.date() <= as_of)
        optout = (
            ev.filter(pl.col("event").is_in(["unsubscribed", "complained"]))
            .group_by("customer_id", "channel")
            .agg(_optout=pl.col("at").max().dt.date())
        )
        bounces = (
            ev.filter(pl.col("event") == "bounced")
            .group_by("customer_id", "channel")
            .agg(_bounces=pl.len().cast(pl.Int64))
        )
    else:
        key = customers.schema["customer_id"]
        optout = pl.DataFrame(schema={"customer_id": key, "channel": pl.String, "_optout": pl.Date})
        bounces = pl.DataFrame(schema={"customer_id": key, "channel": pl.String, "_bounces": pl.Int64})
    parts = []
    for ch in CHANNELS:
        part = base.select(
            "customer_id",
            channel=pl.lit(ch),
            _consent=pl.col(f"consent_{ch}").fill_null(False),
            _address=_has_address(ch),
        )
        parts.append(part)
    long = (
        pl.concat(parts)
        .join(optout, on=["customer_id", "channel"], how="left")
        .join(bounces, on=["customer_id", "channel"], how="left")
        .with_columns(pl.col("_bounces").fill_null(0))
    )
    label = pl.col("channel").replace_strict(_LABEL, return_dtype=pl.String)
    address = pl.col("channel").replace_strict(_ADDRESS, return_dtype=pl.String)
    why_code = (
        pl.when(~pl.col("_consent"))
        .then(pl.format("no-{}-consent", pl.col("channel")))
        .when(pl.col("_optout").is_not_null())
        .then(pl.format("{}-unsubscribed", pl.col("channel")))
        .when(~pl.col("_address"))
        .then(pl.format("no-{}-address", pl.col("channel")))
        .when(pl.col("_bounces") >= bounce_limit)
        .then(pl.format("{}-bounced", pl.col("channel")))
        .otherwise(None)
    )
    why = (
        pl.when(~pl.col("_consent"))
        .then(pl.format("no consent to contact by {}", label))
        .when(pl.col("_optout").is_not_null())
        .then(pl.format("opted out of {} on {}", label, pl.col("_optout")))
        .when(~pl.col("_address"))
        .then(pl.format("no valid {} on file", address))
        .when(pl.col("_bounces") >= bounce_limit)
        .then(pl.format("{} bounced {} times", label, pl.col("_bounces")))
        .otherwise(None)
    )
    return long.select("customer_id", "channel", usable=why_code.is_null(), why_code=why_code, why=why)


def choose_channels(
    msgs: pl.DataFrame, contact: pl.DataFrame, steps: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pick each message's channel.

    Args:
        msgs: messages with ``msg_id, customer_id, ladder, step, preferred_channel, do_not_contact,
            family, reasons``.
        contact: the table from :func:`contactability`.
        steps: ``ladder, step, channels`` (list, in order of preference) of every ladder step and
            trigger (:func:`billcx.plan.ladders.step_tables`).

    Returns:
        ``(messages, skipped)``: every message of ``msgs`` with ``channel`` (``task`` for hand-over
        tasks; null for a customer marked ``do_not_contact`` and when no channel is usable: those
        messages are also in ``skipped``) and the fallback reasons appended; skipped messages with
        ``code`` and ``reason`` (not the do-not-contact ones: the caller reports those).
    """
    # Only narrow columns are worked on: the wide messages are neither split nor filtered here.  A
    # do-not-contact customer's messages get no channel and are not "no-channel" skips.
    todo = msgs.select(
        "msg_id", "customer_id", "preferred_channel", "ladder", "step", "family", "do_not_contact"
    ).filter(pl.col("family") != "task", ~_DNC)
    # The channel lists stay in the step table (a handful of rows), not on every instance and message.
    step_channels = (
        steps.select("ladder", "step", ch=pl.col("channels"))
        .with_columns(_pos=pl.int_ranges(pl.col("ch").list.len()))
        .explode("ch", "_pos")
    )
    cand = (
        todo.select("msg_id", "customer_id", "preferred_channel", "ladder", "step")
        .join(step_channels, on=["ladder", "step"], how="inner")
        .drop("ladder", "step")
        .filter(pl.col("ch").is_not_null())
        .with_columns(
            _rank=pl.when(pl.col("ch") == pl.col("preferred_channel")).then(-1).otherwise(pl.col("_pos"))
        )
        .join(contact, left_on=["customer_id", "ch"], right_on=["customer_id", "channel"], how="left")
        .with_columns(
            pl.col("usable").fill_null(False),
            pl.col("why_code").fill_null(pl.format("no-{}-consent", pl.col("ch"))),
            pl.col("why").fill_null("customer unknown"),
        )
        .sort("msg_id", "_rank")
    )
    best = (
        cand.filter(pl.col("usable"))
        .group_by("msg_id")
        .agg(channel=pl.col("ch").first(), _best=pl.col("_rank").first())
    )
    cand = cand.join(best, on="msg_id", how="left")
    passed = (
        cand.filter(~pl.col("usable"), pl.col("_best").is_not_null(), pl.col("_rank") < pl.col("_best"))
        .group_by("msg_id", maintain_order=True)
        .agg(
            _fallback=pl.format(
                "fallback:{}: {}; sent by {}", pl.col("why_code"), pl.col("why"), pl.col("channel")
            )
        )
    )
    none = (
        cand.filter(pl.col("_best").is_null())
        .group_by("msg_id", maintain_order=True)
        .agg(_why=pl.format("{} ({})", pl.col("ch"), pl.col("why_code")).str.join("; "))
    )
    # Every message passed over a channel has a best one: one lookup per message.
    lookup = best.select("msg_id", "channel").join(passed, on="msg_id", how="left")
    out = attach(msgs, lookup, on="msg_id").with_columns(
        channel=pl.when(pl.col("family") == "task").then(pl.lit("task")).otherwise(pl.col("channel"))
    )
    out = out.with_columns(concat_reasons(out, ["reasons", "_fallback"])).drop("_fallback")
    skipped = (
        msgs.join(none, on="msg_id", how="inner")
        .with_columns(code=pl.lit("no-channel"), reason=pl.format("no usable channel: {}", pl.col("_why")))
        .drop("_why")
    )
    return out, skipped
