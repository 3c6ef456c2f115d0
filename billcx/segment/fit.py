"""Fitting a :class:`~billcx.segment.population.Population`: the figures that depend on all customers.

:func:`prepare` computes every customer's own figures from the point-in-time ledger (behaviour,
RFM values, the repeat-purchase summary, risk-model training rows and the point-in-time features
of the invoices to score); they depend only on the customer's own rows, so they are computed one
chunk of customers at a time (:mod:`billcx.segment.chunks`).  Only the narrow :class:`FitInputs`
are stacked; :func:`fit_prepared` ranks and fits on them: RFM and value-tier cut points, the risk
model, the lifetime models.  ``segment()`` scores each chunk against the result, so a shard scored
against the whole's population gets exactly the whole's figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from billcx.segment.behaviour import behaviour_features
from billcx.segment.chunks import DataTotals, chunk_bounds, chunk_count, chunk_of, data_totals
from billcx.segment.cohorts import cohort_table
from billcx.segment.features import History, build_history, point_in_time_features
from billcx.segment.ledger import Ledger, build_ledger
from billcx.segment.lifetime import LifetimeValues, fit_lifetime, purchase_summary, score_lifetime
from billcx.segment.population import Population
from billcx.segment.result import INVOICE_RISK_OUTPUT
from billcx.segment.rfm import fit_rfm_cuts, rfm_values
from billcx.segment.risk import TrainingRows, fit_risk_rows, risk_params, sample_rate, training_rows
from billcx.segment.settings import SegmentSettings
from billcx.segment.tiers import fit_value_cuts
from billcx.store import CleanData

DEFAULT_SETTINGS = SegmentSettings()


@dataclass(frozen=True)
class LedgerFacts:
    """What the model report says about the ledger (sums and bounds over chunks)."""

    invoices: int = 0
    open_invoices: int = 0
    payments: int = 0
    first_issue_date: dt.date | None = None
    last_issue_date: dt.date | None = None

    @staticmethod
    def of(ledger: Ledger) -> LedgerFacts:
        inv = ledger.invoices
        if inv.height == 0:
            return LedgerFacts(payments=ledger.payments.height)
        return LedgerFacts(inv.height, int(inv.get_column("open").sum()), ledger.payments.height,
                           inv.get_column("issue_date").min(),  # type: ignore[arg-type]
                           inv.get_column("issue_date").max())  # type: ignore[arg-type]

    def __add__(self, other: LedgerFacts) -> LedgerFacts:
        firsts = [d for d in (self.first_issue_date, other.first_issue_date) if d is not None]
        lasts = [d for d in (self.last_issue_date, other.last_issue_date) if d is not None]
        return LedgerFacts(self.invoices + other.invoices, self.open_invoices + other.open_invoices,
                           self.payments + other.payments, min(firsts) if firsts else None,
                           max(lasts) if lasts else None)


@dataclass(frozen=True)
class Scoring:
    """The inputs of the late-payment scores of some customers (see :func:`prepare`).

    Attributes:
        open_invoices: invoices open on the as-of date (ledger rows), sorted by invoice id.
        open_features: their point-in-time features at their issue date (``query_id`` = invoice id).
        next_invoice: each customer's typical next invoice (issued the day after the as-of date)
            with its features.
        cohorts: the cohort table of these customers (counts add up over chunks).
        facts: what the model report says about the ledger.
    """

    open_invoices: pl.DataFrame
    open_features: pl.DataFrame
    next_invoice: pl.DataFrame
    cohorts: pl.DataFrame
    facts: LedgerFacts


@dataclass(frozen=True)
class Prepared:
    """The own figures of some customers (one chunk) as of a date (nothing here compares customers).

    Attributes:
        as_of: the as-of date.
        export_date: the whole export's latest date.
        behaviour: :func:`~billcx.segment.behaviour.behaviour_features` (sorted by customer id).
        rfm: :func:`~billcx.segment.rfm.rfm_values` (unscored, sorted by customer id).
        summary: :func:`~billcx.segment.lifetime.purchase_summary` (sorted by customer id).
        training: risk-model training rows (only when fitting).
        scoring: inputs of the risk scores and the cohorts (only when scoring).
        warnings: data caveats (unknown time zones).
    """

    as_of: dt.date
    export_date: dt.date
    behaviour: pl.DataFrame
    rfm: pl.DataFrame
    summary: pl.DataFrame
    training: TrainingRows | None
    scoring: Scoring | None
    warnings: tuple[str, ...]


def _open_invoices(ledger: Ledger, history: History) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Open invoices and their features at their issue date.

    Only what scoring reads is kept -- the ledger columns the invoice_risk output carries, the
    features and their query id -- since these frames wait on disk until the population is fitted.
    """
    open_inv = ledger.invoices.filter(pl.col("open") & (pl.col("amount") > 0))
    queries = open_inv.select(
        pl.col("invoice_id").alias("query_id"), "customer_id", pl.col("issue_date").alias("t"), "amount",
        (pl.col("due_date") - pl.col("issue_date")).dt.total_days().alias("terms_days"), "disputed")
    kept = open_inv.select(c for c in INVOICE_RISK_OUTPUT.names if c in open_inv.columns)
    features = point_in_time_features(queries, history).drop("customer_id", "t", "disputed")
    return kept.sort("invoice_id"), features


