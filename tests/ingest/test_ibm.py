"""The real IBM accounts-receivable export ingests cleanly with the shipped mapping."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from billcx.exitcodes import ExitCode
from billcx.ingest import ingest, load_mapping

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "examples" / "ibm_receivables" / "mapping.toml"

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def ibm(shared_datasets: Path) -> object:
    path = shared_datasets / "ibm_accounts_receivable" / "WA_Fn-UseC_-Accounts-Receivable.csv"
    return ingest([path], mapping=load_mapping(MAPPING)), pl.read_csv(path, infer_schema=False)


def test_every_invoice_is_clean_and_counts_reconcile(ibm: tuple) -> None:
    result, raw = ibm
    f = result.report.files[0]
    assert (f.rows_read, f.rows_clean, f.rows_rejected, f.table_by) == (2466, 2466, 0, "mapping")
    assert result.rejects.is_empty()
    assert result.exit_code == ExitCode.OK
    assert result.invoices.height == 2466
    assert result.customers.height == raw["customerID"].n_unique() == 100
    assert result.payments.height == 2466  # every invoice is settled


def test_values_survive_exactly(ibm: tuple) -> None:
    result, raw = ibm
    cents = raw.select(
        pl.col("InvoiceAmount")
        .str.replace(r"^(\d+)$", "$1.00")
        .str.replace(r"\.(\d)$", ".${1}0")
        .str.replace(".", "", literal=True)
        .cast(pl.Int64)
        .sum()
    ).item()
    assert result.invoices["amount"].sum() == cents
    assert result.payments["amount"].sum() == cents
    inv = result.invoices.filter(pl.col("invoice_id") == "0000611365").row(0, named=True)
    assert (str(inv["issue_date"]), str(inv["due_date"]), str(inv["paid_date"])) == (
        "2013-01-02",
        "2013-02-01",
        "2013-01-15",
    )
    assert (inv["amount"], inv["currency"], inv["status"], inv["disputed"]) == (5594, "USD", "paid", False)
    assert result.invoices["disputed"].sum() == (raw["Disputed"] == "Yes").sum()


def test_settled_invoices_become_paid_with_payments(ibm: tuple) -> None:
    result, _ = ibm
    inv = result.invoices
    assert inv["status"].unique().to_list() == ["paid"]
    assert (inv["amount_paid"] == inv["amount"]).all()
    joined = result.payments.join(inv, on="invoice_id", suffix="_inv")
    assert joined.height == 2466
    assert (joined["paid_at"].dt.date() == joined["paid_date"]).all()
    assert (joined["customer_id"] == joined["customer_id_inv"]).all()


def test_customer_consent_follows_the_latest_invoice(ibm: tuple) -> None:
    result, raw = ibm
    latest = (
        raw.with_columns(pl.col("InvoiceDate").str.to_date("%m/%d/%Y"))
        .sort("customerID", "InvoiceDate", "invoiceNumber", descending=[False, True, True])
        .group_by("customerID", maintain_order=True)
        .first()
        .select(customer_id="customerID", electronic=pl.col("PaperlessBill") == "Electronic")
    )
    got = result.customers.join(latest, on="customer_id")
    assert (got["consent_email"] == got["electronic"]).all()
    assert (got["consent_letter"] != got["electronic"]).all()
    assert result.customers["country"].null_count() == 100  # numeric IBM codes: no justified ISO mapping


def test_report_says_what_was_derived_and_ignored(ibm: tuple) -> None:
    result, _ = ibm
    f = result.report.files[0]
    assert set(f.ignored) == {"countryCode", "PaperlessDate", "DaysToSettle", "DaysLate"}
    assert f.notes == ("currency absent: USD (mapping default_currency) for every row",)
    assert result.report.table("customers").derived  # type: ignore[union-attr]
    assert result.report.table("payments").sources == ("derived from settled invoices",)  # type: ignore[union-attr]
