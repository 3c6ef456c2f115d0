"""segment() end to end: point-in-time correctness, determinism, the output contract."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl
import pytest
from segment_builders import D, clean, cust, inv

from billcx.errors import InputError
from billcx.export import Format
from billcx.schema import INVOICE_RISK, RFM_SEGMENTS, SEGMENTS, TREATMENTS
from billcx.segment import SegmentResult, SegmentSettings, segment, write_segment
from billcx.segment.result import COHORTS_OUTPUT, CUSTOMER_OUTPUT, INVOICE_RISK_OUTPUT
from billcx.segment.settings import TierSettings
from billcx.store import CleanData


def cut_at(data: CleanData, as_of: dt.date) -> CleanData:
    """The export as it would have looked on ``as_of``: later rows gone, later settlements undone."""
    customers = data.customers.collect()
    zones = customers.select("customer_id", pl.col("timezone").fill_null("UTC"))
    pays = data.payments.collect().join(zones, on="customer_id", how="left")
    pays = pl.concat([
        part.filter(pl.col("paid_at").dt.convert_time_zone(zone).dt.date() <= as_of)
        for (zone,), part in pays.partition_by("timezone", as_dict=True).items()
    ]).drop("timezone")
    applied = pays.filter((pl.col("status") == "succeeded") & pl.col("invoice_id").is_not_null()) \
        .group_by("invoice_id").agg(pl.col("amount").sum().alias("_applied"))
    later = pl.col("paid_date") > as_of
    invoices = (
        data.invoices.collect()
        .filter(pl.col("issue_date") <= as_of)
        .join(applied, on="invoice_id", how="left")
        .with_columns(
            # void and written_off carry no date: they stand as exported (see billcx.segment.ledger).
            pl.when(later & (pl.col("status") == "paid"))
            .then(pl.lit("open"))
            .otherwise(pl.col("status"))
            .alias("status"),
            pl.when(later)
            .then(pl.col("_applied").fill_null(0))
            .otherwise(pl.col("amount_paid"))
            .alias("amount_paid"),
            pl.when(later).then(None).otherwise(pl.col("paid_date")).alias("paid_date"),
        )
        .drop("_applied")
    )
    kept = customers.filter(pl.col("signup_date").is_null() | (pl.col("signup_date") <= as_of))
    return CleanData.from_frames(kept, invoices, pays)


def _without_export_date(result: SegmentResult) -> dict:
    report = dict(result.model_report)
    report["data"] = {k: v for k, v in report["data"].items() if k != "export_date"}
    return report


def test_an_earlier_as_of_equals_running_on_data_cut_at_that_date(sample_clean: CleanData) -> None:
    as_of = D(2024, 8, 15)
    full = segment(sample_clean, as_of=as_of)
    cut = segment(cut_at(sample_clean, as_of), as_of=as_of)
    assert full.customers.equals(cut.customers)
    assert full.invoice_risk.equals(cut.invoice_risk)
    assert full.cohorts.equals(cut.cohorts)
    assert _without_export_date(full) == _without_export_date(cut)
    assert full.warnings == cut.warnings
    # ... and the later data did change things when it was allowed in.
    later = segment(sample_clean, as_of=D(2024, 12, 31))
    assert not later.customers.equals(full.customers)


def test_output_contract(sample_result: SegmentResult) -> None:
    customers = sample_result.customers
    assert customers.columns[: len(SEGMENTS.names)] == SEGMENTS.names
    assert customers.schema == CUSTOMER_OUTPUT.schema
    assert customers.get_column("customer_id").is_unique().all() and customers.height == 300
    assert customers.get_column("customer_id").is_sorted()
    assert set(customers.get_column("treatment")) <= set(TREATMENTS)
    assert set(customers.get_column("rfm_segment")) <= set(RFM_SEGMENTS)
    assert customers.select(pl.col("value_tier", "risk_tier", "treatment").null_count().sum()).row(0) == (
        0,
        0,
        0,
    )
    risk = sample_result.invoice_risk
    assert risk.columns[: len(INVOICE_RISK.names)] == INVOICE_RISK.names
    assert risk.schema == INVOICE_RISK_OUTPUT.schema
    assert risk.get_column("invoice_id").is_unique().all() and (risk.get_column("balance") != 0).all()
    assert sample_result.cohorts.columns == COHORTS_OUTPUT.names
    for frame in (customers, risk, sample_result.cohorts):
        for name, dtype in frame.schema.items():
            if dtype == pl.Float64:
                assert frame.get_column(name).drop_nulls().is_finite().all(), name


def test_written_outputs_are_byte_identical_on_rerun(sample_clean: CleanData, sample_result: SegmentResult,
                                                     tmp_path: Path) -> None:
    def digest(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

    write_segment(sample_result, tmp_path / "a", fmt=Format.CSV)
    write_segment(segment(sample_clean), tmp_path / "b", fmt=Format.CSV)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert sorted(digest(tmp_path / "a")) == ["cohorts.parquet", "customers.csv", "customers.parquet",
                                             "invoice_risk.parquet", "model_report.json"]


def test_shuffled_input_rows_give_the_same_result(
    sample_clean: CleanData, sample_result: SegmentResult
) -> None:
    shuffled = CleanData(*(lf.collect().sample(fraction=1.0, shuffle=True, seed=9).lazy()
                           for lf in (sample_clean.customers, sample_clean.invoices, sample_clean.payments)))
    again = segment(shuffled)
    assert again.customers.equals(sample_result.customers)
    assert again.invoice_risk.equals(sample_result.invoice_risk)
    assert again.model_report == sample_result.model_report


def test_customers_without_any_invoice_or_payment() -> None:
    result = segment(clean([cust("A"), cust("B", signup=D(2024, 1, 1))], []), as_of=D(2024, 3, 1))
    rows = result.customers.to_dicts()
    assert [r["customer_id"] for r in rows] == ["A", "B"]
    assert {(r["rfm_segment"], r["treatment"], r["risk_method"], r["value_tier"]) for r in rows} == {
        ("Lost", "credit_or_no_balance", "rules", "low")}
    assert rows[1]["tenure_days"] == 60 and rows[0]["tenure_days"] is None
    assert result.invoice_risk.height == 0 and result.cohorts.height == 0


def test_without_dates_an_as_of_date_is_required() -> None:
    with pytest.raises(InputError, match="cannot choose an as-of date"):
        segment(clean([cust("A")], []))


def test_cohorts_by_hand() -> None:
    invoices = [inv("A1", "A", D(2024, 1, 5), D(2024, 1, 20), 100, paid=D(2024, 1, 19)),
                inv("A2", "A", D(2024, 3, 5), D(2024, 3, 20), 100, paid=D(2024, 3, 25)),
                inv("B1", "B", D(2024, 1, 9), D(2024, 1, 25), 100),
                inv("C1", "C", D(2024, 2, 1), D(2024, 2, 10), 100, paid=D(2024, 2, 10))]
    cohorts = segment(clean([cust("A"), cust("B"), cust("C")], invoices), as_of=D(2024, 3, 31)).cohorts
    assert cohorts.select("cohort", "months_since", "customers", "active_customers", "retention", "invoices",
                          "on_time_invoices", "on_time_rate").rows() == [
        ("2024-01", 0, 2, 2, 1.0, 2, 1, 0.5),   # A1 on time, B1 never paid (late)
        ("2024-01", 1, 2, 0, 0.0, 0, 0, None),
        ("2024-01", 2, 2, 1, 0.5, 1, 0, 0.0),   # A2 paid 5 days late
        ("2024-02", 0, 1, 1, 1.0, 1, 1, 1.0),
        ("2024-02", 1, 1, 0, 0.0, 0, 0, None),
    ]
    assert cohorts.get_column("month").to_list()[:3] == ["2024-01", "2024-02", "2024-03"]


def test_treatments_follow_the_documented_order() -> None:
    as_of = D(2024, 6, 12)  # June invoices (due 06-15) are open, not yet due
    monthly = [(f"{c}{m}", c, D(2024, m, 1), D(2024, m, 15), 1_000, D(2024, m, day))
               for c, day in (("R", 10), ("L", 25)) for m in range(1, 7)]
    invoices = [inv(i, c, issue, due, amount, paid=paid if issue.month < 6 else None)
                for i, c, issue, due, amount, paid in monthly]
    invoices += [inv("Z1", "Z", D(2023, 6, 1), D(2023, 6, 30), 1_000),       # dormant, owes
                 inv("N1", "N", D(2024, 6, 5), D(2024, 7, 5), 1_000),         # new
                 inv("P1", "P", D(2024, 1, 1), D(2024, 1, 31), 1_000, paid=D(2024, 1, 20))]  # nothing owed
    # S: the most valuable, on time until May, then 10 days late: due in the last 90 days (Mar, Apr,
    # May) 10/3 days late on average, before 0: trend 3.3 days.
    invoices += [inv(f"S{m}", "S", D(2024, m, 1), D(2024, m, 15), 100_000,
                     paid=D(2024, m, 25 if m == 5 else 10) if m < 6 else None) for m in range(1, 7)]
    customers = [cust(c, signup=D(2023, 1, 1)) for c in "RLZPS"] + [cust("N", signup=D(2024, 6, 1))]
    settings = SegmentSettings(tiers=TierSettings(risk_high=0.99, risk_medium=0.98))
    result = segment(clean(customers, invoices), as_of=as_of, settings=settings)
    got = {
        r["customer_id"]: (r["treatment"], r["treatment_reason"])
        for r in result.customers.iter_rows(named=True)
    }
    assert got["P"] == ("credit_or_no_balance", "nothing owed")
    assert got["Z"] == ("dormant", "dormant: no invoice or payment for 377 days")
    assert got["N"] == ("new", "new: 0 resolved invoice(s), customer for 11 day(s)")
    assert got["L"] == ("chronic_late", "chronic late: 0% of 5 resolved invoices on time")
    assert got["R"] == ("reliable", "reliable: 100% of 5 resolved invoices on time")
    assert got["S"] == ("valued_slipping", "high value, paying 3.3 days later recently")
