"""Value tier, risk tier and the one treatment per customer that the plan stage acts on.

* **value tier**: customers with a positive lifetime value (CLV, or money received in the RFM
  window when no CLV exists) are ranked within their currency, ties sharing their average rank;
  the top ``value_high_share`` are ``high``, the next ``value_medium_share`` ``medium``, the rest
  (and everyone without value) ``low``;
* **risk tier**: ``high`` from ``risk_high`` late probability, ``medium`` from ``risk_medium``, else
  ``low``;
* **treatment**: the first rule that matches, in this order:

  1. ``credit_or_no_balance`` - nothing is owed in any currency;
  2. ``dormant`` - no invoice and no payment for ``dormant_days``;
  3. ``new`` - fewer than ``new_max_invoices`` resolved invoices, or a relationship younger than
     ``new_max_tenure_days``;
  4. ``chronic_late`` - at least ``chronic_min_invoices`` resolved and an on-time rate below
     ``chronic_on_time_rate``;
  5. ``valued_slipping`` - high value and either a lateness trend of ``slipping_trend_days`` or more
     or a high risk tier;
  6. ``reliable`` - on-time rate of at least ``reliable_on_time_rate``, low risk, nothing overdue;
  7. ``standard`` - everyone else.

  ``treatment_reason`` says in words which rule matched and why.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from billcx.schema import RISK_TIERS, TREATMENTS, VALUE_TIERS
from billcx.segment.settings import TierSettings

assert set(VALUE_TIERS) == {"high", "medium", "low"} and set(RISK_TIERS) == {"low", "medium", "high"}
assert set(TREATMENTS) == {"reliable", "valued_slipping", "chronic_late", "new", "dormant",
                           "credit_or_no_balance", "standard"}


def value_tier(value: pl.Expr, currency: pl.Expr, settings: TierSettings) -> pl.Expr:
    """Value tier of ``value`` (higher is better) within each currency, under the tie policy above."""
    valued = value.fill_null(0) > 0
    ranked = pl.when(valued).then(value).rank("average", descending=True).over(currency)
    n = valued.cast(pl.Int64).sum().over(currency)
    position = (ranked - 0.5) / n
    return (
        pl.when(~valued).then(pl.lit("low"))
        .when(position < settings.value_high_share).then(pl.lit("high"))
        .when(position < settings.value_high_share + settings.value_medium_share).then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def risk_tier(probability: pl.Expr, settings: TierSettings) -> pl.Expr:
    """Risk tier of a late probability."""
    return (
        pl.when(probability >= settings.risk_high).then(pl.lit("high"))
        .when(probability >= settings.risk_medium).then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def _pct(x: pl.Expr) -> pl.Expr:
    return pl.format("{}%", (x * 100).round(0).cast(pl.Int64))


def treatment(settings: TierSettings) -> tuple[pl.Expr, pl.Expr]:
    """Expressions for ``treatment`` and ``treatment_reason`` over the customer frame.

    Needs the columns ``currencies_owed, resolved_invoices, tenure_days, days_since_activity,
    on_time_rate, lateness_trend_days, overdue_invoices, value_tier, risk_tier``.
    """
    c = pl.col
    owes_nothing = c("currencies_owed") == 0
    new = (c("resolved_invoices") < settings.new_max_invoices) | (c("tenure_days").fill_null(0)
                                                                   < settings.new_max_tenure_days)
    dormant = c("days_since_activity").fill_null(0) >= settings.dormant_days
    on_time = c("on_time_rate")
    chronic = (c("resolved_invoices") >= settings.chronic_min_invoices) & (
        on_time < settings.chronic_on_time_rate
    )
    slipping_trend = c("lateness_trend_days") >= settings.slipping_trend_days
    slipping = (c("value_tier") == "high") & (slipping_trend.fill_null(False) | (c("risk_tier") == "high"))
    reliable = (
        (on_time >= settings.reliable_on_time_rate) & (c("risk_tier") == "low") & (c("overdue_invoices") == 0)
    )
    rules: list[tuple[str, pl.Expr, pl.Expr]] = [
        ("credit_or_no_balance", owes_nothing, pl.lit("nothing owed")),
        (
            "dormant",
            dormant,
            pl.format("dormant: no invoice or payment for {} days", c("days_since_activity")),
        ),
        (
            "new",
            new,
            pl.format(
                "new: {} resolved invoice(s), customer for {} day(s)",
                c("resolved_invoices"),
                c("tenure_days").fill_null(0),
            ),
        ),
        (
            "chronic_late",
            chronic,
            pl.format(
                "chronic late: {} of {} resolved invoices on time", _pct(on_time), c("resolved_invoices")
            ),
        ),
        (
            "valued_slipping",
            slipping,
            pl.when(slipping_trend.fill_null(False))
            .then(pl.format("high value, paying {} days later recently", c("lateness_trend_days").round(1)))
            .otherwise(pl.lit("high value, high late-payment risk")),
        ),
        (
            "reliable",
            reliable,
            pl.format("reliable: {} of {} resolved invoices on time", _pct(on_time), c("resolved_invoices")),
        ),
    ]
    name: Any = pl
    reason: Any = pl
    for label, condition, words in rules:
        name = name.when(condition.fill_null(False)).then(pl.lit(label))
        reason = reason.when(condition.fill_null(False)).then(words)
    return name.otherwise(pl.lit("standard")), reason.otherwise(pl.lit("standard: no specific pattern"))
