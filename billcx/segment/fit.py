"""Fitting a :class:`~billcx.segment.population.Population`: the figures that depend on all customers.

:func:`prepare` computes every customer's own figures from the point-in-time ledger (behaviour,
RFM values, the risk history stream, the repeat-purchase summary); they depend only on the
customer's own rows.  :func:`fit_population` then ranks and fits on them: RFM and value-tier cut
points, the risk model, the lifetime models.  ``segment()`` scores customers against the result,
so a shard scored against the whole's population gets exactly the whole's figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from billcx.segment.behaviour import behaviour_features
from billcx.segment.features import History, build_history
from billcx.segment.ledger import Ledger, build_ledger
from billcx.segment.lifetime import LifetimeValues, fit_lifetime, purchase_summary, score_lifetime
from billcx.segment.population import Population
from billcx.segment.rfm import fit_rfm_cuts, rfm_values
from billcx.segment.risk import fit_risk_model, risk_params
from billcx.segment.settings import SegmentSettings
from billcx.segment.tiers import fit_value_cuts
from billcx.store import CleanData

DEFAULT_SETTINGS = SegmentSettings()
DEFAULT_TERMS_DAYS = 30.0


@dataclass(frozen=True)
class Prepared:
    """Every customer's own figures as of a date (nothing here compares customers).

    Attributes:
        ledger: the point-in-time ledger.
        behaviour: :func:`~billcx.segment.behaviour.behaviour_features`.
        rfm: :func:`~billcx.segment.rfm.rfm_values` (unscored).
        history: the risk model's history stream.
        summary: :func:`~billcx.segment.lifetime.purchase_summary`.
        warnings: data caveats (unknown time zones).
    """

    ledger: Ledger
    behaviour: pl.DataFrame
    rfm: pl.DataFrame
    history: History
    summary: pl.DataFrame
    warnings: tuple[str, ...]


def prepare(data: CleanData, as_of: dt.date, settings: SegmentSettings, *, latest: dt.date | None = None,
            step: Callable[[], None] | None = None) -> Prepared:
    """Each customer's own figures (see :class:`Prepared`).

    Args:
        data: the clean tables of the customers to prepare.
        as_of: the as-of date.
        settings: the stage settings.
        latest: the whole export's latest date (a shard passes the population's).
        step: called after the ledger, the behaviour and the RFM values (progress).
    """
    tick = step or (lambda: None)
    ledger = build_ledger(data, as_of, grace_days=settings.behaviour.grace_days, latest=latest)
    warnings: tuple[str, ...] = ()
    if ledger.unknown_timezones:
        warnings = (f"unknown time zone(s) {', '.join(ledger.unknown_timezones)}: payments read in UTC",)
    tick()
    behaviour = behaviour_features(ledger, settings.behaviour, window_days=settings.rfm.window_days)
    currencies = behaviour.select("customer_id", "currency")
    tick()
    rfm = rfm_values(ledger, currencies, window_days=settings.rfm.window_days)
    tick()
    history = build_history(ledger, history=settings.risk.history_invoices,
                            grace_days=settings.behaviour.grace_days)
    summary = purchase_summary(ledger, currencies)
    return Prepared(ledger, behaviour, rfm, history, summary, warnings)


def _typical_next_invoice(ledger: Ledger) -> tuple[float, float]:
    """Median amount and terms of all positive invoices: the next invoice of a customer without one."""
    pos = ledger.invoices.lazy().filter(pl.col("amount") > 0).select(
        pl.col("amount").median().alias("a"),
        (pl.col("due_date") - pl.col("issue_date")).dt.total_days().median().alias("t"),
    ).collect()
    amount, terms = pos["a"][0], pos["t"][0]
    return (float(amount) if amount is not None else 0.0,
            float(terms) if terms is not None else DEFAULT_TERMS_DAYS)


def fit_prepared(prepared: Prepared, settings: SegmentSettings) -> tuple[Population, LifetimeValues]:
    """Fit the population on prepared figures; also returns every customer's lifetime values.

    The lifetime values are scored here because the value tiers rank them; the caller scoring the
    same customers reuses them.
    """
    ledger = prepared.ledger
    risk_fit = fit_risk_model(ledger, prepared.history, settings.risk,
                              grace_days=settings.behaviour.grace_days)
    amount, terms = _typical_next_invoice(ledger)
    risk = risk_params(risk_fit.model, history_invoices=settings.risk.history_invoices, next_amount=amount,
                       next_terms_days=terms)
    lifetime, lifetime_report, lifetime_warnings = fit_lifetime(prepared.summary, settings.clv)
    values = score_lifetime(prepared.summary, lifetime, settings.clv)
    value = (
        prepared.rfm.select("customer_id", "currency", "monetary")
        .join(values.frame.select("customer_id", "clv"), on="customer_id", how="left")
        .select(pl.coalesce(pl.col("clv"), pl.col("monetary")).alias("value"), "currency")
    )
    population = Population(
        as_of=ledger.as_of, export_date=ledger.export_date, customers=prepared.behaviour.height,
        settings=settings, rfm=fit_rfm_cuts(prepared.rfm), value_tiers=fit_value_cuts(value, settings.tiers),
        risk=risk, lifetime=lifetime, risk_report=risk_fit.report, lifetime_report=lifetime_report,
        warnings=risk_fit.warnings + lifetime_warnings)
    return population, values


def fit_population(data: CleanData, *, as_of: dt.date | None = None,
                   settings: SegmentSettings = DEFAULT_SETTINGS) -> Population:
    """Fit the population-level parameters on every customer of ``data``.

    Args:
        data: the whole clean export (every customer: the population).
        as_of: only data up to this date is used; default: the latest date in the data.
        settings: the stage settings (scoring must use the same).

    Returns:
        A :class:`Population`; write it with :func:`billcx.segment.population.write_population`
        and score shards against it with ``segment(..., population=..., shard=...)``.

    Raises:
        InputError: no as-of date given and the data holds no dates.
    """
    as_of = as_of or data.latest_date()
    population, _ = fit_prepared(prepare(data, as_of, settings), settings)
    return population
