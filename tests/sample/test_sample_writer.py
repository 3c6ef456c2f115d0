"""write_exports(): deterministic files in the format billing systems export."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import polars as pl
import pytest

from billcx.errors import UsageError
from billcx.sample import SampleData, SampleSettings, generate, write_exports
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS

FILES = ["customers", "invoices", "payments", "events"]


def _digests(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_byte_identical_files(tmp_path: Path, fmt: str) -> None:
    settings = SampleSettings(customers=120, seed=5)
    first = write_exports(generate(settings), tmp_path / "a", fmt=fmt)
    second = write_exports(generate(settings), tmp_path / "b", fmt=fmt)
    assert [p.name for p in first] == [f"{name}.{fmt}" for name in FILES]
    assert _digests(first) == _digests(second)


def test_different_seeds_differ(tmp_path: Path) -> None:
    a = _digests(write_exports(generate(SampleSettings(customers=120, seed=5)), tmp_path / "a"))
    b = _digests(write_exports(generate(SampleSettings(customers=120, seed=6)), tmp_path / "b"))
    assert all(a[name] != b[name] for name in a)


def test_csv_cells_are_written_as_billing_systems_export_them(data: SampleData, tmp_path: Path) -> None:
    paths = {p.stem: p for p in write_exports(data, tmp_path)}
    raw = paths["invoices"].read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert list(rows[0]) == INVOICES.names
    money = re.compile(r"-?\d+(\.\d\d)?")
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", row["issue_date"])
        assert row["disputed"] in ("true", "false")
        for column in ("amount", "amount_paid"):
            assert money.fullmatch(row[column]), row[column]
            assert ("." in row[column]) == (row["currency"] != "JPY")
    assert any(r["amount"].startswith("-") for r in rows)
    assert any(r["paid_date"] == "" for r in rows)
    payments = list(csv.DictReader(io.StringIO(paths["payments"].read_text(encoding="utf-8"))))
    assert list(payments[0]) == PAYMENTS.names
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", p["paid_at"]) for p in payments)
    assert any(p["invoice_id"] == "" for p in payments)
    customers = list(csv.DictReader(io.StringIO(paths["customers"].read_text(encoding="utf-8"))))
    assert list(customers[0]) == CUSTOMERS.names
    assert all(c["phone"] == "" or c["phone"].startswith("+") for c in customers)
    events = list(csv.DictReader(io.StringIO(paths["events"].read_text(encoding="utf-8"))))
    assert list(events[0]) == EVENTS.names


def test_csv_round_trips_to_the_same_values(data: SampleData, tmp_path: Path) -> None:
    path = write_exports(data, tmp_path)[1]
    text = pl.read_csv(path, infer_schema=False)
    minor = text.with_columns(
        pl.when(pl.col("currency") == "JPY").then(pl.col("amount").cast(pl.Int64))
        .otherwise((pl.col("amount").str.replace(r"\.", "")).cast(pl.Int64)).alias("amount"))
    assert minor["amount"].to_list() == data.invoices.sort("invoice_id")["amount"].to_list()


def test_parquet_keeps_native_contract_types(data: SampleData, tmp_path: Path) -> None:
    paths = write_exports(data, tmp_path, fmt="parquet")
    for path, table in zip(paths, (CUSTOMERS, INVOICES, PAYMENTS, EVENTS), strict=True):
        frame = pl.read_parquet(path)
        assert frame.schema == table.schema
    amounts = pl.read_parquet(paths[1])["amount"].to_list()
    assert amounts == data.invoices.sort("invoice_id")["amount"].to_list()


def test_unknown_format_is_a_usage_error(data: SampleData, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"format: expected csv or parquet, found 'xlsx'"):
        write_exports(data, tmp_path, fmt="xlsx")
