"""The bundled sample exports: the clean set ingests with no reject, the messy one exactly as its
defects.json says (plus the cascades the rules imply)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from billcx.exitcodes import ExitCode
from billcx.ingest import IngestResult, ingest

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
TABLES = ("customers", "invoices", "payments", "events")


def _ingest(folder: Path) -> IngestResult:
    if not (folder / "invoices.csv").exists():
        pytest.skip(f"no sample exports in {folder}")
    return ingest([folder / f"{t}.csv" for t in TABLES])


def test_clean_sample_has_no_reject() -> None:
    result = _ingest(SAMPLE)
    assert result.rejects.is_empty(), result.rejects.head(5)
    assert result.exit_code == ExitCode.OK
    for f in result.report.files:
        assert (f.rows_rejected, f.duplicates_collapsed, f.blank_lines) == (0, 0, 0)
    for table in TABLES:
        raw = pl.read_csv(SAMPLE / f"{table}.csv", infer_schema=False)
        assert result.tables()[table].height == raw.height


def test_messy_sample_rejects_exactly_its_defects() -> None:
    folder = SAMPLE / "messy"
    result = _ingest(folder)
    manifest = json.loads((folder / "defects.json").read_text())
    defects = manifest["defects"]
    got = {
        (Path(f).name, line, column, code)
        for f, line, column, code in result.rejects.select("file", "line", "column", "code").iter_rows()
    }
    coded = {(d["file"], d["line"], d["column"], d["code"]) for d in defects if d["code"]}
    assert coded <= got, sorted(coded - got)
    # Anything else is a consequence the rules spell out: the first copy of a conflicting id, and
    # rows whose invoice (or customer) was rejected.
    conflicting = {(d["file"], d["value"]) for d in defects if d["code"] == "duplicate_conflicting"}
    for file, line, column, code in sorted(got - coded):
        row = result.rejects.filter(
            pl.col("file").str.ends_with(file), pl.col("line") == line, pl.col("code") == code
        ).row(0, named=True)
        assert code == "parent_rejected" or (
            code == "duplicate_conflicting" and (file, row["value"]) in conflicting
        ), (file, line, column, code)
    untouched = [d for d in defects if not d["code"] and d["kind"] != "blank_line"]
    for d in untouched:  # normalised, kept or read as written: never in rejects
        assert (d["file"], d["line"]) not in {(f, ln) for f, ln, _, _ in got}, d
    for f in result.report.files:
        name = Path(f.file).name
        # Blank lines are not rows; a repeated header line is one (rejected as duplicate_header).
        headers = sum(1 for d in defects if d["file"] == name and d["code"] == "duplicate_header")
        assert f.rows_read == manifest["files"][name]["data_rows"] + headers
        assert f.rows_read == f.rows_clean + f.rows_rejected
    assert result.exit_code == ExitCode.DATA
