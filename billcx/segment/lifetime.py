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

from billcx.segment.bgnbd import BgNbdParams, expected_purchases, fit_bgnbd, probability_alive
from billcx.segment.clv import PERIODS_PER_MONTH, customer_lifetime_value, summary_lazy
from billcx.segment.fitting import FitError
from billcx.segment.gamma_gamma import GammaGammaParams, expected_spend, fit_gamma_gamma
from billcx.segment.ledger import Ledger
from billcx.segment.population import LifetimeParams, SpendParams
from billcx.segment.settings import ClvSettings

log = logging.getLogger(__name__)

WEEK = 7.0


@dataclass(frozen=True)
class LifetimeValues:
    """Per-customer lifetime figures with the model report and warnings."""

    frame: pl.DataFrame
    report: dict[str, Any]
    warnings: tuple[str, ...]


def _typical_gap(x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> float:
    """The population's median gap between invoices (median age when nobody repeated)."""
    gaps = tx[x > 0] / x[x > 0]
    return float(np.median(gaps)) if gaps.size else float(np.median(t)) if t.size else 1.0


def _empirical(
    x: np.ndarray, tx: np.ndarray, t: np.ndarray, typical: float
) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    rate = np.where(t > 0, x / np.where(t > 0, t, 1.0), 0.0)
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


def purchase_summary(ledger: Ledger, currencies: pl.DataFrame) -> pl.DataFrame:
    """The repeat-purchase summary of every customer with an invoice in their main currency.

    Returns:
        ``customer_id, frequency, recency, T, monetary_value, _mean, currency`` (weeks; ``_mean`` the
        mean invoice amount) sorted by ``customer_id``.
    """
    purchases = (
        ledger.invoices.lazy().filter(pl.col("amount") > 0)
        .join(currencies.lazy().rename({"currency": "_main"}), on="customer_id")
        .filter(pl.col("currency") == pl.col("_main"))
    )
    summary = summary_lazy(purchases, "customer_id", "issue_date", "amount", observation_end=ledger.as_of,
                           freq="D", freq_multiplier=WEEK, mean_as="_mean")
    return summary.join(currencies.lazy(), on="customer_id", how="left").sort("customer_id").collect()


def _arrays(summary: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(summary.get_column(c).to_numpy().astype(np.float64)  # type: ignore[return-value]
                 for c in ("frequency", "recency", "T"))


def _bgnbd(params: LifetimeParams) -> BgNbdParams:
    assert params.r is not None and params.alpha is not None and params.a is not None and params.b is not None
    return BgNbdParams(params.r, params.alpha, params.a, params.b)


def _bgnbd_expected(params: BgNbdParams, x: np.ndarray, tx: np.ndarray,
                    t: np.ndarray) -> Callable[[float], np.ndarray]:
    # Customers share (x, t_x, T) often (daily periods): evaluate the hypergeometric once per pattern.
    # A hash group-by finds them: np.unique(axis=0) sorts rows, ~1 s per 500k customers.
    rows = pl.DataFrame({"x": x, "tx": tx, "t": t})
    keys = rows.unique(maintain_order=True).with_row_index("_k")
    inverse = rows.join(keys, on=["x", "tx", "t"], how="left", maintain_order="left") \
        .get_column("_k").to_numpy()
    kx, ktx, kt = (keys.get_column(c).to_numpy() for c in ("x", "tx", "t"))

    def expected(h: float) -> np.ndarray:
        return expected_purchases(params, h, kx, ktx, kt)[inverse]

    return expected


def fit_lifetime(summary: pl.DataFrame, settings: ClvSettings) -> tuple[LifetimeParams, dict[str, Any],
                                                                         tuple[str, ...]]:
    """Fit BG/NBD and Gamma-Gamma on a population's :func:`purchase_summary`, or decide the fallback.

    Returns:
        The parameters, the report section and the warnings (fallbacks taken).
    """
    warnings: list[str] = []
    report: dict[str, Any] = {"time_unit": "weeks", "purchases": "invoices in the customer's main currency",
                              "horizon_months": settings.horizon_months,
                              "discount_rate_monthly": settings.discount_rate_monthly}
    x, tx, t = _arrays(summary)
    horizon = settings.horizon_months * PERIODS_PER_MONTH["W"]
    sample = _fit_sample(summary.height, settings)
    report["fit_customers"] = int(sample.sum())
    repeaters = int((x > 0).sum())
    bg: BgNbdParams | None = None
    try:
        if summary.height < settings.min_customers or repeaters < settings.min_repeat_customers:
            raise FitError(f"BG/NBD: {summary.height} customers, {repeaters} with repeat invoices; need "
                           f"{settings.min_customers} and {settings.min_repeat_customers}")
        fit = fit_bgnbd(x[sample], tx[sample], t[sample], penalizer=settings.penalizer)
        params = fit.params
        if not np.all(np.isfinite(_bgnbd_expected(params, x, tx, t)(horizon))):
            raise FitError(f"BG/NBD: the fit degenerated (r={params.r:.3g}, alpha={params.alpha:.3g}, "
                           f"a={params.a:.3g}, b={params.b:.3g}): invoices too regular to identify the model")
        bg = params
        report["bgnbd"] = {"r": params.r, "alpha": params.alpha, "a": params.a, "b": params.b,
                           "log_likelihood": fit.log_likelihood, "customers": fit.subjects,
                           "repeat_customers": repeaters, "iterations": fit.iterations}
    except FitError as exc:
        warnings.append(f"{exc}; lifetime figures use each customer's own invoice rate instead")
        report["bgnbd"] = {"fitted": False, "reason": str(exc), "customers": summary.height,
                           "repeat_customers": repeaters}

    gg_report: dict[str, Any] = {}
    gg_failed: list[str] = []
    spend: list[SpendParams] = []
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
            expected_spend(gg.params, x[rows][:0], money[rows][:0])  # raises when q <= 1
            spend.append(SpendParams(currency, gg.params.p, gg.params.q, gg.params.v))
            entry["fitted"] = True
        except FitError as exc:
            gg_failed.append(currency)
            entry.update(fitted=False, reason=str(exc))
    report["gamma_gamma"] = gg_report
    if gg_failed:
        warnings.append(f"Gamma-Gamma not usable for {', '.join(gg_failed)} (see model_report.json); "
                        "expected amounts use each customer's mean invoice amount there")
    for w in warnings:
        log.debug("%s", w)
    params_out = LifetimeParams(
        method="bgnbd" if bg is not None else "empirical",
        r=bg.r if bg else None, alpha=bg.alpha if bg else None,
        a=bg.a if bg else None, b=bg.b if bg else None,
        typical_gap_weeks=_typical_gap(x, tx, t), spend=tuple(spend))
    return params_out, report, tuple(warnings)


def score_lifetime(summary: pl.DataFrame, params: LifetimeParams, settings: ClvSettings) -> LifetimeValues:
    """P(alive), expected invoices and amount, and CLV of each customer of ``summary``.

    Args:
        summary: :func:`purchase_summary` of the customers to score.
        params: the population's lifetime models (:func:`fit_lifetime`).
        settings: horizon and discount rate.

    Returns:
        :class:`LifetimeValues` whose frame has ``customer_id, clv_frequency, clv_recency_weeks,
        clv_age_weeks, p_alive, expected_invoices, expected_amount, clv, clv_method`` (money in
        minor units of the main currency); its report is empty, its warnings name customers the
        models could not score.
    """
    warnings: list[str] = []
    x, tx, t = _arrays(summary)
    horizon = settings.horizon_months * PERIODS_PER_MONTH["W"]
    expected: Callable[[float], np.ndarray]
    if params.method == "bgnbd":
        bg = _bgnbd(params)
        alive = probability_alive(bg, x, tx, t)
        expected = _bgnbd_expected(bg, x, tx, t)
    else:
        expected, alive = _empirical(x, tx, t, params.typical_gap_weeks)

    spend = summary.get_column("_mean").to_numpy().astype(np.float64)
    spend_method = np.full(summary.height, "mean_amount", dtype=object)
    money = summary.get_column("monetary_value").to_numpy().astype(np.float64)
    cur = summary.get_column("currency").to_numpy()
    for gg in params.spend:
        rows = cur == gg.currency
        spend[rows] = expected_spend(GammaGammaParams(gg.p, gg.q, gg.v), x[rows], money[rows])
        spend_method[rows] = "gamma_gamma"

    clv = customer_lifetime_value(expected, spend, months=settings.horizon_months,
                                  discount_rate=settings.discount_rate_monthly,
                                  periods_per_month=PERIODS_PER_MONTH["W"])
    future = expected(horizon)
    bad = ~(np.isfinite(clv) & np.isfinite(future) & np.isfinite(alive) & np.isfinite(spend))
    if bad.any():
        # Never a silent NaN: the customers the model cannot score get the transparent fallback.
        backup, backup_alive = _empirical(x, tx, t, params.typical_gap_weeks)
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
        (pl.when(pl.col("_bad")).then(pl.lit("empirical")).otherwise(pl.lit(params.method)) + pl.lit("+")
         + pl.col("_spend_method")).alias("clv_method"),
    ).drop("_spend_method", "_bad")
    for w in warnings:
        log.debug("%s", w)
    return LifetimeValues(frame, {}, tuple(warnings))


def lifetime_values(ledger: Ledger, currencies: pl.DataFrame, settings: ClvSettings) -> LifetimeValues:
    """BG/NBD, Gamma-Gamma and CLV for every customer with an invoice, fitted on those customers.

    Args:
        ledger: point-in-time ledger.
        currencies: ``customer_id, currency`` (main currency) per customer.
        settings: horizon, discount rate, minimum sizes, penalizer.

    Returns:
        :class:`LifetimeValues` (frame as :func:`score_lifetime`; report and warnings of the fit
        and the scoring).
    """
    summary = purchase_summary(ledger, currencies)
    params, report, warnings = fit_lifetime(summary, settings)
    scored = score_lifetime(summary, params, settings)
    return LifetimeValues(scored.frame, report, warnings + scored.warnings)
