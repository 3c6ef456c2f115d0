"""One message per customer per local day: steps falling on the same day merge.

Step instances are grouped by customer, arm, family (collection, courtesy, hand-over task), currency
and local send date.  The strongest step (by kind, see ``KIND_STRENGTH``; then the later step of its
ladder) sets kind, step, ladder, tone and template (and so the channels); the offer comes from the
strongest step that has one.  The amount due is the sum of the distinct invoices' remaining balances
plus their late fees (the largest fee per invoice).  Different currencies make different messages; the
frequency cap (which allows one message a day) then spreads them over days.

Only narrow columns are sorted; wide rows are gathered by index once the winners are known.
"""

from __future__ import annotations

import polars as pl

from billcx.plan.frames import attach
from billcx.plan.reasons import concat_reasons

GROUP = ["customer_id", "arm", "family", "currency", "date"]
_CARRY = ["ladder", "step", "pos", "kind", "strength", "tone", "template"]
_OFFER = ["offer_type", "offer_n", "offer_interval", "offer_first", "offer_ext_days"]
_EMPTY = pl.lit([], dtype=pl.List(pl.String))


def merge_messages(inst: pl.DataFrame) -> pl.DataFrame:
    """Merge step instances into messages.

    Args:
        inst: instances with the ``GROUP`` columns, ``invoice_id, send_date, balance, fee, reasons``
            and the step columns.

    Returns:
        One row per message: ``GROUP`` columns, ``invoice_ids`` (sorted), ``n_invoices``,
        ``balance_due``, ``late_fee``, ``amount_due``, the strongest step's columns, the offer columns
        (``offer_ladder``, ``offer_step`` and the offer settings) and ``reasons``; sorted by the group
        columns.
    """
    rows = inst.with_row_index("_row")
    order = (
        rows.select(
            "_row",
            *GROUP,
            "strength",
            "pos",
            "ladder",
            "step",
            "invoice_id",
            "send_date",
            _offer=pl.col("offer_type").is_not_null(),
            _why=pl.col("reasons").list.join("\x1f"),
        )
        # The step's own date and its reasons break the remaining ties (two thank-yous of one invoice
        # moved to the same day): the reasons' order must not depend on the rows' order.
        .sort(
            [*GROUP, "strength", "pos", "ladder", "step", "invoice_id", "send_date", "_why"],
            descending=[False] * len(GROUP) + [True, True, False, False, False, False, False],
            nulls_last=True,
        )
        .with_columns(_gid=pl.struct(GROUP).rle_id())
    )
    heads = order.group_by("_gid", maintain_order=True).agg(
        pl.col("_row").first(), *[pl.col(c).first() for c in GROUP]
    )
    msgs = heads.hstack(rows.select(_CARRY)[heads["_row"]]).drop("_row")
    offer_rows = (
        order.filter(pl.col("_offer")).group_by("_gid", maintain_order=True).agg(pl.col("_row").first())
    )
    offers = offer_rows.hstack(
        rows.select(pl.col("ladder").alias("offer_ladder"), pl.col("step").alias("offer_step"), *_OFFER)[
            offer_rows["_row"]
        ]
    ).drop("_row")
    # Each row's group, in row order (a sort of integers instead of a join).
    gid_of_row = order.select("_row", "_gid").sort("_row")["_gid"]
    per_invoice = (
        rows.select("invoice_id", "balance", "fee")
        .with_columns(_gid=gid_of_row)
        .filter(pl.col("invoice_id").is_not_null())
        .group_by("_gid", "invoice_id")
        .agg(pl.col("balance").first(), pl.col("fee").max())
        .sort("_gid", "invoice_id")
    )
    money = per_invoice.group_by("_gid", maintain_order=True).agg(
        invoice_ids=pl.col("invoice_id"), balance_due=pl.col("balance").sum(), late_fee=pl.col("fee").sum()
    )
    # Reasons in the strongest-first order of the rows that carry any.
    said = (
        order.select("_row", "_gid")
        .join(
            rows.select("_row", "reasons").filter(pl.col("reasons").list.len() > 0),
            on="_row",
            how="inner",
            maintain_order="left",
        )
        .explode("reasons")
        .group_by("_gid", maintain_order=True)
        .agg(pl.col("reasons").unique(maintain_order=True))
    )
    msgs = (
        attach(attach(attach(msgs, money, on="_gid"), offers, on="_gid"), said, on="_gid")
        .with_columns(
            pl.col("invoice_ids").fill_null(_EMPTY),
            pl.col("reasons").fill_null(_EMPTY),
            pl.col("balance_due").fill_null(0),
            pl.col("late_fee").fill_null(0),
        )
        .with_columns(
            n_invoices=pl.col("invoice_ids").list.len().cast(pl.Int64),
            amount_due=pl.col("balance_due") + pl.col("late_fee"),
        )
    )
    merged = pl.format(
        "merged:{}-invoices: {} invoices with steps on {} are covered by one message; "
        "the strongest step, {} ({}), sets kind and tone",
        pl.col("n_invoices"),
        pl.col("n_invoices"),
        pl.col("date"),
        pl.col("step"),
        pl.col("kind"),
    )
    msgs = msgs.with_columns(concat_reasons(msgs, ["reasons", (pl.col("n_invoices") > 1, merged)]))
    return msgs.sort("_gid").drop("_gid")
