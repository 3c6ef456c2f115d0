"""``segment()``: score and tier every customer as of a date."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import polars as pl

from billcx.config import to_mapping
from billcx.segment.behaviour import behaviour_features
from billcx.segment.cohorts import cohort_table
from billcx.segment.features import History, build_history, point_in_time_features
from billcx.segment.ledger import Ledger, build_ledger
from billcx.segment.lifetime import lifetime_values
from billcx.segment.reasons import score
from billcx.segment.result import CUSTOMER_OUTPUT, INVOICE_RISK_OUTPUT, SegmentResult
from billcx.segment.rfm import GRID, rfm_scores
from billcx.segment.risk import RiskModel, fit_risk_model
from billcx.segment.settings import SegmentSettings
from billcx.segment.tiers import risk_tier, treatment, value_tier
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
                       settings: SegmentSettings) -> pl.DataFrame:
    """Each customer's risk for a typical next invoice issued the day after the as-of date."""
    pos = ledger.invoices.lazy().filter(pl.col("amount") > 0).with_columns(
        (pl.col("due_date") - pl.col("issue_date")).dt.total_days().alias("_terms"))
    typical = pos.group_by("customer_id").agg(pl.col("amount").median().alias("_amount"),
                                              pl.col("_terms").median().alias("_terms"))
    overall = pos.select(pl.col("amount").median().alias("a"), pl.col("_terms").median().alias("t"))
    typical_df, overall_df = pl.collect_all([typical, overall])
    default_amount = overall_df["a"][0] if overall_df.height and overall_df["a"][0] is not None else 0.0
    default_terms = overall_df["t"][0] if overall_df.height and overall_df["t"][0] is not None else 30.0
    queries = customers.select("customer_id").join(typical_df, on="customer_id", how="left").select(
        pl.col("customer_id").alias("query_id"), "customer_id",
        pl.lit(ledger.as_of + dt.timedelta(days=1)).alias("t"),
        pl.col("_amount").fill_null(default_amount).round(0).cast(pl.Int64).alias("amount"),
        pl.col("_terms").fill_null(default_terms).round(0).cast(pl.Int64).alias("terms_days"),
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
            on_progress: ProgressCallback | None = None) -> SegmentResult:
    """Score and tier every customer as of a date.

    Args:
        data: the clean contract tables (``CleanData.load(folder)`` or ``CleanData.from_frames``).
        as_of: only data up to this date influences any figure; default: the latest date in the data.
        settings: windows, thresholds, tiers and model parameters.
        on_progress: called as ``on_progress("segment", step, steps)`` after each step.

    Returns:
        A :class:`SegmentResult` (customers, invoice_risk, cohorts, model_report, as_of, warnings).

    Raises:
        InputError: no as-of date given and the data holds no dates.
    """
    as_of = as_of or data.latest_date()
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        log.debug("segment: %s done", _STEPS[done - 1])
        if on_progress is not None:
            on_progress(_TASK, done, len(_STEPS))

    ledger = build_ledger(data, as_of, grace_days=settings.behaviour.grace_days)
    warnings: list[str] = []
    if ledger.unknown_timezones:
        warnings.append(f"unknown time zone(s) {', '.join(ledger.unknown_timezones)}: payments read in UTC")
    step()
    behaviour = behaviour_features(ledger, settings.behaviour, window_days=settings.rfm.window_days)
    currencies = behaviour.select("customer_id", "currency")
    step()
    rfm = rfm_scores(ledger, currencies, window_days=settings.rfm.window_days)
    step()
    history = build_history(
        ledger, history=settings.risk.history_invoices, grace_days=settings.behaviour.grace_days
    )
    fit = fit_risk_model(ledger, history, settings.risk, grace_days=settings.behaviour.grace_days)
    warnings.extend(fit.warnings)
    invoice_risk = _invoice_risk(ledger, history, fit.model, settings)
    customer_risk = _next_invoice_risk(ledger, history, behaviour, fit.model, settings)
    step()
    lifetime = lifetime_values(ledger, currencies, settings.clv)
    warnings.extend(lifetime.warnings)
    step()
    cohorts = cohort_table(ledger).with_columns(pl.col("retention", "on_time_rate").round(4))
    step()
    customers = (
        behaviour.join(rfm, on="customer_id", how="left")
        .join(customer_risk, on="customer_id", how="left")
        .join(lifetime.frame, on="customer_id", how="left")
        .with_columns(value_tier(pl.coalesce(pl.col("clv"), pl.col("monetary")), pl.col("currency"),
                                 settings.tiers).alias("value_tier"),
                      risk_tier(pl.col("late_probability"), settings.tiers).alias("risk_tier"))
    )
    name, reason = treatment(settings.tiers)
    customers = CUSTOMER_OUTPUT.conform(customers.with_columns(
        name.alias("treatment"), reason.alias("treatment_reason"),
        pl.col("on_time_rate", "mean_days_late", "lateness_trend_days", "partial_payment_ratio").round(4),
    )).sort("customer_id")
    step()
    report = _report(ledger, customers, invoice_risk, fit.report, lifetime.report, settings, warnings)
    return SegmentResult(customers=customers, invoice_risk=invoice_risk, cohorts=cohorts, model_report=report,
                         as_of=as_of, warnings=tuple(warnings))


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
