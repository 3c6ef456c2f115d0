"""CLI: billcx render, preview, templates init|lint (exit codes and exact messages)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billcx.cli import app
from billcx.export import write_table
from billcx.render import render, write_bundle
from billcx.schema import CUSTOMERS, INVOICES, PAYMENTS

from .builders import clean_data, golden_rows, row, schedule

runner = CliRunner()


def _has(needle: str, text: str) -> bool:
    """``needle`` occurs in ``text`` ignoring whitespace (rich wraps long lines, even inside paths)."""
    return "".join(needle.split()) in "".join(text.split())


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    plan, clean = tmp_path / "plan", tmp_path / "clean"
    data = clean_data()
    write_table(schedule(golden_rows()), plan / "schedule.parquet")
    for table, frame in ((CUSTOMERS, data.customers), (INVOICES, data.invoices), (PAYMENTS, data.payments)):
        write_table(frame.collect(), clean / f"{table.file_stem}.parquet")
    return plan, clean


def test_render_writes_the_bundle_and_matches_the_library(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    plan, clean = dirs
    out = tmp_path / "bundle"
    result = runner.invoke(app, ["render", str(plan), "--data", str(clean), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _has(f"billcx render -> {out}", result.stderr)
    library = write_bundle(render(schedule(golden_rows()), clean_data()), tmp_path / "lib")
    for name in ("manifest.jsonl", "sms.csv", "SHA256SUMS"):
        assert (out / name).read_bytes() == (library / name).read_bytes()


def test_render_exits_1_when_a_message_fails(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    plan, clean = dirs
    write_table(
        schedule([row("bad", "C4", ["U-1"], "USD", 1, "payment_plan_offer", "sms", offer={"type": "gift"})]),
        plan / "schedule.parquet",
    )
    out = tmp_path / "bundle"
    result = runner.invoke(
        app, ["render", str(plan), "--data", str(clean), "--out", str(out), "--report-format", "json"]
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["failed"], report["rendered"]) == (1, 0)
    assert report["failures"] == [
        {
            "message_key": "bad",
            "template": "en/payment_plan_offer",
            "code": "data",
            "error": "unknown offer type 'gift'; expected payment_plan or extension",
        }
    ]
    assert "bad,C4,sms,en/payment_plan_offer,data," in (out / "failures.csv").read_text()


def test_settings_errors_exit_2_naming_file_and_key(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    plan, clean = dirs
    toml = tmp_path / "billcx.toml"
    toml.write_text('[render]\ncompnay_name = "Acme"\n')
    result = runner.invoke(
        app,
        ["render", str(plan), "--data", str(clean), "--out", str(tmp_path / "b"), "--settings", str(toml)],
    )
    assert result.exit_code == 2
    assert _has(
        f"error: {toml}: unknown setting 'render.compnay_name' (did you mean 'company_name'?)", result.stderr
    )
    toml.write_text('[render]\npay_url = "https://pay.example.com/{account}"\n')
    result = runner.invoke(
        app, ["render", str(plan), "--data", str(clean), "--out", str(tmp_path / "b"), "-c", str(toml)]
    )
    assert result.exit_code == 2
    assert _has("pay_url: unknown placeholder {account}", result.stderr)


def test_settings_file_changes_the_sender(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    plan, clean = dirs
    toml = tmp_path / "billcx.toml"
    toml.write_text('[render]\ncompany_name = "Acme"\nfrom_address = "billing@acme.test"\n')
    out = tmp_path / "b"
    result = runner.invoke(
        app,
        ["--quiet", "render", str(plan), "--data", str(clean), "--out", str(out), "--settings", str(toml)],
    )
    assert result.exit_code == 0, result.output
    eml = (out / "email" / "m-ja-due-email.eml").read_text()
    assert "From: Acme <billing@acme.test>" in eml and "@acme.test>" in eml.split("Message-ID: ")[1]


def test_render_refuses_a_folder_that_is_not_a_bundle(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    plan, clean = dirs
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["render", str(plan), "--data", str(clean), "--out", str(home)])
    assert result.exit_code == 2
    assert _has(
        f"error: {home}: folder is not empty and is not a billcx bundle; refusing to replace it",
        result.stderr,
    )


def test_preview_prints_one_customers_messages(dirs: tuple[Path, Path]) -> None:
    plan, clean = dirs
    result = runner.invoke(app, ["preview", str(plan), "--data", str(clean), "--customer", "C4"])
    assert result.exit_code == 0, result.output
    assert "Extended due date available: November 30, 2026" in result.stdout
    assert "We have received your payment for invoice U-1. Thank you!" in result.stdout
    missing = runner.invoke(app, ["preview", str(plan), "--data", str(clean), "--customer", "NOPE"])
    assert missing.exit_code == 2
    assert _has("error: no planned messages for customer NOPE", missing.stderr)


def test_templates_init_and_lint(tmp_path: Path) -> None:
    folder = tmp_path / "pack"
    result = runner.invoke(app, ["templates", "init", str(folder)])
    assert result.exit_code == 0
    assert _has(f"wrote 48 templates to {folder}", result.stderr)
    again = runner.invoke(app, ["templates", "init", str(folder)])
    assert again.exit_code == 2 and _has(f"error: {folder}: folder is not empty", again.stderr)
    for lang in ("es", "fr", "de"):  # lint one language here: the default pack is linted in full elsewhere
        shutil.rmtree(folder / lang)
    clean = runner.invoke(app, ["templates", "lint", str(folder)])
    assert clean.exit_code == 0, clean.output
    assert clean.stderr.strip() == "0 error(s), 0 warning(s)"
    due = folder / "en" / "due.j2"
    due.write_text(due.read_text().replace('{% if tone == "firm" %}Payment', '{% if tone == "firm" %Payment'))
    broken = runner.invoke(app, ["templates", "lint", str(folder)])
    assert broken.exit_code == 1
    assert broken.stdout.splitlines()[0].startswith("en/due.j2:3: error syntax: ")
