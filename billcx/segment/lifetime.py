"""Lifetime value and churn per customer: BG/NBD + Gamma-Gamma on invoices, with fallbacks.

Purchases are the customer's invoices in their main currency (credit notes and void invoices
excluded), summarised with daily periods in weeks (``freq="D"``, ``freq_multiplier=7``) as of the
as-of date.  BG/NBD gives P(alive) and expected invoices over the horizon; Gamma-Gamma, fitted per
currency, gives the expected amount per invoice; CLV is their discounted monthly product.

When a model cannot be fitted (too few customers, no repeat purchases, no convergence, ``q <= 1``)
a warning says so and a transparent fallback is used, named in ``clv_method``:

* ``empirical`` purchases: the customer's own rate ``frequency / T`` per week, and P(alive) 1 while
  the time since the last invoice is within the customer's usual gap between invoices (the
  population median gap for one-time customers), then falling by a factor e per further gap;
* ``mean_amount`` spend: the customer's mean invoice amount.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from billcx.segment.bgnbd import expected_purchases, fit_bgnbd, probability_alive
from billcx.segment.clv import PERIODS_PER_MONTH, customer_lifetime_value, summary_data
from billcx.segment.fitting import FitError
from billcx.segment.gamma_gamma import expected_spend, fit_gamma_gamma
from billcx.segment.ledger import Ledger
from billcx.segment.settings import ClvSettings

log = logging.getLogger(__name__)

WEEK = 7.0


@dataclass(frozen=True)
class LifetimeValues:
    """Per-customer lifetime figures with the model report and warnings."""

    frame: pl.DataFrame
    report: dict[str, Any]
    warnings: tuple[str, ...]


def _empirical(
    x: np.ndarray, tx: np.ndarray, t: np.ndarray
) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    rate = np.where(t > 0, x / np.where(t > 0, t, 1.0), 0.0)
    gaps = tx[x > 0] / x[x > 0]
    typical = float(np.median(gaps)) if gaps.size else float(np.median(t)) if t.size else 1.0
    own_gap = np.maximum(np.where(x > 0, tx / np.maximum(x, 1), typical), 1e-9)
    alive = np.exp(-np.maximum(t - tx - own_gap, 0.0) / own_gap)
    return (lambda horizon: rate * horizon), np.clip(alive, 0.0, 1.0)


def _fit_sample(n: int, settings: ClvSettings) -> np.ndarray:
    """Rows the models are fitted on: all, or a seeded sample of ``max_fit_customers``."""
    if n <= settings.max_fit_customers:
        return np.ones(n, dtype=bool)
    keep = np.zeros(n, dtype=bool)
    keep[np.random.default_rng(settings.seed).choice(n, settings.max_fit_customers, replace=False)] = True
    return keep


def lifetime_values(ledger: Ledger, currencies: pl.DataFrame, settings: ClvSettings) -> LifetimeValues:
    """BG/NBD, Gamma-Gamma and CLV for every customer with an invoice.

    Args:
        ledger: point-in-time ledger.
        currencies: ``customer_id, currency`` (main currency) per customer.
        settings: horizon, discount rate, minimum sizes, penalizer.

    Returns:
        :class:`LifetimeValues` whose frame has ``customer_id, clv_frequency, clv_recency_weeks,
        clv_age_weeks, p_alive, expected_invoices, expected_amount, clv, clv_method`` (money in
        minor units of the main currency).
    """
    warnings: list[str] = []
    report: dict[str, Any] = {"time_unit": "weeks", "purchases": "invoices in the customer's main currency",
                              "horizon_months": settings.horizon_months,
                              "discount_rate_monthly": settings.discount_rate_monthly}
    purchases = (
        ledger.invoices.lazy().filter(pl.col("amount") > 0)
        .join(currencies.lazy().rename({"currency": "_main"}), on="customer_id")
        .filter(pl.col("currency") == pl.col("_main"))
    )
    summary = summary_data(purchases, "customer_id", "issue_date", "amount", observation_end=ledger.as_of,
                           freq="D", freq_multiplier=WEEK)
    mean_amount = purchases.group_by("customer_id").agg(pl.col("amount").mean().alias("_mean")).collect()
    summary = summary.join(mean_amount, on="customer_id", how="left").join(
        currencies, on="customer_id", how="left").sort("customer_id")
    x = summary.get_column("frequency").to_numpy().astype(np.float64)
    tx = summary.get_column("recency").to_numpy().astype(np.float64)
    t = summary.get_column("T").to_numpy().astype(np.float64)
    horizon = settings.horizon_months * PERIODS_PER_MONTH["W"]

    expected: Callable[[float], np.ndarray]
    sample = _fit_sample(summary.height, settings)
    report["fit_customers"] = int(sample.sum())
    repeaters = int((x > 0).sum())
    method = "bgnbd"
    try:
        if summary.height < settings.min_customers or repeaters < settings.min_repeat_customers:
            raise FitError(f"BG/NBD: {summary.height} customers, {repeaters} with repeat invoices; need "
                           f"{settings.min_customers} and {settings.min_repeat_customers}")
        fit = fit_bgnbd(x[sample], tx[sample], t[sample], penalizer=settings.penalizer)
        params = fit.params
        alive = probability_alive(params, x, tx, t)

        # Customers share (x, t_x, T) often (daily periods): evaluate the hypergeometric once per pattern.
        keys, inverse = np.unique(np.stack([x, tx, t], axis=1), axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)

        def expected(h: float) -> np.ndarray:
            return expected_purchases(params, h, keys[:, 0], keys[:, 1], keys[:, 2])[inverse]

        if not np.all(np.isfinite(expected(horizon))):
            raise FitError(f"BG/NBD: the fit degenerated (r={params.r:.3g}, alpha={params.alpha:.3g}, "
                           f"a={params.a:.3g}, b={params.b:.3g}): invoices too regular to identify the model")
        report["bgnbd"] = {"r": params.r, "alpha": params.alpha, "a": params.a, "b": params.b,
                           "log_likelihood": fit.log_likelihood, "customers": fit.subjects,
                           "repeat_customers": repeaters, "iterations": fit.iterations}
    except FitError as exc:
        method = "empirical"
        warnings.append(f"{exc}; lifetime figures use each customer's own invoice rate instead")
        report["bgnbd"] = {"fitted": False, "reason": str(exc), "customers": summary.height,
                           "repeat_customers": repeaters}
        expected, alive = _empirical(x, tx, t)

    spend = summary.get_column("_mean").to_numpy().astype(np.float64)
    spend_method = np.full(summary.height, "mean_amount", dtype=object)
    gg_report: dict[str, Any] = {}
    gg_failed: list[str] = []
    money = summary.get_column("monetary_value").to_numpy().astype(np.float64)
    cur = summary.get_column("currency").to_numpy()
    for currency in sorted({c for c in cur if c is not None}):
        rows = cur == currency
        n_rep = int(((x > 0) & rows).sum())
        entry: dict[str, Any] = {"repeat_customers": n_rep, "unit": "minor units"}
        gg_report[currency] = entry
        try:
            if n_rep < settings.min_repeat_customers:
                raise FitError(f"Gamma-Gamma ({currency}): {n_rep} repeat customers, need "
                               f"{settings.min_repeat_customers}")
            gg = fit_gamma_gamma(x[rows & sample], money[rows & sample], penalizer=settings.penalizer)
            entry.update(p=gg.params.p, q=gg.params.q, v=gg.params.v, log_likelihood=gg.log_likelihood,
                         customers=gg.subjects, iterations=gg.iterations,
                         population_mean_amount=gg.params.population_mean,
                         frequency_amount_correlation=gg.frequency_spend_correlation)
            spend[rows] = expected_spend(gg.params, x[rows], money[rows])
            spend_method[rows] = "gamma_gamma"
            entry["fitted"] = True
        except FitError as exc:
            gg_failed.append(currency)
            entry.update(fitted=False, reason=str(exc))
    report["gamma_gamma"] = gg_report
    if gg_failed:
        warnings.append(f"Gamma-Gamma not usable for {', '.join(gg_failed)} (see model_report.json); "
                        "expected amounts use each customer's mean invoice amount there")

    clv = customer_lifetime_value(expected, spend, months=settings.horizon_months,
                                  discount_rate=settings.discount_rate_monthly,
                                  periods_per_month=PERIODS_PER_MONTH["W"])
    future = expected(horizon)
    bad = ~(np.isfinite(clv) & np.isfinite(future) & np.isfinite(alive) & np.isfinite(spend))
    if bad.any():
        # Never a silent NaN: the customers the model cannot score get the transparent fallback.
        backup, backup_alive = _empirical(x, tx, t)
        spend = np.where(np.isfinite(spend), spend, summary.get_column("_mean").to_numpy())
        backup_clv = customer_lifetime_value(backup, spend, months=settings.horizon_months,
                                             discount_rate=settings.discount_rate_monthly,
                                             periods_per_month=PERIODS_PER_MONTH["W"])
        clv, future = np.where(bad, backup_clv, clv), np.where(bad, backup(horizon), future)
        alive = np.where(bad, backup_alive, alive)
        spend_method[bad] = "mean_amount"
        warnings.append(f"lifetime value: {int(bad.sum())} customer(s) got non-finite model figures; "
                        "the empirical fallback is used for them")
    frame = summary.select("customer_id").with_columns(
        pl.Series("clv_frequency", x.astype(np.int64)),
        pl.Series("clv_recency_weeks", np.round(tx, 4)),
        pl.Series("clv_age_weeks", np.round(t, 4)),
        pl.Series("p_alive", np.round(alive, 6)),
        pl.Series("expected_invoices", np.round(future, 4)),
        pl.Series("expected_amount", np.round(spend).astype(np.int64)),
        pl.Series("clv", np.round(clv).astype(np.int64)),
        pl.Series("_spend_method", spend_method.astype(str), dtype=pl.String),
        pl.Series("_bad", bad, dtype=pl.Boolean),
    ).with_columns(
        (pl.when(pl.col("_bad")).then(pl.lit("empirical")).otherwise(pl.lit(method)) + pl.lit("+")
         + pl.col("_spend_method")).alias("clv_method"),
    ).drop("_spend_method", "_bad")
    for w in warnings:
        log.debug("%s", w)
    return LifetimeValues(frame, report, tuple(warnings))
