"""The risk model on the IBM accounts-receivable export: a leak-free time split lands in the high 0.8s.

Until ``billcx ingest`` and ``examples/ibm_receivables/mapping.toml`` land, a small adapter here reads
the CSV into the contract: ``DaysToSettle`` and ``DaysLate`` are outcomes and are not read at all.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from billcx.schema import PAYMENTS
from billcx.segment import segment
from billcx.store import CleanData

CSV = Path("ibm_accounts_receivable") / "WA_Fn-UseC_-Accounts-Receivable.csv"


def ibm_clean(shared: Path) -> CleanData:
    """The IBM export as clean contract frames (USD, settled invoices carry their paid date)."""
    raw = pl.read_csv(shared / CSV, infer_schema=False)

    def date(column: str) -> pl.Expr:
        return pl.col(column).str.to_date("%m/%d/%Y")

    invoices = raw.select(
        pl.col("invoiceNumber").alias("invoice_id"), pl.col("customerID").alias("customer_id"),
        date("InvoiceDate").alias("issue_date"), date("DueDate").alias("due_date"),
        # Amounts have 0 to 2 decimals ("70", "55.9", "61.74"); cents are exact after rounding.
        (pl.col("InvoiceAmount").cast(pl.Float64) * 100).round(0).cast(pl.Int64).alias("amount"),
        pl.lit("USD").alias("currency"), date("SettledDate").alias("paid_date"),
        pl.when(pl.col("SettledDate").is_not_null()).then(pl.lit("paid")).otherwise(pl.lit("open")).alias("status"),
        (pl.col("Disputed") == "Yes").alias("disputed"),
    )
    customers = raw.group_by("customerID").agg(pl.col("PaperlessBill").first()).select(
        pl.col("customerID").alias("customer_id"),
        pl.when(pl.col("PaperlessBill") == "Electronic").then(pl.lit("email")).otherwise(pl.lit("letter"))
        .alias("preferred_channel"))
    return CleanData.from_frames(customers, invoices, PAYMENTS.empty())


@pytest.mark.shared
def test_time_split_auc_is_high_but_not_leaky(shared_datasets: Path) -> None:
    data = ibm_clean(shared_datasets)
    invoices = data.invoices.collect()
    assert invoices.height == 2466 and invoices.get_column("amount").min() > 0
    result = segment(data)
    risk = result.model_report["risk"]
    assert risk["method"] == "logistic"
    ev = risk["evaluation"]
    assert 0.80 <= ev["auc"] <= 0.93, f"AUC {ev['auc']:.3f}: above 0.93 means an outcome leaked into features"
    assert ev["brier"] < ev["brier_base_rate"]
    assert ev["validation_rows"] > 400 and ev["calibration_from"] < ev["validation_from"]
    assert result.customers.height == 100
    assert not any("suspiciously high" in w for w in result.warnings)
