"""One message per customer per local day: steps falling on the same day merge.

Step instances are grouped by customer, arm, family (collection, courtesy, hand-over task), currency
and local send date.  The strongest step (by kind, see ``KIND_STRENGTH``; then the later step of its
ladder) sets kind, step, ladder, tone, template and channels; the offer comes from the strongest step
that has one.  The amount due is the sum of the distinct invoices' remaining balances plus their
late fees (the largest fee per invoice).  Different currencies make different messages; the
frequency cap (which allows one message a day) then spreads them over days.
"""

from __future__ import annotations

import polars as pl

GROUP = ["customer_id", "arm", "family", "currency", "date"]
_STRONGEST_FIRST = [*GROUP, "strength", "pos", "ladder", "step", "invoice_id"]
_DESC = [False] * len(GROUP) + [True, True, False, False, False]
_CARRY = ["ladder", "step", "pos", "kind", "strength", "tone", "template", "channels"]
_OFFER = ["offer_type", "offer_n", "offer_interval", "offer_first", "offer_ext_days"]


def merge_messages(inst: pl.DataFrame) -> pl.DataFrame:
    """Merge step instances into messages.

    Args:
        inst: instances with the ``GROUP`` columns, ``invoice_id, balance, fee, reasons`` and the step
            columns.

    Returns:
        One row per message: ``GROUP`` columns, ``invoice_ids`` (sorted), ``n_invoices``,
        ``balance_due``, ``late_fee``, ``amount_due``, the strongest step's columns, the offer columns
        (``offer_ladder``, ``offer_step`` and the offer settings) and ``reasons``; sorted by the group
        columns.
    """
    ordered = inst.sort(_STRONGEST_FIRST, descending=_DESC, nulls_last=True)
    head = ordered.group_by(GROUP, maintain_order=True).agg([pl.col(c).first() for c in _CARRY])
    offers = (ordered.filter(pl.col("offer_type").is_not_null()).group_by(GROUP, maintain_order=True)
              .agg(pl.col("ladder").first().alias("offer_ladder"), pl.col("step").first().alias("offer_step"),
                   *[pl.col(c).first() for c in _OFFER]))
    per_invoice = (ordered.filter(pl.col("invoice_id").is_not_null())
                   .group_by([*GROUP, "invoice_id"], maintain_order=True)
                   .agg(pl.col("balance").first(), pl.col("fee").max()))
    money = (per_invoice.sort([*GROUP, "invoice_id"]).group_by(GROUP, maintain_order=True)
             .agg(invoice_ids=pl.col("invoice_id"), balance_due=pl.col("balance").sum(),
                  late_fee=pl.col("fee").sum()))
    reasons = ordered.group_by(GROUP, maintain_order=True).agg(
        reasons=pl.col("reasons").list.explode(keep_nulls=False, empty_as_null=False).unique(maintain_order=True))
    msgs = (head.join(money, on=GROUP, how="left", nulls_equal=True)
            .join(offers, on=GROUP, how="left", nulls_equal=True)
            .join(reasons, on=GROUP, how="left", nulls_equal=True)
            .with_columns(
                pl.col("invoice_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                pl.col("balance_due").fill_null(0), pl.col("late_fee").fill_null(0))
            .with_columns(n_invoices=pl.col("invoice_ids").list.len().cast(pl.Int64),
                          amount_due=pl.col("balance_due") + pl.col("late_fee")))
    merged = pl.when(pl.col("n_invoices") > 1).then(pl.format(
        "merged:{}-invoices: {} invoices with steps on {} are covered by one message; the strongest step, "
        "{} ({}), sets kind and tone", pl.col("n_invoices"), pl.col("n_invoices"), pl.col("date"), pl.col("step"),
        pl.col("kind")))
    msgs = msgs.with_columns(reasons=pl.concat_list(pl.col("reasons"), merged).list.drop_nulls())
    return msgs.sort(GROUP, nulls_last=True)