def _next_invoice(ledger: Ledger, history: History, customers: pl.DataFrame, next_amount: float,
                  next_terms_days: float) -> pl.DataFrame:
    """Each customer's typical next invoice, issued the day after the as-of date, with its features."""
    pos = ledger.invoices.lazy().filter(pl.col("amount") > 0).with_columns(
        (pl.col("due_date") - pl.col("issue_date")).dt.total_days().alias("_terms"))
    typical = pos.group_by("customer_id").agg(pl.col("amount").median().alias("_amount"),
                                              pl.col("_terms").median().alias("_terms")).collect()
    queries = customers.select("customer_id").join(typical, on="customer_id", how="left").select(
        pl.col("customer_id").alias("query_id"), "customer_id",
        pl.lit(ledger.as_of + dt.timedelta(days=1)).alias("t"),
        pl.col("_amount").fill_null(next_amount).round(0).cast(pl.Int64).alias("amount"),
        pl.col("_terms").fill_null(next_terms_days).round(0).cast(pl.Int64).alias("terms_days"),
        pl.lit(False).alias("disputed"),
    )
    return point_in_time_features(queries, history)


def prepare_chunk(data: CleanData, as_of: dt.date, settings: SegmentSettings, *, totals: DataTotals,
                  fit: bool, score: bool, step: Callable[[], None] | None = None) -> Prepared:
    """Each customer's own figures for the customers of ``data`` (one chunk; see :class:`Prepared`).

    Args:
        data: the clean tables of the customers to prepare.
        as_of: the as-of date.
        settings: the stage settings.
        totals: figures of the whole export (its latest date, the typical invoice, the size that
            sets the training sample).
        fit: compute the risk model's training rows.
        score: compute the inputs of the scores and the cohorts.
        step: called after the ledger, the behaviour, the RFM values and the rest (progress).
    """
    tick = step or (lambda: None)
    ledger = build_ledger(data, as_of, grace_days=settings.behaviour.grace_days, latest=totals.export_date)
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
    training = None
    if fit:
        training = training_rows(ledger, history, grace_days=settings.behaviour.grace_days,
                                 rate=sample_rate(totals.positive_invoices, settings.risk),
                                 seed=settings.risk.seed)
    scoring = None
    if score:
        open_inv, open_features = _open_invoices(ledger, history)
        scoring = Scoring(
            open_invoices=open_inv, open_features=open_features,
            next_invoice=_next_invoice(ledger, history, behaviour, totals.next_amount,
                                       totals.next_terms_days),
            cohorts=cohort_table(ledger).with_columns(pl.col("retention", "on_time_rate").round(4)),
            facts=LedgerFacts.of(ledger))
    tick()
    return Prepared(as_of, totals.export_date, behaviour, rfm, summary, training, scoring, warnings)


