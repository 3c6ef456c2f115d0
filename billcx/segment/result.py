"""The segment stage's result, its output tables (declared once) and how they are written.

``customers`` and ``invoice_risk`` start with the contract columns of
:data:`billcx.schema.SEGMENTS` / :data:`billcx.schema.INVOICE_RISK`, in that order; the further
columns are declared here so exports, documentation and tests share one definition.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from billcx.atomic import write_text
from billcx.exitcodes import ExitCode
from billcx.export import Format, write_table
from billcx.schema import INVOICE_RISK, SEGMENTS, Column, Kind, Table
from billcx.segment.behaviour import AGING_BUCKETS
from billcx.segment.cohorts import COHORT_COLUMNS
from billcx.segment.population import FILE_NAME as POPULATION_FILE
from billcx.segment.population import Population, write_population

CUSTOMER_OUTPUT = Table(
    name=SEGMENTS.name,
    file_stem=SEGMENTS.file_stem,
    description="One row per customer: scores, tiers, behaviour and lifetime value as of the as-of date.",
    key="customer_id",
    columns=(
        *SEGMENTS.columns,
        Column("treatment_reason", Kind.TEXT, "Why the treatment was chosen, in words."),
        Column("risk_reasons", Kind.LIST, "Top reasons of late_probability (next invoice), in words."),
        Column(
            "risk_method", Kind.CHOICE, "logistic model or transparent rules.", choices=("logistic", "rules")
        ),
        Column("recency_days", Kind.INT, "Days since the last payment (null: never paid)."),
        Column("frequency", Kind.INT, "Days with a payment in the RFM window."),
        Column("monetary", Kind.MONEY, "Money received in the RFM window, main currency."),
        Column("r_score", Kind.INT, "Recency score 1-5.", dtype_override=pl.Int8()),
        Column("f_score", Kind.INT, "Frequency score 1-5.", dtype_override=pl.Int8()),
        Column("m_score", Kind.INT, "Monetary score 1-5 (within the currency).", dtype_override=pl.Int8()),
        Column("fm_score", Kind.INT, "(F + M) / 2 rounded half up.", dtype_override=pl.Int8()),
        Column("rfm_score", Kind.TEXT, "R, F and M scores as three digits."),
        Column("currency", Kind.CURRENCY, "Main currency (of the latest invoice)."),
        Column("open_balance", Kind.MONEY, "Open balance in the main currency."),
        Column("overdue_balance", Kind.MONEY, "Overdue part of the open balance, main currency."),
        Column("balances", Kind.LIST, "Open and overdue balance of every currency owed."),
        Column("currencies_owed", Kind.INT, "Currencies with a positive open balance."),
        Column("open_invoices", Kind.INT, "Open invoices."),
        Column("overdue_invoices", Kind.INT, "Open invoices past their due date."),
        Column("oldest_overdue_days", Kind.INT, "Days the oldest overdue invoice is past due."),
        Column("aging_bucket", Kind.CHOICE, "Aging of the oldest overdue invoice.", choices=AGING_BUCKETS),
        Column("invoices", Kind.INT, "Invoices issued (credit notes excluded)."),
        Column("resolved_invoices", Kind.INT, "Invoices with a known outcome (settled or past due)."),
        Column("on_time_invoices", Kind.INT, "Resolved invoices settled on time."),
        Column("on_time_rate", Kind.FLOAT, "on_time_invoices / resolved_invoices."),
        Column("mean_days_late", Kind.FLOAT, "Mean lateness of resolved invoices, days."),
        Column("worst_days_late", Kind.INT, "Worst lateness of a resolved invoice, days."),
        Column("lateness_trend_days", Kind.FLOAT, "Recent minus earlier mean lateness (positive: slipping)."),
        Column("partial_payment_ratio", Kind.FLOAT, "Share of paid invoices paid in part or in instalments."),
        Column("failed_payments", Kind.INT, "Failed payment attempts in the RFM window."),
        Column("disputed_invoices", Kind.INT, "Invoices marked disputed."),
        Column("autopay", Kind.BOOL, "Invoices are charged automatically."),
        Column("usual_payment_method", Kind.TEXT, "Most used payment method."),
        Column(
            "usual_payment_weekday",
            Kind.INT,
            "Most frequent local payment weekday (1 = Monday).",
            dtype_override=pl.Int8(),
        ),
        Column(
            "usual_payment_hour",
            Kind.INT,
            "Most frequent local payment hour (0-23).",
            dtype_override=pl.Int8(),
        ),
        Column("timezone", Kind.TIMEZONE, "Customer's time zone (payments are read in it)."),
        Column("last_payment_date", Kind.DATE, "Date of the last payment."),
        Column("first_invoice_date", Kind.DATE, "Date of the first invoice."),
        Column("last_invoice_date", Kind.DATE, "Date of the latest invoice."),
        Column("days_since_activity", Kind.INT, "Days since the last invoice or payment."),
        Column("tenure_days", Kind.INT, "Days since signup (or the first invoice)."),
        Column("cohort", Kind.TEXT, "Month of the first invoice (YYYY-MM)."),
        Column("clv_frequency", Kind.INT, "Repeat invoice days (lifetimes frequency)."),
        Column("clv_recency_weeks", Kind.FLOAT, "Age at the latest invoice, weeks (lifetimes recency)."),
        Column("clv_age_weeks", Kind.FLOAT, "Age at the as-of date, weeks (lifetimes T)."),
        Column("p_alive", Kind.FLOAT, "Probability the customer is still active."),
        Column("expected_invoices", Kind.FLOAT, "Expected invoices over the CLV horizon."),
        Column("expected_amount", Kind.MONEY, "Expected amount per invoice, main currency."),
        Column("clv", Kind.MONEY, "Discounted lifetime value over the horizon, main currency."),
        Column("clv_method", Kind.TEXT, "Models behind the lifetime figures (or their fallbacks)."),
    ),
)

INVOICE_RISK_OUTPUT = Table(
    name=INVOICE_RISK.name,
    file_stem=INVOICE_RISK.file_stem,
    description="One row per invoice open at the as-of date with its late-payment probability.",
    key="invoice_id",
    columns=(
        *INVOICE_RISK.columns,
        Column("model_probability", Kind.FLOAT, "Score at the issue date (before it went overdue)."),
        Column(
            "risk_method", Kind.CHOICE, "logistic model or transparent rules.", choices=("logistic", "rules")
        ),
        Column("issue_date", Kind.DATE, "Issue date."),
        Column("due_date", Kind.DATE, "Due date."),
        Column("currency", Kind.CURRENCY, "Currency."),
        Column("amount", Kind.MONEY, "Invoice amount."),
        Column("balance", Kind.MONEY, "Amount still open on the as-of date."),
        Column("days_overdue", Kind.INT, "Days past due (null: not yet due)."),
        Column("disputed", Kind.BOOL, "Marked disputed."),
        Column("hold_until", Kind.DATE, "No reminders before this date."),
    ),
)

COHORTS_OUTPUT = Table(
    name="cohorts",
    description="First-invoice month x months since: retention and on-time rate.",
    columns=tuple(
        Column(name, kind, text)
        for name, kind, text in zip(
            COHORT_COLUMNS,
            (
                Kind.TEXT,
                Kind.INT,
                Kind.TEXT,
                Kind.INT,
                Kind.INT,
                Kind.FLOAT,
                Kind.INT,
                Kind.INT,
                Kind.INT,
                Kind.FLOAT,
            ),
            (
                "Month of the first invoice (YYYY-MM).",
                "Months since the cohort month.",
                "Calendar month (YYYY-MM).",
                "Customers in the cohort.",
                "Cohort customers invoiced in the month.",
                "active / customers.",
                "Invoices issued in the month.",
                "Of which with a known outcome.",
                "Of which paid on time.",
                "on_time / resolved.",
            ),
            strict=True,
        )
    ),
)


@dataclass(frozen=True)
class SegmentResult:
    """What ``billcx segment`` computed.

    Attributes:
        customers: one row per customer (:data:`CUSTOMER_OUTPUT`), sorted by ``customer_id``.
        invoice_risk: one row per open invoice (:data:`INVOICE_RISK_OUTPUT`), sorted by ``invoice_id``.
        cohorts: the cohort table (:data:`COHORTS_OUTPUT`).
        model_report: parameters, validation figures and data sizes of every model (JSON-ready).
        as_of: the as-of date used.
        warnings: fallbacks taken and data caveats, in words.
        population: the population-level parameters the customers were scored against.
    """

    customers: pl.DataFrame
    invoice_risk: pl.DataFrame
    cohorts: pl.DataFrame
    model_report: dict[str, Any]
    as_of: dt.date
    warnings: tuple[str, ...] = ()
    population: Population | None = None

    @property
    def exit_code(self) -> ExitCode:
        """Always OK: fallbacks are warnings, not failures (they are reported and explained)."""
        return ExitCode.OK


def round_floats(value: Any, digits: int = 6) -> Any:
    """Round every float in a JSON-like structure to ``digits`` significant digits.

    Fitted figures can differ in their last bits between machines (BLAS, optimiser paths); rounding
    keeps ``model_report.json`` byte-identical on rerun.  Non-finite floats become null.
    """
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {str(k): round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [round_floats(v, digits) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def report_json(report: dict[str, Any]) -> str:
    """Deterministic JSON text of a model report (sorted keys, rounded floats)."""
    return json.dumps(round_floats(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_segment(result: SegmentResult, out_dir: str | Path, *, fmt: Format = Format.PARQUET,
                  with_population: bool = False) -> list[Path]:
    """Write the result to ``out_dir`` atomically, file by file (byte-identical on rerun).

    Args:
        result: what :func:`billcx.segment.segment` returned.
        out_dir: folder to write to (created if missing).
        fmt: an extra format for ``customers`` (csv, xlsx, jsonl) besides Parquet.
        with_population: also write ``population.json`` (what shards are scored against).

    Returns:
        The paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        write_table(result.customers, out / f"{CUSTOMER_OUTPUT.file_stem}.parquet", table=CUSTOMER_OUTPUT),
        write_table(
            result.invoice_risk, out / f"{INVOICE_RISK_OUTPUT.file_stem}.parquet", table=INVOICE_RISK_OUTPUT
        ),
        write_table(result.cohorts, out / f"{COHORTS_OUTPUT.file_stem}.parquet", table=COHORTS_OUTPUT),
    ]
    if fmt is not Format.PARQUET:
        paths.append(
            write_table(result.customers, out / CUSTOMER_OUTPUT.file_stem, fmt=fmt, table=CUSTOMER_OUTPUT)
        )
    report_path = out / "model_report.json"
    write_text(report_path, report_json(result.model_report))
    paths.append(report_path)
    if with_population and result.population is not None:
        paths.append(write_population(result.population, out / POPULATION_FILE))
    return paths
