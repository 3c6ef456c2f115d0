"""Money a message announces: late fees, payment plans in exact instalments, extensions.

All arithmetic is in integer minor units.  A percentage fee is rounded half to even, then capped.
A payment plan splits the amount due into instalments that add up to it exactly (the first ones
carry the remainder, one minor unit each); when the amount is too small for the currency's minimum
instalment, fewer instalments are offered, and none when it cannot be split in two.
"""

from __future__ import annotations

import polars as pl

from billcx.money import major_expr
from billcx.plan.frames import attach


def _round_half_even_div(num: pl.Expr, den: int) -> pl.Expr:
    q = num // den
    r = num - q * den
    up = (r * 2 > den) | ((r * 2 == den) & (q % 2 == 1))
    return q + up.cast(pl.Int64)


def late_fees(frame: pl.DataFrame, money: pl.DataFrame) -> pl.DataFrame:
    """Add ``fee`` (minor units, 0 when none) to step instances.

    Args:
        frame: instances with ``ladder, step, currency, balance, fee_percent_bp``.
        money: per ladder/step/currency ``fee_fixed`` and ``fee_cap`` (from ``step_tables``).

    Returns:
        ``frame`` with ``fee``, row order kept.
    """
    fees = money.select("ladder", "step", "currency", "fee_fixed", "fee_cap")
    j = attach(frame, fees, on=["ladder", "step", "currency"])
    pct = _round_half_even_div(pl.col("balance") * pl.col("fee_percent_bp"), 10_000)
    fee = pl.when(pl.col("fee_percent_bp").is_not_null()).then(pct).otherwise(pl.col("fee_fixed"))
    fee = (
        pl.when(pl.col("fee_cap").is_not_null())
        .then(pl.min_horizontal(fee, pl.col("fee_cap")))
        .otherwise(fee)
    )
    return j.with_columns(fee=fee.fill_null(0).cast(pl.Int64)).drop("fee_fixed", "fee_cap")


def fee_reason(currencies: list[str]) -> pl.Expr:
    """``fee:late-fee`` reason for rows with ``late_fee > 0`` (null otherwise)."""
    return (
        pl.when(pl.col("late_fee") > 0)
        .then(
            pl.format(
                "fee:late-fee: a late fee of {} {} is included in the amount due",
                major_expr("late_fee", "currency", currencies),
                pl.col("currency"),
            )
        )
        .otherwise(None)
    )


def build_offers(msgs: pl.DataFrame, money: pl.DataFrame) -> pl.DataFrame:
    """Add ``offer`` (JSON text or null) and ``offer_reason`` to messages.

    Args:
        msgs: messages with ``msg_id, currency, amount_due, date`` and the offer columns of their
            offering step: ``offer_ladder, offer_step, offer_type, offer_n, offer_interval,
            offer_first, offer_ext_days``.
        money: per ladder/step/currency ``min_instalment``.

    Returns:
        ``msgs`` with ``offer`` and ``offer_reason`` (null unless an offer could not be made).
    """
    base = attach(
        msgs,
        money.select(
            offer_ladder="ladder", offer_step="step", currency="currency", _min=pl.col("min_instalment")
        ),
        on=["offer_ladder", "offer_step", "currency"],
    )
    n_fit = pl.col("amount_due") // pl.col("_min").fill_null(1).clip(lower_bound=1)
    base = base.with_columns(_n=pl.min_horizontal(pl.col("offer_n"), n_fit))
    plan = base.filter(pl.col("offer_type") == "payment_plan", pl.col("_n") >= 2)
    inst = (
        plan.select(
            "msg_id",
            "amount_due",
            "date",
            "_n",
            "offer_interval",
            "offer_first",
            i=pl.int_ranges(pl.col("_n")),
        )
        .explode("i")
        .with_columns(
            amount=pl.col("amount_due") // pl.col("_n")
            + (pl.col("i") < pl.col("amount_due") % pl.col("_n")).cast(pl.Int64),
            due=(
                pl.col("date")
                + pl.duration(days=pl.col("offer_first") + pl.col("i") * pl.col("offer_interval"))
            ).dt.strftime("%Y-%m-%d"),
        )
        .group_by("msg_id", maintain_order=True)
        .agg(instalments=pl.struct(number=pl.col("i") + 1, due_date=pl.col("due"), amount=pl.col("amount")))
    )
    plan_json = plan.join(inst, on="msg_id", how="left").select(
        "msg_id",
        offer=pl.struct(
            type=pl.lit("payment_plan"),
            currency=pl.col("currency"),
            total=pl.col("amount_due"),
            instalments=pl.col("instalments"),
        ).struct.json_encode(),
    )
    ext_json = base.filter(pl.col("offer_type") == "extension").select(
        "msg_id",
        offer=pl.struct(
            type=pl.lit("extension"),
            currency=pl.col("currency"),
            total=pl.col("amount_due"),
            days=pl.col("offer_ext_days"),
            new_due_date=(pl.col("date") + pl.duration(days=pl.col("offer_ext_days"))).dt.strftime(
                "%Y-%m-%d"
            ),
        ).struct.json_encode(),
    )
    offers = pl.concat([plan_json, ext_json])
    out = attach(msgs, offers, on="msg_id")
    too_small = (pl.col("offer_type") == "payment_plan") & pl.col("offer").is_null()
    return out.with_columns(
        offer_reason=pl.when(too_small)
        .then(pl.lit("offer:not-offered: the amount due is too small to split into instalments"))
        .otherwise(None)
    )