@dataclass(frozen=True)
class FitInputs:
    """What fitting the population and scoring lifetime values read, for every customer.

    Narrow per-customer tables, kept in memory across chunks while the wide scoring inputs wait
    in a :class:`~billcx.segment.spill.ChunkStore`.

    Attributes:
        as_of, export_date: as in :class:`Prepared`.
        customers: how many customers.
        rfm: RFM values (sorted by customer id).
        summary: the repeat-purchase summary (sorted by customer id).
        training: risk-model training rows (only when fitting).
        warnings: data caveats of every chunk.
    """

    as_of: dt.date
    export_date: dt.date
    customers: int
    rfm: pl.DataFrame
    summary: pl.DataFrame
    training: TrainingRows | None
    warnings: tuple[str, ...]

    @staticmethod
    def of(prepared: Prepared) -> FitInputs:
        """The fit inputs of one prepared chunk."""
        return FitInputs(prepared.as_of, prepared.export_date, prepared.behaviour.height, prepared.rfm,
                         prepared.summary, prepared.training, prepared.warnings)

    @staticmethod
    def combine(parts: list[FitInputs]) -> FitInputs:
        """The fit inputs of the union of chunks, given in chunk order (ranges of customer ids, so
        stacking them keeps customer order)."""
        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        training = None
        if first.training is not None:
            training = TrainingRows.combine([p.training for p in parts if p.training is not None])
        return FitInputs(first.as_of, first.export_date, sum(p.customers for p in parts),
                         pl.concat([p.rfm for p in parts], how="vertical"),
                         pl.concat([p.summary for p in parts], how="vertical"),
                         training, tuple(sorted({w for p in parts for w in p.warnings})))


def prepare_fit(data: CleanData, as_of: dt.date, settings: SegmentSettings, *, totals: DataTotals,
                bounds: tuple[str, ...] = ()) -> FitInputs:
    """The fit inputs of every customer of ``data``, prepared one chunk (range of ids) at a time."""
    parts = [FitInputs.of(prepare_chunk(chunk_of(data, bounds, index), as_of, settings, totals=totals,
                                        fit=True, score=False))
             for index in range(len(bounds) + 1)]
    return FitInputs.combine(parts)


def fit_prepared(prepared: FitInputs, settings: SegmentSettings,
                 totals: DataTotals) -> tuple[Population, LifetimeValues]:
    """Fit the population on every customer's fit inputs; also returns their lifetime values.

    The lifetime values are scored here because the value tiers rank them; the caller scoring the
    same customers reuses them.
    """
    assert prepared.training is not None, "prepare_chunk(..., fit=True) computes the training rows"
    risk_fit = fit_risk_rows(prepared.training, settings.risk, grace_days=settings.behaviour.grace_days)
    risk = risk_params(risk_fit.model, history_invoices=settings.risk.history_invoices,
                       next_amount=totals.next_amount, next_terms_days=totals.next_terms_days)
    lifetime, lifetime_report, lifetime_warnings = fit_lifetime(prepared.summary, settings.clv)
    values = score_lifetime(prepared.summary, lifetime, settings.clv)
    value = (
        prepared.rfm.select("customer_id", "currency", "monetary")
        .join(values.frame.select("customer_id", "clv"), on="customer_id", how="left")
        .select(pl.coalesce(pl.col("clv"), pl.col("monetary")).alias("value"), "currency")
    )
    population = Population(
        as_of=prepared.as_of, export_date=prepared.export_date, customers=prepared.customers,
        settings=settings, rfm=fit_rfm_cuts(prepared.rfm), value_tiers=fit_value_cuts(value, settings.tiers),
        risk=risk, lifetime=lifetime, risk_report=risk_fit.report, lifetime_report=lifetime_report,
        warnings=risk_fit.warnings + lifetime_warnings)
    return population, values


def fit_population(data: CleanData, *, as_of: dt.date | None = None,
                   settings: SegmentSettings = DEFAULT_SETTINGS,
                   chunk_invoices: int | None = None) -> Population:
    """Fit the population-level parameters on every customer of ``data``.

    Args:
        data: the whole clean export (every customer: the population).
        as_of: only data up to this date is used; default: the latest date in the data.
        settings: the stage settings (scoring must use the same).
        chunk_invoices: memory bound: about this many invoice rows are prepared at a time
            (the result does not depend on it).

    Returns:
        A :class:`Population`; write it with :func:`billcx.segment.population.write_population`
        and score shards against it with ``segment(..., population=..., shard=...)``.

    Raises:
        InputError: no as-of date given and the data holds no dates.
    """
    as_of = as_of or data.latest_date()
    totals = data_totals(data, as_of)
    bounds = chunk_bounds(data, chunk_count(data, chunk_invoices))
    population, _ = fit_prepared(prepare_fit(data, as_of, settings, totals=totals, bounds=bounds),
                                 settings, totals)
    return population
