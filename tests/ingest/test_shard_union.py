"""Sharded ingest: the N shards' clean tables and rejects add up to the unsharded run's, exactly.

The messy sample carries every kind of defect (ragged rows, bad values, duplicates, unknown
customers and invoices ...), so some rows are rejected before a customer id is known (shard 0
only) and some after (their customer's shard).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from billcx.cli import app
from billcx.ingest import IngestResult, ingest, write_ingest
from billcx.shard import Shard, shard_ids

MESSY = Path(__file__).resolve().parent.parent.parent / "sample_data" / "messy"
FILES = [MESSY / n for n in ("customers.csv", "invoices.csv", "payments.csv", "events.csv")]
N = 3
KEYS = {
    "customers": ["customer_id"],
    "invoices": ["invoice_id"],
    "payments": ["payment_id"],
    "events": ["customer_id", "at", "channel", "event"],
}


@pytest.fixture(scope="module")
def whole() -> IngestResult:
    return ingest(FILES)


@pytest.fixture(scope="module")
def parts() -> list[IngestResult]:
    return [ingest(FILES, shard=Shard(i, N)) for i in range(N)]


def _union(frames: list[pl.DataFrame], key: list[str]) -> pl.DataFrame:
    return pl.concat(frames).sort(key, nulls_last=True)


def test_clean_tables_union_equals_unsharded(whole: IngestResult, parts: list[IngestResult]) -> None:
    for name, key in KEYS.items():
        full = whole.tables()[name]
        assert full.height > 0
        assert _union([p.tables()[name] for p in parts], key).equals(full.sort(key, nulls_last=True)), name
        for i, p in enumerate(parts):
            ids = p.tables()[name]["customer_id"]
            assert ids.is_in(shard_ids(ids, Shard(i, N)).implode()).all(), f"{name}: shard {i} has others"


def test_rejects_union_equals_unsharded(whole: IngestResult, parts: list[IngestResult]) -> None:
    cols = whole.rejects.columns
    assert whole.rejects.height > 0
    union = _union([p.rejects for p in parts], cols)
    assert union.equals(whole.rejects.sort(cols, nulls_last=True))
    # Rows that never had a valid customer id (e.g. ragged rows) are reported by shard 0 alone.
    ragged = [p.rejects.filter(pl.col("code") == "ragged_row").height for p in parts]
    assert ragged[0] == whole.rejects.filter(pl.col("code") == "ragged_row").height > 0
    assert ragged[1:] == [0] * (N - 1)
    # Rows rejected by a cross-table check after parsing go to their customer's shard: several shards.
    unknown = [p.rejects.filter(pl.col("code") == "unknown_customer").height for p in parts]
    assert sum(unknown) == whole.rejects.filter(pl.col("code") == "unknown_customer").height
    assert sum(n > 0 for n in unknown) >= 2


def test_counts_reconcile_per_file_and_shard(whole: IngestResult, parts: list[IngestResult]) -> None:
    for p in parts:
        for f in p.report.files:
            assert f.rows_read == f.rows_clean + f.rows_rejected + f.rows_in_other_shards, f.file
        report = p.report.to_dict()
        assert report["rows_read"] == whole.report.rows_read
        assert report["rows_read"] == (
            report["rows_clean"] + report["rows_rejected"] + report["rows_in_other_shards"]
        )
    for attr in ("rows_clean", "rows_rejected"):
        assert sum(getattr(p.report, attr) for p in parts) == getattr(whole.report, attr), attr
    assert sum(sum(f.duplicates_collapsed for f in p.report.files) for p in parts) == sum(
        f.duplicates_collapsed for f in whole.report.files
    )
    codes: dict[str, int] = {}
    for p in parts:
        for code, n in p.report.codes.items():
            codes[code] = codes.get(code, 0) + n
    assert codes == whole.report.codes
    # An unsharded report has no shard figures at all (its bytes are unchanged).
    plain = whole.report.to_dict()
    assert "shard" not in plain and "rows_in_other_shards" not in plain
    assert all("rows_in_other_shards" not in f for f in plain["files"])


def test_unsharded_output_unchanged_by_one_shard(tmp_path: Path, whole: IngestResult) -> None:
    """Shard 0/1 keeps everything: the same tables and rejects as an unsharded run."""
    one = ingest(FILES, shard=Shard(0, 1))
    for name, frame in whole.tables().items():
        assert one.tables()[name].equals(frame), name
    assert one.rejects.equals(whole.rejects)
    assert one.report.rows_in_other_shards == 0


def test_cli_shard(tmp_path: Path, whole: IngestResult) -> None:
    runner = CliRunner()
    rejects = []
    for i in range(N):
        out = tmp_path / str(i)
        res = runner.invoke(
            app,
            ["ingest", *map(str, FILES), "--out", str(out), "--shard", f"{i}/{N}", "--max-reject-rate", "1"],
        )
        assert res.exit_code == 0, res.output
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert report["shard"] == f"{i}/{N}"
        rejects.append(pl.read_csv(out / "rejects.csv", infer_schema=False))
    write_ingest(whole, tmp_path / "all")
    full = pl.read_csv(tmp_path / "all" / "rejects.csv", infer_schema=False)
    assert _union(rejects, full.columns).equals(full.sort(full.columns, nulls_last=True))
    res = runner.invoke(app, ["ingest", *map(str, FILES), "--out", str(tmp_path / "x"), "--shard", "3/3"])
    assert res.exit_code == 2
    assert "--shard: need 0 <= I < N, found '3/3'" in res.stderr
