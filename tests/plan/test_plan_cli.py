"""`billcx plan` and `billcx policy`: exit codes, messages, files, parity with the library."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from plan_scenarios import AS_OF, customer, frames, invoice, payment
from test_plan_golden import scenario
from typer.testing import CliRunner

from billcx.cli import app
from billcx.plan import default_policy_text, plan
from billcx.schema import SEGMENTS

runner = CliRunner()


def _write_inputs(root: Path, data: object, segments: pl.DataFrame) -> tuple[Path, Path]:
    clean, seg = root / "clean", root / "seg"
    clean.mkdir(parents=True)
    seg.mkdir()
    for name in ("customers", "invoices", "payments"):
        getattr(data, name).collect().write_parquet(clean / f"{name}.parquet")
    SEGMENTS.conform(segments).write_parquet(seg / "customers.parquet")
    return clean, seg


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    sc = scenario()
    return _write_inputs(tmp_path, sc["data"], sc["segments"])  # type: ignore[arg-type]


def _plan(clean: Path, seg: Path, out: Path, *extra: str) -> object:
    return runner.invoke(
        app,
        ["plan", str(clean), "--segments", str(seg), "--as-of", AS_OF.isoformat(), "--out", str(out), *extra],
    )


def test_plan_writes_outputs_and_summary(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    result = _plan(*inputs, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "plan_report.json",
        "schedule.csv",
        "schedule.parquet",
        "skipped.csv",
        "skipped.parquet",
    ]
    assert result.stderr.startswith("billcx plan: ")
    assert "skipped: catch-up:superseded" not in result.stderr  # no sent log given here
    assert "do-not-contact 4" in result.stderr


def test_cli_matches_the_library(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    result = _plan(*inputs, tmp_path / "out", "--report-format", "json", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    sc = scenario()
    lib = plan(sc["data"], sc["segments"], as_of=AS_OF)  # type: ignore[arg-type]
    assert pl.read_parquet(tmp_path / "out" / "schedule.parquet").equals(lib.schedule)
    assert report["messages"] == lib.summary.messages and report["stage"] == "plan"
    assert (tmp_path / "out" / "schedule.jsonl").exists()


def test_stale_data_exits_1_with_a_hint(tmp_path: Path) -> None:
    data = frames(
        [customer("c1")],
        [invoice("i1", "c1", dt.date(2025, 7, 10), issue=dt.date(2025, 6, 30))],
        [payment("p1", "c1", None, dt.datetime(2025, 6, 1, 12), 100)],
    )
    clean, seg = _write_inputs(tmp_path, data, SEGMENTS.empty())
    result = _plan(clean, seg, tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(
        "error: payments end on 2025-06-01 but invoices run to 2025-06-30 (29 days later"
    )
    assert "hint: export payments up to the same date as invoices, or pass --force" in result.stderr
    assert not (tmp_path / "out").exists()
    forced = _plan(clean, seg, tmp_path / "out", "--force")
    assert forced.exit_code == 0 and "warning: stale data planned anyway (--force)" in forced.stderr


def test_usage_errors_exit_2(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    both = _plan(*inputs, tmp_path / "o", "--horizon", "5", "--for-date", "2025-07-02")
    assert both.exit_code == 2 and "error: --horizon and --for-date cannot be combined" in both.stderr
    bad = runner.invoke(
        app,
        [
            "plan",
            str(inputs[0]),
            "--segments",
            str(inputs[1]),
            "--as-of",
            "07/01/2025",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert (
        bad.exit_code == 2
        and "error: --as-of: expected a date as YYYY-MM-DD, found '07/01/2025'" in bad.stderr
    )
    before = _plan(*inputs, tmp_path / "o", "--for-date", "2025-06-01")
    assert (
        before.exit_code == 2 and "error: --for-date 2025-06-01 is before --as-of 2025-07-01" in before.stderr
    )


def test_bad_policy_exits_2_naming_file_and_key(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    pol = tmp_path / "policy.toml"
    pol.write_text(default_policy_text().replace("max_defer_days = 7", "max_defer_dayz = 7"))
    result = _plan(*inputs, tmp_path / "out", "--policy", str(pol))
    assert result.exit_code == 2
    assert (
        f"error: {pol}: unknown setting 'caps.max_defer_dayz' (did you mean 'max_defer_days'?)"
        in result.stderr.replace("\n", "")
    )
    lint_bad = tmp_path / "lint.toml"
    lint_bad.write_text(default_policy_text().replace('ladder = "gentle"', 'ladder = "gentel"'))
    result = _plan(*inputs, tmp_path / "out", "--policy", str(lint_bad))
    assert (
        result.exit_code == 2 and "error: policy: rules[4].ladder: no ladder named 'gentel'" in result.stderr
    )


def test_holds_file_errors_name_file_line_and_column(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    holds = tmp_path / "holds.csv"
    holds.write_text("invoice_id,customer_id,until,reason\nA-1,,2025-07-20,promise\nA-2,,2025-13-01,oops\n")
    result = _plan(*inputs, tmp_path / "out", "--holds", str(holds))
    assert result.exit_code == 1
    assert (
        f"error: {holds}:3, column until: expected a date as YYYY-MM-DD, found '2025-13-01'"
        in result.stderr.replace("\n", "")
    )
    holds.write_text(
        "invoice_id,customer_id,until,reason\nA-1,,2025-08-20,promise to pay\n,held,2025-08-20,\n"
    )
    ok = _plan(*inputs, tmp_path / "out", "--holds", str(holds), "--report-format", "json")
    assert ok.exit_code == 0
    skipped = pl.read_parquet(tmp_path / "out" / "skipped.parquet")
    assert skipped.filter(pl.col("code") == "held")["customer_id"].unique().sort().to_list() == [
        "ca-reliable",
        "held",
    ]


def test_sent_log_from_the_schedule_csv_prevents_replanning(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    first = _plan(*inputs, tmp_path / "day1", "--for-date", "2025-07-01")
    assert first.exit_code == 0
    sched = pl.read_csv(tmp_path / "day1" / "schedule.csv")
    assert sched.height > 0
    sent = sched.filter(pl.col("arm") == "treatment").with_columns(
        sent_at=pl.col("send_at_utc").str.slice(0, 19) + pl.lit("Z")
    )
    sent.write_csv(tmp_path / "sent.csv")
    again = _plan(
        *inputs, tmp_path / "day1b", "--for-date", "2025-07-01", "--sent", str(tmp_path / "sent.csv")
    )
    assert again.exit_code == 0
    replanned = pl.read_parquet(tmp_path / "day1b" / "schedule.parquet")
    sent_keys = set(zip(sent["customer_id"], sent["step"], strict=True))
    assert sent_keys and not sent_keys & set(zip(replanned["customer_id"], replanned["step"], strict=True))
    skipped = pl.read_parquet(tmp_path / "day1b" / "skipped.parquet").filter(pl.col("code") == "already-sent")
    assert set(zip(skipped["customer_id"], skipped["step"], strict=True)) == sent_keys
    # With a sent log billcx knows what was missed before today: the missed step is caught up, once.
    assert [r for rs in replanned["reasons"] for r in rs if r.startswith("catch-up:missed")]


def test_policy_init_and_check(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    assert runner.invoke(app, ["policy", "init", str(path)]).exit_code == 0
    assert path.read_text() == default_policy_text()
    again = runner.invoke(app, ["policy", "init", str(path)])
    assert again.exit_code == 2 and f"error: {path}: already exists" in again.stderr
    assert runner.invoke(app, ["policy", "init", str(path), "--force"]).exit_code == 0
    ok = runner.invoke(app, ["policy", "check", str(path)])
    assert ok.exit_code == 0 and ok.stdout.strip() == f"{path}: 0 error(s), 0 warning(s)"
    path.write_text(
        default_policy_text()
        .replace("max_messages = 2", "max_messages = 0")
        .replace('description = "Everyone else"\n', 'description = "Everyone else"\ntreatments = ["new"]\n')
    )
    bad = runner.invoke(app, ["policy", "check", str(path)])
    assert bad.exit_code == 2
    assert bad.stdout.splitlines() == [
        f"{path}: caps.max_messages: error: must be at least 1, found 0",
        f"{path}: rules: warning: no rule matches every invoice: invoices matching none get no reminders "
        "(skipped as no-ladder)",
        f"{path}: 1 error(s), 1 warning(s)",
    ]
    as_json = json.loads(runner.invoke(app, ["policy", "check", str(path), "--report-format", "json"]).stdout)
    assert as_json["errors"] == 1 and as_json["findings"][0]["path"] == "caps.max_messages"


def test_help_has_examples() -> None:
    result = runner.invoke(app, ["plan", "--help"])
    assert result.exit_code == 0 and "billcx plan clean --segments seg" in result.stdout
    assert runner.invoke(app, ["policy", "--help"]).exit_code == 0


def test_real_process_smoke(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "billcx",
            "plan",
            str(inputs[0]),
            "--segments",
            str(inputs[1]),
            "--as-of",
            AS_OF.isoformat(),
            "--out",
            str(tmp_path / "out"),
            "--report-format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"][0] == "schedule.parquet"


def test_sent_log_parquet_needs_its_columns(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "sent.parquet"
    pl.DataFrame({"customer_id": ["x"], "step": ["s"]}).write_parquet(bad)
    result = _plan(*inputs, tmp_path / "out", "--sent", str(bad))
    assert result.exit_code == 1
    assert f"error: {bad}: missing column invoice_ids, sent_at of the sent file" in result.stderr.replace(
        "\n", ""
    )
