"""When each step may be sent: the sent log, holds and catch-up of missed steps.

For every (invoice, step) with a nominal date:

* a step the sent log confirms is never planned again, nor is any earlier step of that invoice;
* the earliest allowed day is the as-of date, or the end of the invoice's hold if later;
* a step on or after that day is planned on its own date;
* steps before it are *missed*: without a sent log, missed steps before the as-of date are simply in
  the past (billcx cannot know whether an earlier run's sender sent them) and are not planned.  With
  a sent log, and for steps that fell inside a hold, only the latest missed step of each invoice is
  sent, once, on the earliest allowed day -- never a burst -- if it is at most
  ``catch_up.max_late_days`` late; the others are recorded as skipped.

Event messages (triggers) follow the same rule, grouped per customer, invoice and trigger; one is
taken as sent when the log has the same step for the same invoice sent on or after its date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from billcx.errors import InputError, UsageError
from billcx.plan.policy import CatchUp
from billcx.plan.tables import SENT, bad_value, read_control_csv
from billcx.schema import UTC_INSTANT

_FORMATS_TZ = ("%Y-%m-%dT%H:%M:%S%.f%#z",)
_FORMATS_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M")


def parse_instant(col: pl.Expr) -> pl.Expr:
    """ISO 8601 text to a UTC instant; text without an offset is taken as UTC; bad text gives null."""
    text = col.str.strip_chars().str.replace(" ", "T")
    tries = [text.str.to_datetime(f, strict=False, time_zone="UTC", time_unit="us") for f in _FORMATS_TZ]
    tries += [
        text.str.to_datetime(f, strict=False, time_unit="us").dt.replace_time_zone("UTC")
        for f in _FORMATS_NAIVE
    ]
    return pl.coalesce(tries).cast(UTC_INSTANT)


def read_sent(path: str | Path) -> pl.DataFrame:
    """Read a sent log (CSV, or Parquet with the ``SENT`` columns) into the ``SENT`` shape.

    ``invoice_ids`` in CSV are separated by ``;`` (as billcx's own schedule CSV writes them).

    Raises:
        UsageError: the file does not exist.
        InputError: a required column is missing, or a ``sent_at`` is not an ISO 8601 instant; the
            message names the file, line and column.
    """
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        if not path.is_file():
            raise UsageError(f"{path}: no such file", hint="give the sent log")
        frame = pl.read_parquet(path)
        missing = [c for c in SENT.required if c not in frame.columns]
        if missing:
            raise InputError(
                f"{path}: missing column {', '.join(missing)} of the sent file",
                hint=f"columns: {', '.join(SENT.names)}",
            )
        sent = SENT.conform(frame)
        if sent["sent_at"].null_count():
            raise InputError(f"{path}: column sent_at has empty values; every sent message needs its instant")
        return sent
    raw = read_control_csv(path, SENT)
    parsed = raw.with_columns(_at=parse_instant(pl.col("sent_at")))
    bad_value(
        path, parsed, pl.col("_at").is_null(), "sent_at", "an ISO 8601 instant such as 2025-07-01T09:30:00Z"
    )
    parsed = parsed.with_columns(
        sent_at=pl.col("_at"),
        invoice_ids=pl.col("invoice_ids")
        .fill_null("")
        .str.split(";")
        .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
        .list.sort(),
    )
    return SENT.conform(parsed)


def resolve_timing(
    inst: pl.DataFrame, sent: pl.DataFrame | None, *, as_of: dt.date, window_end: dt.date, catch_up: CatchUp
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decide the earliest send day of each step instance.

    Args:
        inst: step instances with ``customer_id, invoice_id, currency, ladder, step, pos, planned_date,
            trigger, hold_end, hold_reason``.
        sent: the sent log with a ``sent_date`` (customer-local date) column, or None.
        as_of: the plan's as-of date.
        window_end: first local date after the planning window.
        catch_up: catch-up settings.

    Returns:
        ``(planned, skipped)``: planned instances with ``send_date`` and ``reasons`` (list of strings);
        skipped rows with ``customer_id, invoice_id, currency, ladder, step, date, code, reason``.
    """
    inst = inst.filter(pl.col("planned_date").is_not_null(), pl.col("planned_date") < window_end)
    have_log = sent is not None
    if have_log:
        inst = _mark_sent(inst, sent)  # type: ignore[arg-type]
    else:
        inst = inst.with_columns(_sent=pl.lit(False), _sent_pos=pl.lit(None, dtype=pl.Int64))
    late_limit = as_of - dt.timedelta(days=catch_up.max_late_days)
    skipped: list[pl.DataFrame] = []
    already = inst.filter(pl.col("_sent"), pl.col("planned_date") >= late_limit)
    skipped.append(
        _skip(
            already,
            "already-sent",
            pl.format(
                "step {} planned for {} is in the sent log; not planned again",
                pl.col("step"),
                pl.col("planned_date"),
            ),
        )
    )
    inst = inst.filter(~pl.col("_sent"), ~(pl.col("pos") < pl.col("_sent_pos")).fill_null(False))
    inst = inst.with_columns(_earliest=pl.max_horizontal(pl.lit(as_of), pl.col("hold_end").fill_null(as_of)))
    normal = inst.filter(pl.col("planned_date") >= pl.col("_earliest"))
    missed = inst.filter(pl.col("planned_date") < pl.col("_earliest"))
    # Before the as-of date nothing is known without a sent log: those steps are outside the plan.
    eligible_past = have_log and catch_up.enabled
    missed = missed.filter((pl.col("planned_date") >= as_of) | pl.lit(eligible_past))
    held = pl.col("hold_end").is_not_null() & (pl.col("planned_date") < pl.col("hold_end"))
    hold_words = pl.format("invoice on hold until {} ({})", pl.col("hold_end"), pl.col("hold_reason"))
    too_old = pl.col("planned_date") < pl.col("_earliest") - pl.duration(days=catch_up.max_late_days)
    missed = missed.with_columns(_old=too_old | pl.lit(not catch_up.enabled))
    group = ["customer_id", "invoice_id", "ladder"]
    ranked = (
        missed.filter(~pl.col("_old"))
        .sort([*group, "pos", "planned_date"], descending=[False, False, False, True, True], nulls_last=True)
        .with_columns(_rank=pl.int_range(pl.len()).over(group))
    )
    # A missed step is pointless when the invoice's next step is due on the very day it would go.
    first_normal = normal.group_by(group).agg(_next=pl.col("planned_date").min())
    ranked = ranked.join(first_normal, on=group, how="left", nulls_equal=True).with_columns(
        _rank=pl.when(pl.col("_next") == pl.col("_earliest"))
        .then(pl.col("_rank") + 1)
        .otherwise(pl.col("_rank"))
    )
    chosen = ranked.filter(pl.col("_rank") == 0).drop("_next")
    superseded = ranked.filter(pl.col("_rank") > 0)
    old = missed.filter(pl.col("_old"))
    skipped.append(
        _skip(
            old.filter(held),
            "held",
            pl.format(
                "{}; step {} planned for {} is not sent", hold_words, pl.col("step"), pl.col("planned_date")
            ),
        )
    )
    skipped.append(
        _skip(
            old.filter(~held),
            "catch-up:too-late",
            pl.format(
                "step {} planned for {} was not sent and is more than {} days late",
                pl.col("step"),
                pl.col("planned_date"),
                pl.lit(catch_up.max_late_days),
            ),
        )
    )
    instead = (
        pl.when(pl.col("_next") == pl.col("_earliest"))
        .then(pl.format("the next step, due on {}, is sent instead", pl.col("_next")))
        .otherwise(pl.lit("only the latest missed step is sent"))
    )
    skipped.append(
        _skip(
            superseded.filter(held),
            "held",
            pl.format(
                "{}; step {} planned for {} is not sent: {}",
                hold_words,
                pl.col("step"),
                pl.col("planned_date"),
                instead,
            ),
        )
    )
    skipped.append(
        _skip(
            superseded.filter(~held),
            "catch-up:superseded",
            pl.format(
                "step {} planned for {} was missed; {}", pl.col("step"), pl.col("planned_date"), instead
            ),
        )
    )
    chosen = chosen.with_columns(
        send_date=pl.col("_earliest"),
        reasons=pl.when(held)
        .then(
            pl.concat_list(
                pl.format(
                    "held:resumed: {}; step {} planned for {} is sent when the hold ends",
                    hold_words,
                    pl.col("step"),
                    pl.col("planned_date"),
                )
            )
        )
        .otherwise(
            pl.concat_list(
                pl.format(
                    "catch-up:missed: step {} planned for {} was not sent; sent once, late",
                    pl.col("step"),
                    pl.col("planned_date"),
                )
            )
        ),
    )
    normal = normal.with_columns(
        send_date=pl.col("planned_date"), reasons=pl.lit([], dtype=pl.List(pl.String))
    )
    drop = ["_sent", "_sent_pos", "_earliest"]
    planned = pl.concat([normal.drop(drop), chosen.drop([*drop, "_old", "_rank"])], how="vertical_relaxed")
    return planned, pl.concat(skipped, how="vertical_relaxed")


def _skip(frame: pl.DataFrame, code: str, words: pl.Expr) -> pl.DataFrame:
    return frame.select(
        "customer_id",
        "invoice_id",
        "currency",
        "ladder",
        "step",
        date=pl.col("planned_date"),
        code=pl.lit(code),
        reason=words,
    )


def _mark_sent(inst: pl.DataFrame, sent: pl.DataFrame) -> pl.DataFrame:
    """Flag instances the sent log covers; ``_sent_pos``: latest sent step position per invoice."""
    pairs = (
        sent.select(
            "customer_id",
            "step",
            "sent_date",
            pl.col("ladder").alias("_sladder"),
            pl.col("invoice_ids").alias("invoice_id"),
        )
        .with_columns(
            pl.when(pl.col("invoice_id").list.len() == 0)
            .then(pl.lit([None], dtype=pl.List(pl.String)))
            .otherwise(pl.col("invoice_id"))
            .alias("invoice_id")
        )
        .explode("invoice_id")
    )
    keyed = inst.with_row_index("_inst")
    m = keyed.select("_inst", "customer_id", "invoice_id", "ladder", "step", "planned_date", "trigger").join(
        pairs, on=["customer_id", "step"], how="inner"
    )
    same_invoice = (m["invoice_id"].is_null() & m["invoice_id_right"].is_null()) | (
        m["invoice_id"] == m["invoice_id_right"]
    ).fill_null(False)
    m = m.filter(same_invoice)
    m = m.filter(pl.col("_sladder").is_null() | (pl.col("_sladder") == pl.col("ladder")))
    # A trigger recurs (one thank-you per payment): only a send on or after its date covers it.
    m = m.filter(~pl.col("trigger") | (pl.col("sent_date") >= pl.col("planned_date")))
    hit = m.select("_inst").unique().with_columns(_sent=pl.lit(True))
    keyed = keyed.join(hit, on="_inst", how="left").with_columns(pl.col("_sent").fill_null(False))
    sent_pos = (
        keyed.filter(pl.col("_sent"), ~pl.col("trigger"))
        .group_by("invoice_id", "ladder")
        .agg(_sent_pos=pl.col("pos").max())
    )
    return keyed.join(sent_pos, on=["invoice_id", "ladder"], how="left").sort("_inst").drop("_inst")
