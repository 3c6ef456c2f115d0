"""``segment()``: score and tier every customer as of a date."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from billcx.config import to_mapping
from billcx.segment.chunks import DataTotals, chunk_bounds, chunk_count, chunk_of, data_totals, in_chunk
from billcx.segment.cohorts import merge_cohorts
from billcx.segment.fit import FitInputs, LedgerFacts, Prepared, fit_population, fit_prepared, prepare_chunk
from billcx.segment.lifetime import score_lifetime
from billcx.segment.population import Population
from billcx.segment.reasons import score
from billcx.segment.result import CUSTOMER_OUTPUT, INVOICE_RISK_OUTPUT, SegmentResult
from billcx.segment.rfm import GRID, score_rfm
from billcx.segment.risk import RiskModel, risk_model
from billcx.segment.settings import SegmentSettings
from billcx.segment.spill import ChunkStore
from billcx.segment.tiers import risk_tier, treatment, value_tier_from_cuts
from billcx.shard import Shard
from billcx.store import CleanData

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
# Each chunk of customers reports four steps (see fit.prepare_chunk), the fit one, then each chunk one.
_CHUNK_STEP_NAMES = ("reading the ledger", "payment behaviour", "RFM", "history and risk inputs")
_CHUNK_STEPS = len(_CHUNK_STEP_NAMES)
_FIT_STEP = "risk model and lifetime value"
_SCORE_STEP = "scores and tiers"
_TASK = "segment"
DEFAULT_SETTINGS = SegmentSettings()


def _invoice_risk(open_inv: pl.DataFrame, feats: pl.DataFrame, model: RiskModel,
                  settings: SegmentSettings) -> pl.DataFrame:
    """Score every invoice open on the as-of date (``feats``: its features at its issue date)."""
    grace = settings.behaviour.grace_days
    scored = score(feats, model, reasons=settings.risk.reasons).select(
        pl.col("query_id").alias("invoice_id"), pl.col("late_probability").alias("model_probability"),
        pl.col("reasons").alias("_model_reasons"))
    late_now = pl.col("days_overdue").fill_null(0) > grace
    overdue_words = pl.format(
        "invoice is {} overdue",
        pl.format(
            "{} {}",
            pl.col("days_overdue"),
            pl.when(pl.col("days_overdue") == 1).then(pl.lit("day")).otherwise(pl.lit("days")),
        ),
    )
    out = open_inv.join(scored, on="invoice_id", how="left").with_columns(
        # Past due date + grace the invoice *is* late: certainty, with the model's view kept beside it.
        pl.when(late_now).then(pl.lit(1.0)).otherwise(pl.col("model_probability")).alias("late_probability"),
        # An overdue invoice keeps the model's reasons only when they explain lateness too.
        pl.when(late_now & (pl.col("model_probability") >= model.base_rate))
        .then(pl.concat_list(pl.concat_list(overdue_words),
                             pl.col("_model_reasons").list.head(settings.risk.reasons - 1)))
        .when(late_now).then(pl.concat_list(overdue_words))
        .otherwise(pl.col("_model_reasons")).alias("_reasons"),
    ).with_columns(
        # The dispute flag has no date, so it is not a model feature; it is still worth saying.
        pl.when(pl.col("disputed")).then(pl.concat_list(pl.lit(["invoice is disputed"]), pl.col("_reasons")))
        .otherwise(pl.col("_reasons")).alias("reasons"),
        pl.lit(model.method).alias("risk_method"),
    )
    return INVOICE_RISK_OUTPUT.conform(out.with_columns(
        pl.col("late_probability", "model_probability").round(6))).sort("invoice_id")


def _next_invoice_risk(next_invoice: pl.DataFrame, model: RiskModel,
                       settings: SegmentSettings) -> pl.DataFrame:
    """Each customer's risk for a typical next invoice issued the day after the as-of date."""
    return score(next_invoice, model, reasons=settings.risk.reasons).select(
        pl.col("query_id").alias("customer_id"), pl.col("late_probability").round(6),
        pl.col("reasons").alias("risk_reasons"), pl.lit(model.method).alias("risk_method"))


def _sizes(frame: pl.DataFrame, column: str) -> dict[str, int]:
    counts = frame.group_by(column).len().sort(column, nulls_last=True)
    return {str(k): int(v) for k, v in counts.iter_rows()}


