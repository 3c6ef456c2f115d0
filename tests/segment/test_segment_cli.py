"""``billcx segment``: exit codes, exact messages, outputs, and parity with the library."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from billcx.cli import app
from billcx.schema import CUSTOMERS, INVOICES, PAYMENTS
from billcx.segment import segment
from billcx.store import CleanData, table_path

runner = CliRunner()


def _unwrapped(text: str) -> str:
    """Console text with rich's line wrapping undone (tests never depend on a width)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory: pytest.TempPathFactory, sample_clean: CleanData) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    for table, frame in ((CUSTOMERS, sample_clean.customers), (INVOICES, sample_clean.invoices),
                         (PAYMENTS, sample_clean.payments)):
        frame.collect().write_parquet(table_path(folder, table))
    return folder


def test_segment_writes_outputs_and_says_which_as_of_it_used(clean_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "seg"
    result = runner.invoke(app, ["segment", str(clean_dir), "--out", str(out), "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("billcx segment: as of 2024-12-31 (latest date in the data); 300 customers, ")
    assert "risk model: logistic, validation AUC 0." in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["cohorts.parquet", "customers.parquet", "customers.xlsx",
                                                    "invoice_risk.parquet", "model_report.json",
                                                    "population.json"]
    report = json.loads((out / "model_report.json").read_text())
    assert report["as_of"] == "2024-12-31" and report["risk"]["method"] == "logistic"


def test_json_report_on_stdout_and_parity_with_the_library(clean_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "seg"
    result = runner.invoke(app, ["segment", str(clean_dir), "-o", str(out), "--as-of", "2024-08-15",
                                 "--report-format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["as_of"], report["as_of_source"], report["customers"]) == ("2024-08-15", "--as-of", 281)
    assert report["risk_model"]["method"] == "logistic" and 0.5 < report["risk_model"]["auc"] < 1
    library = segment(CleanData.load(clean_dir), as_of=__import__("datetime").date(2024, 8, 15))
    assert pl.read_parquet(out / "customers.parquet").equals(library.customers)
    assert pl.read_parquet(out / "invoice_risk.parquet").equals(library.invoice_risk)


def test_a_bad_as_of_date_is_a_usage_error(clean_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["segment", str(clean_dir), "--out", str(tmp_path / "o"), "--as-of", "2024-13-01"]
    )
    assert result.exit_code == 2
    assert _unwrapped(result.stderr) == "error: --as-of: expected a date as YYYY-MM-DD, found '2024-13-01'"
    assert not (tmp_path / "o").exists()


def test_a_missing_table_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "clean").mkdir()
    result = runner.invoke(app, ["segment", str(tmp_path / "clean"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert _unwrapped(result.stderr).startswith(
        f"error: {tmp_path / 'clean' / 'customers.parquet'}: missing; expected the customers table here")


def test_unknown_settings_are_named_with_a_suggestion(clean_dir: Path, tmp_path: Path) -> None:
    settings = tmp_path / "segment.toml"
    settings.write_text("[segment.tiers]\nrisk_hihg = 0.6\n")
    result = runner.invoke(app, ["segment", str(clean_dir), "--out", str(tmp_path / "o"),
                                 "--settings", str(settings)])
    assert result.exit_code == 2
    assert _unwrapped(result.stderr).startswith(
        f"error: {settings}: unknown setting 'segment.tiers.risk_hihg' (did you mean 'risk_high'?)")


def test_settings_values_are_checked(clean_dir: Path, tmp_path: Path) -> None:
    settings = tmp_path / "segment.toml"
    settings.write_text("[tiers]\nrisk_high = 0.1\nrisk_medium = 0.2\n")
    result = runner.invoke(app, ["segment", str(clean_dir), "--out", str(tmp_path / "o"),
                                 "--settings", str(settings)])
    assert result.exit_code == 2
    assert _unwrapped(result.stderr).startswith(
        f"error: {settings}: tiers: need 0 < risk_medium < risk_high < 1, found 0.2 and 0.1")


def test_help_has_an_example() -> None:
    result = runner.invoke(app, ["segment", "--help"])
    assert result.exit_code == 0
    assert "Example: billcx segment clean --out segments --as-of 2026-09-30 --format csv" in result.stdout


def test_pseudonymize_replaces_ids_and_keeps_scores(tmp_path: Path) -> None:
    """Analysts share --pseudonymize outputs: no raw customer id survives, the figures do."""
    from billcx.privacy import pseudonym

    key_file = tmp_path / "key.txt"
    key_file.write_text("k" * 32)
    clean = tmp_path / "clean"
    sample = Path(__file__).resolve().parents[2] / "sample_data"
    assert runner.invoke(app, ["-q", "ingest", *(str(sample / f"{t}.csv") for t in ("customers", "invoices",
                                                                                        "payments")),
                               "--out", str(clean)]).exit_code == 0
    plain, shared = tmp_path / "plain", tmp_path / "shared"
    assert runner.invoke(app, ["-q", "segment", str(clean), "--out", str(plain), "--as-of", "2026-10-31"]
                         ).exit_code == 0
    result = runner.invoke(app, ["-q", "segment", str(clean), "--out", str(shared), "--as-of", "2026-10-31",
                                 "--pseudonymize", str(key_file)])
    assert result.exit_code == 0, result.output
    a = pl.read_parquet(plain / "customers.parquet")
    b = pl.read_parquet(shared / "customers.parquet")
    assert b["customer_id"].to_list() == [pseudonym(c, b"k" * 32) for c in a["customer_id"].to_list()]
    assert b.drop("customer_id").equals(a.drop("customer_id"))
    risk = pl.read_parquet(shared / "invoice_risk.parquet")
    assert not set(risk["customer_id"].to_list()) & set(a["customer_id"].to_list())


def test_chunked_run_matches_and_leaves_no_spill_folder_beside_out(clean_dir: Path, tmp_path: Path) -> None:
    whole, chunked = tmp_path / "whole", tmp_path / "chunked"
    for out, extra in ((whole, []), (chunked, ["--chunk-invoices", "700"])):
        args = ["segment", str(clean_dir), "-o", str(out), "--as-of", "2024-12-31", *extra]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked", "whole"]  # no billcx-segment-* left
    for name in ("customers.parquet", "invoice_risk.parquet", "cohorts.parquet"):
        assert (whole / name).read_bytes() == (chunked / name).read_bytes(), name
