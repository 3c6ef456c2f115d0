"""A tiny hand-made run folder (every stage's output, a few rows each) for the report tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from billcx.export import Format, write_table
from billcx.schema import CUSTOMERS, INVOICE_RISK, INVOICES, PAYMENTS, REJECTS, SCHEDULE, SEGMENTS

AS_OF = dt.date(2026, 3, 31)
UTC = dt.UTC

# Personal data that must never reach the report.
NAMES = ("Ada Lovelace-Byron", "Grace Brewster Hopper")
EMAILS = ("ada.private@example.org", "grace.private@example.net")
PHONES = ("+14155550123", "+14155550987")
REJECTED_VALUE = "not-an-email@@secret-value"
IDS = ("CUST-ALPHA-001", "CUST-BRAVO-002", "CUST-CHARLIE-003")


def _customers() -> pl.DataFrame:
    return CUSTOMERS.conform(pl.DataFrame({
        "customer_id": list(IDS), "name": [*NAMES, "Third Person"], "email": [*EMAILS, None],
        "phone": [*PHONES, None], "country": ["US", "US", "FR"],
        "timezone": ["America/New_York"] * 2 + ["Europe/Paris"],
        "consent_email": [True, True, False]}))


def _invoices() -> pl.DataFrame:
    return INVOICES.conform(pl.DataFrame({
        "invoice_id": ["I1", "I2", "I3", "I4", "I5"],
        "customer_id": [IDS[0], IDS[0], IDS[1], IDS[2], IDS[2]],
        "issue_date": [dt.date(2026, 1, 1), dt.date(2026, 3, 1), dt.date(2025, 11, 1), dt.date(2026, 3, 20),
                       dt.date(2026, 1, 10)],
        "due_date": [dt.date(2026, 1, 31), dt.date(2026, 3, 31), dt.date(2025, 12, 1), dt.date(2026, 4, 19),
                     dt.date(2026, 2, 9)],
        "amount": [10_000, 20_000, 123_450, 5_000, 7_000],
        "currency": ["USD", "USD", "USD", "EUR", "EUR"],
        "amount_paid": [0, 0, 0, 0, 7_000],
        "status": ["open", "open", "open", "open", "paid"],
        "paid_date": [None, None, None, None, dt.date(2026, 2, 1)]}))


def _segments() -> pl.DataFrame:
    base = SEGMENTS.conform(pl.DataFrame({
        "customer_id": list(IDS), "rfm_segment": ["Champions", "At risk", None],
        "value_tier": ["high", "low", "medium"], "risk_tier": ["low", "high", "medium"],
        "late_probability": [0.1, 0.9, 0.4], "treatment": ["reliable", "chronic_late", "new"]}))
    return base.with_columns(
        currency=pl.Series(["USD", "USD", "EUR"]), open_balance=pl.Series([30_000, 123_450, 5_000]),
        overdue_balance=pl.Series([10_000, 123_450, 0]), aging_bucket=pl.Series(["61-90", "90+", "current"]),
        clv=pl.Series([500_000, 1_000, 20_000]))


def _invoice_risk() -> pl.DataFrame:
    base = INVOICE_RISK.conform(pl.DataFrame({
        "invoice_id": ["I1", "I2", "I3", "I4"], "customer_id": [IDS[0], IDS[0], IDS[1], IDS[2]],
        "late_probability": [1.0, 0.25, 1.0, 0.05], "reasons": [["invoice is 59 days overdue"], [], [], []]}))
    return base.with_columns(currency=pl.Series(["USD", "USD", "USD", "EUR"]),
                             balance=pl.Series([10_000, 20_000, 123_450, 5_000]),
                             days_overdue=pl.Series([59, None, 120, None], dtype=pl.Int64))


def _cohorts() -> pl.DataFrame:
    return pl.DataFrame({
        "cohort": ["2025-11", "2025-11", "2026-01"], "months_since": [0, 1, 0],
        "month": ["2025-11", "2025-12", "2026-01"],
        "customers": [1, 1, 2], "active_customers": [1, 0, 2], "retention": [1.0, 0.0, 1.0],
        "invoices": [1, 0, 2], "resolved_invoices": [1, 0, 2], "on_time_invoices": [0, 0, 1],
        "on_time_rate": [0.0, None, 0.5]})


MODEL_REPORT = {
    "as_of": AS_OF.isoformat(),
    "risk": {"method": "logistic", "evaluation": {
        "auc": 0.8123, "brier": 0.1512, "brier_base_rate": 0.2034, "validation_rows": 40,
        "calibration": [
            {"bin": "0.00-0.50", "invoices": 30, "mean_predicted": 0.2, "observed_late_rate": 0.25},
            {"bin": "0.50-1.00", "invoices": 10, "mean_predicted": 0.7, "observed_late_rate": 0.6},
            {"bin": "1.00-1.00", "invoices": 0, "mean_predicted": None, "observed_late_rate": None}]}},
}


def _schedule() -> pl.DataFrame:
    def at(day: int, hour: int) -> dt.datetime:
        return dt.datetime(2026, 4, day, hour, tzinfo=UTC)
    return SCHEDULE.conform(pl.DataFrame({
        "message_key": ["k1", "k2", "k3", "k4", "k5"],
        "customer_id": [IDS[0], IDS[0], IDS[1], IDS[1], IDS[2]],
        "invoice_ids": [["I1"], ["I1", "I2"], ["I3"], ["I3"], ["I4"]],
        "currency": ["USD", "USD", "USD", "USD", "EUR"],
        "amount_due": [10_000, 30_000, 123_450, 123_450, 5_000],
        "kind": ["overdue", "overdue", "final_notice", "final_notice", "pre_due"],
        "step": ["s1", "s2", "s1", "task", "s0"],
        "ladder": ["standard", "standard", "firm", "firm", "standard"],
        "channel": ["email", "sms", "email", "task", "email"],
        "send_at_utc": [at(1, 14), at(2, 14), at(1, 15), at(3, 13), at(1, 8)],
        "send_at_local": ["2026-04-01T10:00:00-04:00", "2026-04-02T10:00:00-04:00",
                          "2026-04-01T11:00:00-04:00", "2026-04-03T09:00:00-04:00",
                          "2026-04-01T10:00:00+02:00"],
        "timezone": ["America/New_York"] * 4 + ["Europe/Paris"], "template": ["t"] * 5,
        "tone": ["neutral"] * 5,
        "arm": ["treatment", "treatment", "treatment", "treatment", "holdout"]}))


def write_run(root: Path, *, stages: tuple[str, ...] = ("clean", "segments", "plan", "bundle")) -> Path:
    """Write the hand-made run into ``root`` (only the stage folders named)."""
    root.mkdir(parents=True, exist_ok=True)
    if "clean" in stages:
        clean = root / "clean"
        write_table(_customers(), clean / "customers.parquet", table=CUSTOMERS)
        write_table(_invoices(), clean / "invoices.parquet", table=INVOICES)
        write_table(PAYMENTS.empty(), clean / "payments.parquet", table=PAYMENTS)
        rejects = REJECTS.conform(pl.DataFrame({
            "file": ["customers.csv", "customers.csv", "invoices.csv"],
            "table": ["customers", "customers", "invoices"],
            "line": [3, 7, 9], "column": ["email", "email", None], "value": [REJECTED_VALUE, EMAILS[0], None],
            "code": ["bad_email", "bad_email", "ragged_row"],
            "message": [f"found {REJECTED_VALUE}", "x", "y"]}))
        write_table(rejects, clean / "rejects.csv", fmt=Format.CSV, table=REJECTS)
    if "segments" in stages:
        seg = root / "segments"
        write_table(_segments(), seg / "customers.parquet")
        write_table(_invoice_risk(), seg / "invoice_risk.parquet")
        write_table(_cohorts(), seg / "cohorts.parquet")
        (seg / "model_report.json").write_text(json.dumps(MODEL_REPORT, indent=2))
    if "plan" in stages:
        plan = root / "plan"
        write_table(_schedule(), plan / "schedule.parquet", table=SCHEDULE)
        write_table(pl.DataFrame({"customer_id": [IDS[2], IDS[2]], "code": ["do-not-contact", "held"]}),
                    plan / "skipped.parquet")
    if "bundle" in stages:
        bundle = root / "bundle"
        bundle.mkdir(parents=True, exist_ok=True)
        rows = [{"message_key": "k1", "customer_id": IDS[0], "channel": "email", "kind": "overdue",
                 "recipient": EMAILS[0]},
                {"message_key": "k2", "customer_id": IDS[0], "channel": "sms", "kind": "overdue",
                 "recipient": PHONES[0]}]
        (bundle / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if stages == ("clean", "segments", "plan", "bundle"):
        (root / "run.json").write_text(json.dumps({"as_of": AS_OF.isoformat()}))
    return root

