"""`billcx ingest` from the command line: exit codes, messages, outputs, determinism."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from billcx.cli import app
from billcx.ingest import ingest

from .conftest import INGEST_DATA

runner = CliRunner()


def _cli(*args: str | Path) -> tuple[int, str, str]:
    """Exit code, stdout, and stderr with rich's line wrapping undone."""
    result = runner.invoke(app, ["ingest", *map(str, args)])
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_clean_inputs_exit_0_and_write_every_output(tmp_path: Path) -> None:
    code, out, err = _cli(INGEST_DATA / "customers.csv", INGEST_DATA / "invoices.csv", "--out", tmp_path)
    assert code == 0
    assert out == ""
    assert "ok: 8 rows read, none rejected" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "customers.parquet",
        "invoices.parquet",
        "payments.parquet",
        "rejects.csv",
        "report.json",
    ]
    assert pl.read_parquet(tmp_path / "invoices.parquet")["invoice_id"].to_list() == [
        "INV-1",
        "INV-2",
        "INV-3",
        "INV-4",
    ]


def test_rejected_rows_exit_1_with_the_report_written(tmp_path: Path) -> None:
    code, _, err = _cli(INGEST_DATA / "ragged_rows.csv", "--out", tmp_path)
    assert code == 1
    assert "invalid data: 2 of 4 rows rejected (50.00%), above --max-reject-rate 0" in err
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["rows_read"], report["rows_clean"], report["rows_rejected"]) == (4, 2, 2)
    assert report["reject_codes"] == {"ragged_row": 2}
    rejects = pl.read_csv(tmp_path / "rejects.csv")
    assert rejects.columns == ["file", "table", "line", "column", "value", "code", "message"]
    assert rejects["line"].to_list() == [3, 5]


def test_max_reject_rate_allows_a_share_of_rejects(tmp_path: Path) -> None:
    code, _, err = _cli(INGEST_DATA / "ragged_rows.csv", "--out", tmp_path, "--max-reject-rate", "0.5")
    assert code == 0
    assert "within --max-reject-rate 0.5" in err
    assert _cli(INGEST_DATA / "ragged_rows.csv", "--out", tmp_path, "--max-reject-rate", "0.49")[0] == 1


def test_json_report_on_stdout_matches_report_json(tmp_path: Path) -> None:
    code, out, _ = _cli(INGEST_DATA / "blank_lines.csv", "--out", tmp_path, "--report-format", "json")
    assert code == 1
    assert json.loads(out) == json.loads((tmp_path / "report.json").read_text())


def test_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = _cli(tmp_path / "nope.csv", "--out", tmp_path / "out")
    assert code == 2
    assert "does not exist" in err
    assert not (tmp_path / "out").exists()


def test_bad_mapping_is_a_usage_error_with_a_suggestion(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[tables.invoices]\ndate_format = ["%d/%m/%Y"]\n')
    code, _, err = _cli(INGEST_DATA / "invoices.csv", "--map", mapping, "--out", tmp_path / "out")
    assert code == 2
    assert (
        "error: m.toml: unknown setting 'tables.invoices.date_format' (did you mean 'date_formats'?)" in err
    )
    assert not (tmp_path / "out").exists()


def test_unknown_encoding_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = _cli(INGEST_DATA / "invoices.csv", "--encoding", "klingon", "--out", tmp_path)
    assert code == 2
    assert "error: --encoding: unknown encoding 'klingon'" in err


def test_unreadable_file_is_exit_1_with_one_line_and_a_hint(tmp_path: Path) -> None:
    code, _, err = _cli(INGEST_DATA / "binary_garbage.csv", "--out", tmp_path)
    assert code == 1
    assert err.startswith("error: ")
    assert (
        "binary_garbage.csv: not a text table: binary data at byte 143 hint: give a CSV, Parquet or XLSX"
        in err
    )


def test_rerun_gives_identical_bytes(tmp_path: Path) -> None:
    files = [INGEST_DATA / n for n in ("customers.csv", "invoices.csv", "unknown_invoice_payment.csv")]
    _cli(*files, "--out", tmp_path / "a")
    _cli(*reversed(files), "--out", tmp_path / "b")  # file order changes neither tables nor sort order
    first = _digests(tmp_path / "a")
    _cli(*files, "--out", tmp_path / "a")
    assert _digests(tmp_path / "a") == first
    for name in ("customers.parquet", "invoices.parquet", "payments.parquet"):
        assert first[name] == _digests(tmp_path / "b")[name]


def test_stale_events_are_removed(tmp_path: Path) -> None:
    (tmp_path / "events.parquet").write_bytes(b"old")
    _cli(INGEST_DATA / "invoices.csv", "--out", tmp_path)
    assert not (tmp_path / "events.parquet").exists()


def test_cli_and_library_agree(tmp_path: Path) -> None:
    files = [INGEST_DATA / "customers.csv", INGEST_DATA / "unknown_customer.csv"]
    _cli(*files, "--out", tmp_path)
    lib = ingest(files)
    assert pl.read_parquet(tmp_path / "invoices.parquet").equals(lib.invoices)
    assert json.loads((tmp_path / "report.json").read_text()) == json.loads(json.dumps(lib.report.to_dict()))


def test_help_has_an_example() -> None:
    result = runner.invoke(app, ["ingest", "--help"])
    assert result.exit_code == 0
    assert "billcx ingest customers.csv invoices.csv payments.csv --out clean/" in result.stdout


def test_real_process_smoke(tmp_path: Path) -> None:
    import subprocess
    import sys

    src = tmp_path / "in.csv"
    shutil.copy(INGEST_DATA / "invoices.csv", src)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "billcx",
            "ingest",
            str(src),
            "--out",
            str(tmp_path / "o"),
            "--report-format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows_clean"] == 4


def test_format_xlsx_writes_spreadsheets_beside_parquet(tmp_path: Path) -> None:
    """Finance teams open the clean tables in a spreadsheet: --format xlsx adds a workbook per table."""
    sample = Path(__file__).resolve().parents[2] / "sample_data"
    out = tmp_path / "clean"
    result = runner.invoke(app, ["ingest", str(sample / "customers.csv"), str(sample / "invoices.csv"),
                                 str(sample / "payments.csv"), "--out", str(out), "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    for name in ("customers", "invoices", "payments"):
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.xlsx").is_file()
    book = pl.read_excel(out / "invoices.xlsx")
    clean = pl.read_parquet(out / "invoices.parquet")
    assert book.height == clean.height
