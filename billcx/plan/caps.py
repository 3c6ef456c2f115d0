"""Frequency cap: at most N messages per customer in any W consecutive local days, never two a day.

Messages are taken in date order (ties: collection before courtesy, stronger first) and accepted
greedily, counting what the sent log shows was already sent.  A message over the cap is deferred to
the first sendable day the cap allows (``on_excess = "defer"``) -- at most ``max_defer_days`` late and
inside the planning window -- or skipped (``"skip"``).  Caps apply per customer and arm: holdout rows
are capped among themselves and never use up a real message's slot.  Hand-over tasks are not
messages and are not capped.

Vectorised: customers whose messages already respect the cap (most of them) are accepted in one
pass using window shifts; the others are resolved one message per customer per pass, each pass a
handful of joins over the customers still pending (a bounded number of passes: at most two per
message of the busiest customer).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from billcx.plan.calendar import Calendars, next_sendable
from billcx.plan.policy import Caps

UNIT = "_unit"


def _unit(frame: pl.DataFrame) -> pl.DataFrame:
    # customer_id is the plan's integer customer code: one unit per customer and arm.
    return frame.with_columns(
        (pl.col("customer_id").cast(pl.Int64) * 2 + (pl.col("arm") == "holdout").cast(pl.Int64)).alias(UNIT)
    )


def apply_caps(
    msgs: pl.DataFrame, sent_days: pl.DataFrame, cals: Calendars, caps: Caps, *, window_end: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Enforce the cap.

    Args:
        msgs: messages with ``msg_id, customer_id`` (integer code), ``arm, date, cal_id, prio`` (lower
            prio goes first on the same day).
        sent_days: ``customer_id`` (code), ``date`` of messages already sent (treatment arm).
        cals: calendars, to defer onto sendable days.
        caps: the cap settings.
        window_end: first local date after the planning window.

    Returns:
        ``(accepted, skipped)``: ``msg_id, date, cap_reason`` (null unless deferred) and
        ``msg_id, code, reason``.
    """
    k, w = caps.max_messages, caps.window_days
    msgs = _unit(msgs.select("msg_id", "customer_id", "arm", "date", "cal_id", "prio"))
    sent = _unit(sent_days.select("customer_id", "date").with_columns(arm=pl.lit("treatment")))
    sent = sent.join(msgs.select(UNIT).unique(), on=UNIT, how="semi")
    both = pl.concat(
        [
            sent.select(UNIT, "date", prio=pl.lit(-1, dtype=pl.Int64), msg_id=pl.lit(None, dtype=pl.Int64)),
            msgs.select(UNIT, "date", pl.col("prio").cast(pl.Int64), pl.col("msg_id").cast(pl.Int64)),
        ]
    ).sort(UNIT, "date", "prio", "msg_id", nulls_last=False)
    # Sorted by unit, a unit's rows are contiguous: "k rows back, same unit" is a plain shift.
    same1 = pl.col(UNIT).shift(1) == pl.col(UNIT)
    same_k = pl.col(UNIT).shift(k) == pl.col(UNIT)
    clash = (
        (same1 & (pl.col("date") == pl.col("date").shift(1)))
        | (same_k & (pl.col("date").shift(k) > pl.col("date") - pl.duration(days=w)))
    ).fill_null(False)
    busy = both.filter(clash).select(UNIT).unique()
    easy = msgs.join(busy, on=UNIT, how="anti").select(
        "msg_id", "date", cap_reason=pl.lit(None, dtype=pl.String)
    )
    hard = msgs.join(busy, on=UNIT, how="semi").with_columns(orig=pl.col("date"))
    accepted, skipped = _resolve(
        hard, sent.join(busy, on=UNIT, how="semi").select(UNIT, "date"), cals, caps, window_end=window_end
    )
    return pl.concat([easy, accepted], how="vertical_relaxed"), skipped


def _resolve(
    pend: pl.DataFrame, acc: pl.DataFrame, cals: Calendars, caps: Caps, *, window_end: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    k, w = caps.max_messages, caps.window_days
    rule = f"at most {k} message{'s' if k > 1 else ''} in {w} days and one a day"
    done: list[pl.DataFrame] = []
    dropped: list[pl.DataFrame] = []
    while pend.height:
        pend = pend.sort(UNIT, "date", "prio", "msg_id")
        head = pend.group_by(UNIT, maintain_order=True).first()
        stats = (
            acc.join(head.select(UNIT), on=UNIT, how="semi")
            .sort(UNIT, "date", descending=[False, True])
            .group_by(UNIT)
            .agg(a1=pl.col("date").first(), ak=pl.col("date").slice(k - 1, 1).first())
        )
        h = head.join(stats, on=UNIT, how="left")
        ok = (pl.col("a1").is_null() | (pl.col("a1") < pl.col("date"))) & (
            pl.col("ak").is_null() | (pl.col("ak") <= pl.col("date") - pl.duration(days=w))
        )
        now = h.filter(ok)
        done.append(now.select("msg_id", "date", "orig"))
        acc = pl.concat([acc, now.select(UNIT, "date")])
        blocked = h.filter(~ok).with_columns(
            _cand=pl.max_horizontal(
                pl.col("date"),
                pl.when(pl.col("a1") >= pl.col("date")).then(pl.col("a1") + pl.duration(days=1)),
                pl.when(pl.col("ak") > pl.col("date") - pl.duration(days=w)).then(
                    pl.col("ak") + pl.duration(days=w)
                ),
            )
        )
        blocked = next_sendable(
            blocked.with_columns(pl.col("_cand").clip(upper_bound=cals.end)),
            cals,
            date="_cand",
            cal="cal_id",
            out="_next",
            reasons_out="_unused",
        )
        limit = pl.col("orig") + pl.duration(days=caps.max_defer_days)
        give_up = (
            pl.lit(caps.on_excess == "skip")
            | pl.col("_next").is_null()
            | (pl.col("_next") > limit)
            | (pl.col("_next") >= window_end)
        )
        gone = blocked.filter(give_up)
        if caps.on_excess == "skip":
            words = pl.format(f"{rule}; the message planned for {{}} is not sent", pl.col("orig"))
        else:
            words = pl.format(
                f"{rule}; no allowed day within {caps.max_defer_days} days of {{}} in the planning window",
                pl.col("orig"),
            )
        dropped.append(gone.select("msg_id", code=pl.lit("capped:frequency"), reason=words))
        moved = blocked.filter(~give_up).with_columns(date=pl.col("_next")).select(pend.columns)
        pend = pl.concat([pend.join(head.select("msg_id"), on="msg_id", how="anti"), moved])
    schema_ok = {"msg_id": pl.Int64, "date": pl.Date, "orig": pl.Date}
    accepted = pl.concat(done) if done else pl.DataFrame(schema=schema_ok)
    accepted = accepted.with_columns(
        cap_reason=pl.when(pl.col("date") != pl.col("orig"))
        .then(
            pl.format(f"capped:frequency: {rule}; deferred from {{}} to {{}}", pl.col("orig"), pl.col("date"))
        )
        .otherwise(None)
    ).select("msg_id", "date", "cap_reason")
    skipped = (
        pl.concat(dropped)
        if dropped
        else pl.DataFrame(schema={"msg_id": pl.Int64, "code": pl.String, "reason": pl.String})
    )
    return accepted, skipped
