"""``billcx sample`` on the command line: exit codes, messages, summary and parity with the library."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from billcx.cli import app
from billcx.sample import SampleSettings, generate, messify, write_exports, write_messy

runner = CliRunner()


def test_writes_the_exports_and_summarises_them(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "--customers", "40", "--seed", "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"billcx sample: 40 customers, seed 3, 2025-05-01 to 2026-10-31, written to {tmp_path}"
    data = generate(SampleSettings(customers=40, seed=3))
    for name, count in data.counts().items():
        assert any(line.startswith(f"│ {name}.csv") and f" {count:,} " in line for line in lines), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv", "events.csv", "invoices.csv",
                                                           "payments.csv"]


def test_cli_and_library_write_the_same_bytes(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "-n", "30", "--seed", "9", "--end", "2026-03-31", "--months", "20",
                                 "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    paths = write_exports(generate(SampleSettings(customers=30, seed=9, end=__import__("datetime").date(
        2026, 3, 31), months=20)), tmp_path / "lib")
    for path in paths:
        assert (tmp_path / "cli" / path.name).read_bytes() == path.read_bytes()


def test_messy_writes_defects_and_counts_them(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "-n", "60", "--seed", "2", "--messy", "--out", str(tmp_path / "m"),
                                 "--report-format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = messify(generate(SampleSettings(customers=60, seed=2)), seed=2)
    write_messy(expected, tmp_path / "lib")
    by_file = {f["file"]: f for f in report["files"]}
    assert set(by_file) == {"customers.csv", "invoices.csv", "payments.csv", "events.csv", "defects.json"}
    for file in expected.files:
        assert by_file[file.name]["rows"] == file.data_rows
        assert by_file[file.name]["defects"] == sum(1 for d in expected.defects if d.file == file.name)
        assert (tmp_path / "m" / file.name).read_bytes() == file.content
    assert (tmp_path / "m" / "defects.json").read_bytes() == (tmp_path / "lib" / "defects.json").read_bytes()


def test_parquet_format(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "-n", "10", "--format", "parquet", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".parquet"] * 4


def test_messy_parquet_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "--messy", "--format", "parquet", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --messy: defects live in the text of CSV files; found --format parquet",
        "hint: drop --format parquet or --messy",
    ]
    assert not (tmp_path / "x").exists()


def test_bad_end_date_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "--end", "31/10/2026", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --end: expected a date as YYYY-MM-DD, found '31/10/2026'"


def test_too_short_history_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "--months", "12", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--months" in result.stderr


def test_help_has_an_example() -> None:
    result = runner.invoke(app, ["sample", "--help"])
    assert result.exit_code == 0
    assert "Example: billcx sample --customers 300 --seed 7 --out sample_data" in result.stdout


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--quiet", "sample", "-n", "5", "--out", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""
