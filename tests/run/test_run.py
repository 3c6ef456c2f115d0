"""`billcx run` and `billcx init`: the whole pipeline, its configuration and its failure modes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billcx.cli import app
from billcx.errors import ConfigError
from billcx.project import ProjectConfig, default_config_text, load_config

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("BILLCX_UPDATE_GOLDEN") == "1"

runner = CliRunner()


def _tree_digest(folder: Path) -> list[str]:
    return [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(folder).as_posix()}"
            for p in sorted(folder.rglob("*")) if p.is_file()]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run of the bundled sample data (shared by the tests that only read it)."""
    out = tmp_path_factory.mktemp("runs")
    result = runner.invoke(app, ["--quiet", "run", "--config", str(SAMPLE / "billcx.toml"),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / "run-2026-10-31"


def test_run_writes_every_stage_into_one_dated_folder(sample_run: Path) -> None:
    for rel in ("clean/invoices.parquet", "clean/rejects.csv", "clean/report.json",
                "segments/customers.parquet", "segments/model_report.json", "plan/schedule.parquet",
                "plan/schedule.csv", "bundle/manifest.jsonl", "bundle/SHA256SUMS", "report.html", "run.json"):
        assert (sample_run / rel).is_file(), rel
    run = json.loads((sample_run / "run.json").read_text())
    assert run["as_of"] == "2026-10-31"
    assert [s["name"] for s in run["stages"]] == ["ingest", "segment", "plan", "render", "report"]
    assert all(s["exit_code"] == 0 for s in run["stages"])
    # no staging or half-written folders left beside the run
    assert [p.name for p in sample_run.parent.iterdir()] == ["run-2026-10-31"]


def test_run_matches_golden_outputs(sample_run: Path) -> None:
    """Golden files: the schedule and manifest as text, and a digest of every file of the run."""
    GOLDEN.mkdir(exist_ok=True)
    actual = {
        "schedule.csv": (sample_run / "plan/schedule.csv").read_text(),
        "manifest.csv": (sample_run / "bundle/manifest.csv").read_text(),
        "files.sha256": "\n".join(_tree_digest(sample_run)) + "\n",
    }
    for name, text in actual.items():
        if UPDATE:
            (GOLDEN / name).write_text(text)
        assert (GOLDEN / name).read_text() == text, f"{name} differs (BILLCX_UPDATE_GOLDEN=1 to accept)"


def test_rerun_is_byte_identical(sample_run: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--quiet", "run", "--config", str(SAMPLE / "billcx.toml"),
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert _tree_digest(tmp_path / "run-2026-10-31") == _tree_digest(sample_run)


def test_segment_chunk_size_from_the_config_changes_no_output(
    sample_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[run] chunk_invoices bounds segment's memory; 5,224 invoices in chunks of ~700 give the same run."""
    import billcx.pipeline

    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project)
    config = project / "billcx.toml"
    config.write_text(config.read_text().replace("[run]\n", "[run]\nchunk_invoices = 700\n"))
    seen: list[object] = []
    real_segment = billcx.pipeline.segment

    def recording_segment(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("chunk_invoices"))
        return real_segment(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(billcx.pipeline, "segment", recording_segment)
    result = runner.invoke(app, ["--quiet", "run", "--config", str(config), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert seen == [700]
    run = tmp_path / "o" / "run-2026-10-31"
    for stage in ("segments", "plan", "bundle"):
        assert _tree_digest(run / stage) == _tree_digest(sample_run / stage), stage


def test_chunk_invoices_must_be_positive(tmp_path: Path) -> None:
    config = tmp_path / "billcx.toml"
    config.write_text("[run]\nchunk_invoices = 0\n")
    with pytest.raises(ConfigError, match="chunk_invoices must be a positive number of invoice rows, "
                       "found 0"):
        load_config(config)


def test_failing_stage_stops_the_run_and_keeps_partial_output_aside(tmp_path: Path) -> None:
    project = tmp_path / "messy_project"
    shutil.copytree(SAMPLE / "messy", project / "exports")
    (project / "billcx.toml").write_text('[inputs]\npaths = ["exports/*.csv"]\n[run]\nas_of = "2026-10-31"\n')
    result = runner.invoke(app, ["run", "--config", str(project / "billcx.toml"),
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "run stopped: ingest exited 1" in result.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["run-2026-10-31.failed"]
    failed = tmp_path / "o" / "run-2026-10-31.failed"
    assert (failed / "clean" / "rejects.csv").is_file()
    assert not (failed / "segments").exists()


def test_unknown_setting_is_a_usage_error_with_a_suggestion(tmp_path: Path) -> None:
    config = tmp_path / "billcx.toml"
    config.write_text("[plan]\nhorizon_dayz = 10\n")
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown setting 'plan.horizon_dayz' (did you mean 'horizon_days'?)" in result.stderr


def test_missing_config_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "no billcx.toml here and no --config given" in result.stderr


def test_bad_as_of_in_config_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "billcx.toml"
    config.write_text('[run]\nas_of = "31/10/2026"\n')
    with pytest.raises(ConfigError, match="as_of must be YYYY-MM-DD or empty, found '31/10/2026'"):
        load_config(config)


def test_default_config_text_round_trips(tmp_path: Path) -> None:
    """billcx init writes every setting; reading that file back gives the defaults."""
    text = default_config_text()
    for table in ("[inputs]", "[run]", "[ingest]", "[segment]", "[plan]", "[render]", "[templates]"):
        assert table in text
    config_file = tmp_path / "billcx.toml"
    config_file.write_text(text)
    assert load_config(config_file) == ProjectConfig()


def test_init_scaffolds_a_working_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "acme"
    result = runner.invoke(app, ["init", str(project), "--sample-customers", "60"])
    assert result.exit_code == 0, result.output
    for rel in ("billcx.toml", "policy.toml", "cron.example", "exports/invoices.csv"):
        assert (project / rel).is_file(), rel
    assert (project / "templates").is_dir()
    config = load_config(project / "billcx.toml")
    assert config.plan.policy == "policy.toml" and config.templates.path == "templates"
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["--quiet", "run", "--as-of", "2026-10-31"])
    assert result.exit_code == 0, result.output
    assert (project / "runs" / "run-2026-10-31" / "bundle" / "SHA256SUMS").is_file()


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "billcx.toml").write_text("")
    result = runner.invoke(app, ["init", str(tmp_path), "--sample-customers", "0"])
    assert result.exit_code == 2
    assert "billcx.toml already exists" in result.stderr