def segment(data: CleanData, *, as_of: dt.date | None = None, settings: SegmentSettings = DEFAULT_SETTINGS,
            population: Population | None = None, shard: Shard | None = None,
            chunk_invoices: int | None = None, workdir: Path | None = None,
            on_progress: ProgressCallback | None = None) -> SegmentResult:
    """Score and tier every customer (or every customer of one shard) as of a date.

    Customers are prepared one chunk (a range of customer ids) at a time; each chunk's wide
    scoring inputs wait on disk (:class:`~billcx.segment.spill.ChunkStore`) while the population
    is fitted on the narrow inputs of all of them, and are then scored chunk by chunk.

    Args:
        data: the clean contract tables (``CleanData.load(folder)`` or ``CleanData.from_frames``):
            the whole export when a shard is given.
        as_of: only data up to this date influences any figure; default: the population's as-of
            date, else the latest date in the data.
        settings: windows, thresholds, tiers and model parameters.
        population: population-level parameters to score against (:func:`fit_population`);
            default: fitted on ``data`` (on all of it, also when a shard is given).
        shard: score only the customers of this shard (:meth:`CleanData.shard`); their figures
            are those of the unsharded run.
        chunk_invoices: memory bound: customers are prepared in chunks of about this many invoice
            rows (default :data:`billcx.segment.chunks.DEFAULT_CHUNK_INVOICES`); no figure depends on it.
        workdir: where chunks wait between preparing and scoring when there are several (a
            temporary ``billcx-segment-*`` folder, removed at the end); default: the system's
            temporary folder.
        on_progress: called as ``on_progress("segment", step, steps)`` after each step.

    Returns:
        A :class:`SegmentResult` (customers, invoice_risk, cohorts, model_report, as_of, warnings,
        population).

    Raises:
        InputError: no as-of date given and the data holds no dates.
        UsageError: ``population`` was fitted for another as-of date or with other settings.
    """
    if population is not None:
        as_of = population.check(as_of=as_of, settings=settings)
    as_of = as_of or data.latest_date()
    scored = data.shard(shard) if shard is not None else data
    bounds = chunk_bounds(scored, chunk_count(scored, chunk_invoices))
    chunks = len(bounds) + 1
    total = len(progress_steps(chunks))
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        log.debug("segment: step %d of %d done", done, total)
        if on_progress is not None:
            on_progress(_TASK, done, total)

    fitted_here = population is None and shard is None
    if fitted_here:
        totals = data_totals(data, as_of)
    else:
        if population is None:
            population = fit_population(data, as_of=as_of, settings=settings, chunk_invoices=chunk_invoices)
        totals = DataTotals(export_date=population.export_date, positive_invoices=0,
                            next_amount=population.risk.next_amount,
                            next_terms_days=population.risk.next_terms_days)
    with ChunkStore(spill=chunks > 1, folder=workdir) as store:
        fits: list[FitInputs] = []
        for index in range(chunks):
            part = prepare_chunk(chunk_of(scored, bounds, index), as_of, settings, totals=totals,
                                 fit=fitted_here, score=True, step=step)
            fits.append(FitInputs.of(part))
            store.put(index, part)
            del part
        inputs = FitInputs.combine(fits)
        del fits
        if fitted_here:
            population, lifetime = fit_prepared(inputs, settings, totals)
        else:
            assert population is not None
            lifetime = score_lifetime(inputs.summary, population.lifetime, settings.clv)
        step()
        model = risk_model(population.risk)
        warnings = [*inputs.warnings, *population.warnings, *lifetime.warnings]
        scores = []
        for index in range(chunks):
            values = lifetime.frame.filter(in_chunk(bounds, index)) if bounds else lifetime.frame
            scores.append(_score_chunk(store.take(index), population, model, values, settings))
            step()
    return _result(scores, inputs, population, settings, warnings,
                   about=None if fitted_here else _about(population, shard))


def progress_steps(chunks: int) -> tuple[str, ...]:
    """The names of the steps ``segment`` reports through ``on_progress`` when run in ``chunks`` chunks."""

    def named(name: str, i: int) -> str:
        return f"{name} (chunk {i + 1}/{chunks})" if chunks > 1 else name

    prepared = [named(name, i) for i in range(chunks) for name in _CHUNK_STEP_NAMES]
    return (*prepared, _FIT_STEP, *(named(_SCORE_STEP, i) for i in range(chunks)))


def _about(population: Population, shard: Shard | None) -> dict[str, Any]:
    """The model report's note on a run scored against a population fitted elsewhere."""
    return {"shard": str(shard) if shard is not None else None,
            "population": {"as_of": population.as_of.isoformat(), "customers": population.customers,
                           "export_date": population.export_date.isoformat()}}


