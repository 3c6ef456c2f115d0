"""``billcx evaluate`` and ``billcx backtest`` through the CLI: exit codes and exact messages."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from billcx.cli import app
from billcx.evaluate import EvaluateSettings, evaluate
from billcx.export import write_table
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS, SCHEDULE

from .builders import AS_OF, outcomes, schedule

runner = CliRunner()


def _oneline(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``run/`` (plan + run.json) and ``later/`` (the outcomes) in a temporary working folder."""
    monkeypatch.chdir(tmp_path)
    write_table(schedule(), tmp_path / "run" / "plan" / "schedule.parquet", table=SCHEDULE)
    (tmp_path / "run" / "run.json").write_text(json.dumps({"as_of": AS_OF.isoformat()}))
    data = outcomes()
    for lf, table in ((data.customers, CUSTOMERS), (data.invoices, INVOICES), (data.payments, PAYMENTS),
                      (data.events, EVENTS)):
        assert lf is not None
        write_table(table.conform(lf), tmp_path / "later" / f"{table.name}.parquet", table=table)
    return tmp_path


def test_evaluate_text_summary(folders: Path) -> None:
    result = runner.invoke(app, ["evaluate", "run", "--outcomes", "later"])
    assert result.exit_code == 0, result.output
    text = _oneline(result.stderr)
    assert ("billcx evaluate: plan as of 2026-03-01, outcomes to 2026-04-30 (60 days); 3 treatment and 2 "
            "holdout units") in text
    assert ("The sample is too small to conclude: 3 treatment and 2 holdout units; at least 30 in each arm "
            "are needed.") in text
    assert "excluded: 1 units (on a ladder without both arms)" in text
    assert result.stdout == ""


def test_evaluate_json_matches_the_library(folders: Path) -> None:
    result = runner.invoke(app, ["evaluate", "run", "--outcomes", "later", "--report-format", "json",
                                 "--min-per-arm", "2"])
    assert result.exit_code == 0
    expected = evaluate(schedule(), outcomes(), as_of=AS_OF, settings=EvaluateSettings(min_per_arm=2))
    assert json.loads(result.stdout) == json.loads(json.dumps(expected.to_dict()))


def test_missing_run_folder_exits_2(folders: Path) -> None:
    result = runner.invoke(app, ["evaluate", "nope", "--outcomes", "later"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: nope: no such run folder",
                                          "hint: give the folder `billcx run` wrote"]


def test_run_without_a_plan_exits_2(folders: Path) -> None:
    (folders / "empty").mkdir()
    result = runner.invoke(app, ["evaluate", "empty", "--outcomes", "later"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == ("error: empty/plan/schedule.parquet: not found; evaluate "
                                             "compares the arms of the plan's schedule")


def test_unknown_as_of_exits_2_until_given(folders: Path) -> None:
    (folders / "run" / "run.json").unlink()
    result = runner.invoke(app, ["evaluate", "run", "--outcomes", "later"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: run: no run.json or plan/plan_report.json records the as-of date",
        "hint: pass --as-of YYYY-MM-DD (the date the plan was made on)"]
    given = runner.invoke(app, ["evaluate", "run", "--outcomes", "later", "--as-of", "2026-03-01"])
    assert given.exit_code == 0


def test_no_holdout_exits_1(folders: Path) -> None:
    write_table(schedule().with_columns(pl.lit("treatment").alias("arm")),
                folders / "run" / "plan" / "schedule.parquet", table=SCHEDULE)
    result = runner.invoke(app, ["evaluate", "run", "--outcomes", "later"])
    assert result.exit_code == 1
    assert "Nothing to compare: the holdout arm has no measured units" in _oneline(result.stderr)


def test_outcomes_before_the_plan_exit_1(folders: Path) -> None:
    result = runner.invoke(app, ["evaluate", "run", "--outcomes", "later", "--as-of", "2026-05-01"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == ("error: --outcomes: the export ends on 2026-04-30, not after "
                                             "the plan's as-of date 2026-05-01")


def test_backtest_to_date_at_the_end_of_history_exits_2(folders: Path) -> None:
    runner.invoke(app, ["policy", "init", "a.toml"])
    result = runner.invoke(app, ["backtest", "later", "--policy", "a.toml", "--from", "2026-03-01",
                                 "--to", "2026-04-30"])
    assert result.exit_code == 2
    assert _oneline(result.stderr).startswith("error: --to 2026-04-30 is not before the end of the history "
                                              "(2026-04-30): nothing follows it to judge the replay by")


def test_backtest_missing_policy_file_exits_2(folders: Path) -> None:
    result = runner.invoke(app, ["backtest", "later", "--policy", "missing.toml"])
    assert result.exit_code == 2
    assert "missing.toml" in result.stderr
