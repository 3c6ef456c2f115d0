"""``billcx report`` through the CLI: exit codes, exact messages, JSON report, files written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billcx.cli import app
from billcx.report import build_report

from .builders import IDS

runner = CliRunner()


def test_report_writes_html_into_the_run_and_prints_a_summary(run_dir: Path) -> None:
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert html == build_report(run_dir).html
    assert "billcx report: run as of 2026-03-31" in result.stderr
    assert "overdue balance" in result.stderr and "1,334.50 USD" in result.stderr
    assert f"wrote {run_dir / 'report.html'}" in result.stderr
    assert result.stdout == ""


def test_json_report_on_stdout(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(run_dir), "--out", str(out), "--report-format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["out"] == str(out) and out.is_file()
    assert data["headlines"]["messages planned"] == "3"
    assert [s["key"] for s in data["sections"]] == ["aging", "segments", "calibration", "schedule", "cohorts",
                                                    "rejects"]


def test_missing_run_folder_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = runner.invoke(app, ["report", str(missing)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {missing}: no such run folder",
        "hint: give the folder `billcx run` wrote (with clean/, segments/, plan/, bundle/)"]
    assert not (tmp_path / "nope").exists()


def test_pseudonymize_with_a_key_file(run_dir: Path, tmp_path: Path) -> None:
    key = tmp_path / "key.txt"
    key.write_text("0123456789abcdef0123456789abcdef\n")
    out = tmp_path / "shared.html"
    result = runner.invoke(app, ["report", str(run_dir), "--out", str(out), "--pseudonymize", str(key)])
    assert result.exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert not any(i in html for i in IDS)


def test_missing_key_file_exits_2(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(run_dir.parent)
    result = runner.invoke(app, ["report", "run", "--pseudonymize", "absent.key"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: --pseudonymize: key file absent.key not found"
    assert not (run_dir / "report.html").exists()


def test_unusable_file_exits_1_but_still_writes_the_report(run_dir: Path) -> None:
    (run_dir / "run.json").write_text("{not json")
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 1
    assert "unusable file: run.json: not valid JSON (JSONDecodeError)" in result.stderr
    assert (run_dir / "report.html").is_file()


def test_quiet_prints_nothing(run_dir: Path) -> None:
    result = runner.invoke(app, ["--quiet", "report", str(run_dir)])
    assert result.exit_code == 0
    assert result.stderr == "" and result.stdout == ""
