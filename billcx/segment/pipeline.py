"""``segment()``: score and tier every customer as of a date."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import polars as pl

from billcx.config import to_mapping
from billcx.segment.cohorts import cohort_table
from billcx.segment.features import History, point_in_time_features
from billcx.segment.fit import Prepared, fit_population, fit_prepared, prepare
from billcx.segment.ledger import Ledger
from billcx.segment.lifetime import LifetimeValues, score_lifetime
from billcx.segment.population import Population
from billcx.segment.reasons import score
from billcx.segment.result import CUSTOMER_OUTPUT, INVOICE_RISK_OUTPUT, SegmentResult
from billcx.segment.rfm import GRID, score_rfm
from billcx.segment.risk import RiskModel, risk_model
from billcx.segment.settings import SegmentSettings
from billcx.segment.tiers import risk_tier, treatment, value_tier_from_cuts
from billcx.shard import Shard
from billcx.store import CleanData

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
_STEPS = (
    "reading the ledger",
    "payment behaviour",
    "RFM",
    "risk model",
    "lifetime value",
    "cohorts",
    "tiers",
)
_TASK = "segment"
DEFAULT_SETTINGS = SegmentSettings()


def _invoice_risk(
    ledger: Ledger, history: History, model: RiskModel, settings: SegmentSettings
) -> pl.DataFrame:
    """Score every invoice open on the as-of date (features at its issue date)."""
    grace = settings.behaviour.grace_days
    open_inv = ledger.invoices.filter(pl.col("open") & (pl.col("amount") > 0))
    queries = open_inv.select(
        pl.col("invoice_id").alias("query_id"), "customer_id", pl.col("issue_date").alias("t"), "amount",
        (pl.col("due_date") - pl.col("issue_date")).dt.total_days().alias("terms_days"), "disputed")
    feats = point_in_time_features(queries, history)
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


def _next_invoice_risk(ledger: Ledger, history: History, customers: pl.DataFrame, model: RiskModel,
                       population: Population, settings: SegmentSettings) -> pl.DataFrame:
    """Each customer's risk for a typical next invoice issued the day after the as-of date."""
    pos = ledger.invoices.lazy().filter(pl.col("amount") > 0).with_columns(
        (pl.col("due_date") - pl.col("issue_date")).dt.total_days().alias("_terms"))
    typical_df = pos.group_by("customer_id").agg(pl.col("amount").median().alias("_amount"),
                                                 pl.col("_terms").median().alias("_terms")).collect()
    queries = customers.select("customer_id").join(typical_df, on="customer_id", how="left").select(
        pl.col("customer_id").alias("query_id"), "customer_id",
        pl.lit(ledger.as_of + dt.timedelta(days=1)).alias("t"),
        pl.col("_amount").fill_null(population.risk.next_amount).round(0).cast(pl.Int64).alias("amount"),
        pl.col("_terms").fill_null(population.risk.next_terms_days).round(0).cast(pl.Int64).alias("terms_days"),
        pl.lit(False).alias("disputed"),
    )
    feats = point_in_time_features(queries, history)
    return score(feats, model, reasons=settings.risk.reasons).select(
        pl.col("query_id").alias("customer_id"), pl.col("late_probability").round(6),
        pl.col("reasons").alias("risk_reasons"), pl.lit(model.method).alias("risk_method"))


def _sizes(frame: pl.DataFrame, column: str) -> dict[str, int]:
    counts = frame.group_by(column).len().sort(column, nulls_last=True)
    return {str(k): int(v) for k, v in counts.iter_rows()}


def segment(data: CleanData, *, as_of: dt.date | None = None, settings: SegmentSettings = DEFAULT_SETTINGS,
            population: Population | None = None, shard: Shard | None = None,
            on_progress: ProgressCallback | None = None) -> SegmentResult:
    """Score and tier every customer (or every customer of one shard) as of a date.

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
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        log.debug("segment: %s done", _STEPS[done - 1])
        if on_progress is not None:
            on_progress(_TASK, done, len(_STEPS))

    lifetime: LifetimeValues | None = None
    if population is None and shard is None:
        prepared = prepare(data, as_of, settings, step=step)
        population, lifetime = fit_prepared(prepared, settings)
        fitted_here = True
    else:
        if population is None:
            population = fit_population(data, as_of=as_of, settings=settings)
        scored = data.shard(shard) if shard is not None else data
        prepared = prepare(scored, as_of, settings, latest=population.export_date, step=step)
        fitted_here = False
    return _score(prepared, population, settings, step, lifetime=lifetime,
                  about=None if fitted_here else _about(population, shard))


def _about(population: Population, shard: Shard | None) -> dict[str, Any]:
    """The model report's note on a run scored against a population fitted elsewhere."""
    return {"shard": str(shard) if shard is not None else None,
            "population": {"as_of": population.as_of.isoformat(), "customers": population.customers,
                           "export_date": population.export_date.isoformat()}}


def _score(prepared: Prepared, population: Population, settings: SegmentSettings, step: Callable[[], None],
           *, lifetime: LifetimeValues | None, about: dict[str, Any] | None) -> SegmentResult:
    """Score prepared customers against a population (see :func:`segment`)."""
    ledger, behaviour = prepared.ledger, prepared.behaviour
    warnings = [*prepared.warnings, *population.warnings]
    rfm = score_rfm(prepared.rfm, population.rfm)
    model = risk_model(population.risk)
    invoice_risk = _invoice_risk(ledger, prepared.history, model, settings)
    customer_risk = _next_invoice_risk(ledger, prepared.history, behaviour, model, population, settings)
    step()
    if lifetime is None:
        lifetime = score_lifetime(prepared.summary, population.lifetime, settings.clv)
    warnings.extend(lifetime.warnings)
    step()
    cohorts = cohort_table(ledger).with_columns(pl.col("retention", "on_time_rate").round(4))
    step()
    customers = (
        behaviour.join(rfm, on="customer_id", how="left")
        .join(customer_risk, on="customer_id", how="left")
        .join(lifetime.frame, on="customer_id", how="left")
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
    step()
    report = _report(ledger, customers, invoice_risk, population.risk_report, population.lifetime_report,
                     settings, warnings)
    if about is not None:
        report.update(about)
    return SegmentResult(customers=customers, invoice_risk=invoice_risk, cohorts=cohorts, model_report=report,
                         as_of=ledger.as_of, warnings=tuple(warnings), population=population)


def _report(ledger: Ledger, customers: pl.DataFrame, invoice_risk: pl.DataFrame, risk: dict[str, Any],
            lifetime: dict[str, Any], settings: SegmentSettings, warnings: list[str]) -> dict[str, Any]:
    inv = ledger.invoices
    return {
        "as_of": ledger.as_of.isoformat(),
        "data": {
            "customers": customers.height,
            "invoices": inv.height,
            "open_invoices": int(inv.get_column("open").sum()) if inv.height else 0,
            "payments": ledger.payments.height,
            "first_issue_date": str(inv.get_column("issue_date").min()) if inv.height else None,
            "last_issue_date": str(inv.get_column("issue_date").max()) if inv.height else None,
            "export_date": ledger.export_date.isoformat(),
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
