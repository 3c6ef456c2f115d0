"""Foundation: exit codes, atomic writes, exports, config loading, CLI basics."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from billcx import __version__
from billcx.atomic import atomic_path, write_text
from billcx.cli import app
from billcx.config import from_mapping
from billcx.errors import ConfigError
from billcx.export import Format, neutralise_formulas, write_table
from billcx.schema import INVOICES

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"billcx {__version__}"


def test_atomic_path_leaves_target_untouched_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_writes_get_the_usual_file_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644


def test_formula_injection_is_neutralised() -> None:
    frame = pl.DataFrame({"a": ["=HYPERLINK(1)", "+1", "-x", "@sum", "\tx", "ok", None]})
    out = neutralise_formulas(frame)["a"].to_list()
    assert out == ["'=HYPERLINK(1)", "'+1", "'-x", "'@sum", "'\tx", "ok", None]


@pytest.mark.parametrize("fmt", list(Format))
def test_write_table_is_byte_identical_on_rerun(tmp_path: Path, fmt: Format) -> None:
    frame = pl.DataFrame({"invoice_id": ["=1", "b"], "amount": [123456, -5], "currency": ["USD", "JPY"]})
    first = hashlib.sha256(write_table(frame, tmp_path / "t", fmt=fmt, table=INVOICES).read_bytes()).digest()
    second = hashlib.sha256(write_table(frame, tmp_path / "t", fmt=fmt, table=INVOICES).read_bytes()).digest()
    assert first == second


def test_csv_shows_money_in_major_units(tmp_path: Path) -> None:
    frame = pl.DataFrame({"amount": [123456, -5, -123], "currency": ["USD", "JPY", "EUR"]})
    text = write_table(frame, tmp_path / "t", fmt=Format.CSV, table=INVOICES).read_text()
    assert text.splitlines() == ["amount,currency", "1234.56,USD", "-5,JPY", "-1.23,EUR"]


@dataclasses.dataclass(frozen=True)
class _Inner:
    hours: tuple[int, ...] = (8, 21)


@dataclasses.dataclass(frozen=True)
class _Settings:
    window_days: int = 365
    name: str = "x"
    inner: _Inner = _Inner()


def test_config_unknown_key_suggests_closest() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'window_dayz' \(did you mean 'window_days'\?\)"):
        from_mapping(_Settings, {"window_dayz": 3})


def test_config_type_errors_name_the_location() -> None:
    with pytest.raises(ConfigError, match=r"'inner.hours\[1\]' must be an integer, found 'x'"):
        from_mapping(_Settings, {"inner": {"hours": [1, "x"]}})
    assert from_mapping(_Settings, {"inner": {"hours": [9, 20]}}).inner.hours == (9, 20)