@dataclass(frozen=True)
class _Scored:
    """The scored outputs of one chunk."""

    customers: pl.DataFrame
    invoice_risk: pl.DataFrame
    cohorts: pl.DataFrame
    facts: LedgerFacts


def _score_chunk(prepared: Prepared, population: Population, model: RiskModel, lifetime: pl.DataFrame,
                 settings: SegmentSettings) -> _Scored:
    """Score one prepared chunk against a population (``lifetime``: the chunk's lifetime values)."""
    assert prepared.scoring is not None, "prepare_chunk(..., score=True) computes the scoring inputs"
    scoring = prepared.scoring
    rfm = score_rfm(prepared.rfm, population.rfm)
    invoice_risk = _invoice_risk(scoring.open_invoices, scoring.open_features, model, settings)
    customer_risk = _next_invoice_risk(scoring.next_invoice, model, settings)
    customers = (
        prepared.behaviour.join(rfm, on="customer_id", how="left")
        .join(customer_risk, on="customer_id", how="left")
        .join(lifetime, on="customer_id", how="left")
    )
    values = customers.select(pl.coalesce(pl.col("clv"), pl.col("monetary")).alias("value"), "currency")
    customers = customers.with_columns(
        value_tier_from_cuts(values, population.value_tiers, settings.tiers),
        risk_tier(pl.col("late_probability"), settings.tiers).alias("risk_tier"))
    name, reason = treatment(settings.tiers)
    customers = CUSTOMER_OUTPUT.conform(customers.with_columns(
        name.alias("treatment"), reason.alias("treatment_reason"),
        pl.col("on_time_rate", "mean_days_late", "lateness_trend_days", "partial_payment_ratio").round(4),
    )).sort("customer_id")
    return _Scored(customers, invoice_risk, scoring.cohorts, scoring.facts)


def _result(scores: list[_Scored], inputs: FitInputs, population: Population, settings: SegmentSettings,
            warnings: list[str], *, about: dict[str, Any] | None) -> SegmentResult:
    """The stage's result from the scored chunks (in chunk order, so customers stay in id order)."""
    if len(scores) == 1:
        only = scores[0]
        customers, invoice_risk, cohorts, facts = only.customers, only.invoice_risk, only.cohorts, only.facts
    else:
        customers = pl.concat([s.customers for s in scores], how="vertical")
        invoice_risk = pl.concat([s.invoice_risk for s in scores], how="vertical").sort("invoice_id")
        cohorts = merge_cohorts([s.cohorts for s in scores])
        facts = LedgerFacts()
        for s in scores:
            facts = facts + s.facts
    report = _report(inputs, facts, customers, invoice_risk, population.risk_report,
                     population.lifetime_report, settings, warnings)
    if about is not None:
        report.update(about)
    return SegmentResult(customers=customers, invoice_risk=invoice_risk, cohorts=cohorts, model_report=report,
                         as_of=inputs.as_of, warnings=tuple(warnings), population=population)


def _report(prepared: FitInputs, facts: LedgerFacts, customers: pl.DataFrame, invoice_risk: pl.DataFrame,
            risk: dict[str, Any], lifetime: dict[str, Any], settings: SegmentSettings,
            warnings: list[str]) -> dict[str, Any]:
    def day(d: dt.date | None) -> str | None:
        return str(d) if d is not None else None

    return {
        "as_of": prepared.as_of.isoformat(),
        "data": {
            "customers": customers.height,
            "invoices": facts.invoices,
            "open_invoices": facts.open_invoices,
            "payments": facts.payments,
            "first_issue_date": day(facts.first_issue_date),
            "last_issue_date": day(facts.last_issue_date),
            "export_date": prepared.export_date.isoformat(),
        },
        "risk": risk,
        "lifetime": lifetime,
        "rfm": {
            "window_days": settings.rfm.window_days,
            "tie_policy": "no activity scores 1; others ranked, ties share their average rank; "
            "score = ceil(5 * (rank - 1/2) / n); monetary ranked within currency",
            "grid": {str(r): list(GRID[r]) for r in sorted(GRID, reverse=True)},
        },
        "sizes": {
            "rfm_segment": _sizes(customers, "rfm_segment"),
            "treatment": _sizes(customers, "treatment"),
            "value_tier": _sizes(customers, "value_tier"),
            "risk_tier": _sizes(customers, "risk_tier"),
            "scored_open_invoices": invoice_risk.height,
        },
        "settings": to_mapping(settings),
        "warnings": list(warnings),
    }
