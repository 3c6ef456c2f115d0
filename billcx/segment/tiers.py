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
from billcx.segment.population import ValueCut
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


def fit_value_cuts(values: pl.DataFrame, settings: TierSettings) -> tuple[ValueCut, ...]:
    """Value-tier cut points of a population: ``values`` has ``value`` (Int64) and ``currency``.

    The tiers of the whole population come from :func:`value_tier` (ranks); the cut points are the
    least value of each tier, so :func:`value_tier_from_cuts` gives every member the same tier.
    """
    tiers = values.with_columns(value_tier(pl.col("value"), pl.col("currency"), settings).alias("_tier"))
    out: list[ValueCut] = []
    for (currency,), part in sorted(tiers.partition_by("currency", as_dict=True).items(),
                                    key=lambda kv: (kv[0][0] is not None, kv[0][0] or "")):
        high = part.filter(pl.col("_tier") == "high").get_column("value").min()
        medium = part.filter(pl.col("_tier").is_in(["high", "medium"])).get_column("value").min()
        out.append(ValueCut(currency,  # type: ignore[arg-type]
                            None if high is None else int(high),  # type: ignore[arg-type]
                            None if medium is None else int(medium)))  # type: ignore[arg-type]
    return tuple(out)


def _alone(settings: TierSettings) -> str:
    """The tier of a valued customer ranked alone (position 1/2), for currencies without cuts."""
    if 0.5 < settings.value_high_share:
        return "high"
    return "medium" if 0.5 < settings.value_high_share + settings.value_medium_share else "low"


def value_tier_from_cuts(frame: pl.DataFrame, cuts: tuple[ValueCut, ...],
                         settings: TierSettings) -> pl.Series:
    """Value tier of each row of ``frame`` (``value``, ``currency``) against a population's cut points."""
    schema = {"currency": pl.String, "_high": pl.Int64, "_medium": pl.Int64}
    rows = [(c.currency, c.high_min, c.medium_min) for c in cuts]
    table = pl.DataFrame(rows, schema=schema, orient="row").with_columns(pl.lit(True).alias("_ranked"))
    valued = pl.col("value").fill_null(0) > 0
    return (
        frame.select("value", "currency")
        .join(table, on="currency", how="left", nulls_equal=True, maintain_order="left")
        .select(
            pl.when(~valued).then(pl.lit("low"))
            .when(pl.col("_ranked").is_null()).then(pl.lit(_alone(settings)))
            .when(pl.col("value") >= pl.col("_high")).then(pl.lit("high"))
            .when(pl.col("value") >= pl.col("_medium")).then(pl.lit("medium"))
            .otherwise(pl.lit("low")).alias("value_tier")
        )
        .get_column("value_tier")
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
