"""The benchmark suite cannot rot: a tiny end-to-end run, every stage adapter, and the goal logic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from bench.generate import Dataset, dataset  # noqa: E402
from bench.goals import evaluate_goals, ratios  # noqa: E402
from bench.steps import StepPaths, run_step  # noqa: E402

ROWS = 1500
PROCESS_FIELDS = {"wall_s", "cpu_s", "peak_rss_mb", "tree_peak_rss_mb", "returncode"}
GOAL_IDS = [
    "pipeline_wall",
    "pipeline_memory",
    "segment_features_vs_floor",
    "pandas_speedup",
    "lifetimes_speedup",
    "render_rate",
    "streaming_100m",
]
STATUSES = {"pass", "fail", "not measured", "not applicable"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return dataset(ROWS, data_dir=tmp_path_factory.mktemp("bench-data"))


def test_dataset_is_cached_and_described(tiny: Dataset) -> None:
    counts = tiny.meta["counts"]
    assert 0.8 * ROWS < counts["invoices"] < 1.2 * ROWS
    assert counts["customers"] == tiny.meta["customers"] > 0
    assert {p.name for p in tiny.csv.iterdir()} == {
        "customers.csv",
        "invoices.csv",
        "payments.csv",
        "events.csv",
    }
    assert {p.name for p in tiny.parquet.iterdir()} == {
        "customers.parquet",
        "invoices.parquet",
        "payments.parquet",
        "events.parquet",
    }
    again = dataset(ROWS, data_dir=tiny.root.parent)
    assert again.meta == tiny.meta  # a second call reuses the cache instead of regenerating


def test_chunked_generation_keeps_ids_unique(tmp_path: Path) -> None:
    ds = dataset(900, data_dir=tmp_path, chunk_customers=20)
    import polars as pl

    inv = pl.read_parquet(ds.parquet / "invoices.parquet")
    assert inv["invoice_id"].is_unique().all()
    assert inv["invoice_id"].is_sorted()
    assert inv.height == ds.meta["counts"]["invoices"]
    assert inv["customer_id"].str.slice(0, 4).n_unique() == 3  # 45 customers in chunks of 20: K000..K002
    header = (ds.csv / "invoices.csv").read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("invoice_id,") for line in header) == 1
    assert len(header) == inv.height + 1


def test_runner_end_to_end_writes_the_report(tiny: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "bench/run.py",
            "--rows",
            str(ROWS),
            "--stages",
            "segment",
            "--data-dir",
            str(tiny.root.parent),
            "--work",
            str(tmp_path / "work"),
            "--json",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert {"command", "machine", "dataset", "as_of", "steps", "pipeline", "ratios", "goals"} <= set(report)
    steps = report["steps"]
    names = ["floor_columns", "floor_groupby", "pandas_summary", "lifetimes_summary", "billcx_summary",
             "segment"]
    assert list(steps) == names
    for name in names:
        step = steps[name]
        assert step["status"] == "ok", step.get("reason")
        assert set(step["process"]) == PROCESS_FIELDS
        assert step["process"]["wall_s"] >= step["work"]["wall_s"] > 0
        assert step["process"]["peak_rss_mb"] > 10
    assert steps["billcx_summary"]["details"]["agrees_with_pandas"] is True
    assert steps["lifetimes_summary"]["details"]["agrees_with_pandas"] is True
    assert [m["name"] for m in steps["segment"]["marks"]][-1] == "write"
    assert report["pipeline"]["stages"] == ["segment"]
    assert report["clean_source"].startswith("parquet exports")
    assert report["ratios"]["segment_features_over_groupby_floor"] > 0
    assert report["ratios"]["pandas_over_billcx_summary"] > 0
    assert report["ratios"]["lifetimes_over_billcx_summary"] > 0
    assert [g["id"] for g in report["goals"]] == GOAL_IDS
    assert {g["status"] for g in report["goals"]} <= STATUSES
    assert "pandas_speedup" in proc.stdout and "segment_features_vs_floor" in proc.stdout
    assert not (tmp_path / "work" / "segments").exists()  # outputs are removed without --keep


def test_every_stage_adapter_runs_in_process(tiny: Dataset, tmp_path: Path) -> None:
    from billcx.store import CleanData

    paths = StepPaths(
        csv=tiny.csv,
        clean=tiny.parquet,
        work=tmp_path,
        as_of=CleanData.load(tiny.parquet).latest_date(),
        render_workers=1,
    )
    ingest = run_step("ingest", paths)
    assert ingest["status"] == "ok", ingest.get("reason")
    assert ingest["details"]["rejects"] == 0  # the generator's clean CSV has no defects
    assert ingest["details"]["rows"]["invoices"] == tiny.meta["counts"]["invoices"]
    for name, fields in (
        ("segment", {"customers", "open_invoices"}),
        ("plan", {"messages", "customers"}),
        ("render", {"rendered", "failed", "by_channel"}),
    ):
        outcome = run_step(name, paths)
        assert outcome["status"] == "ok", f"{name}: {outcome.get('reason')}"
        assert fields <= set(outcome["details"])
        assert outcome["work"]["wall_s"] > 0
    assert (tmp_path / "bundle" / "manifest.jsonl").exists()


def _report(rows: int, walls: dict[str, float], *, peak: float = 1000.0, rendered: int = 0) -> dict[str, Any]:
    steps: dict[str, Any] = {}
    for name, wall in walls.items():
        steps[name] = {
            "status": "ok",
            "work": {"wall_s": wall, "cpu_s": wall},
            "process": {"wall_s": wall + 1, "cpu_s": wall, "peak_rss_mb": peak, "tree_peak_rss_mb": peak},
            "details": {"rendered": rendered, "workers": 1} if name == "render" else {},
            "marks": [{"name": "RFM", "at_s": wall / 2}] if name == "segment" else [],
        }
    report: dict[str, Any] = {"dataset": {"counts": {"invoices": rows}}, "steps": steps}
    report["ratios"] = ratios(report)
    return report


def test_goals_pass_fail_and_scope() -> None:
    walls = {
        "ingest": 10.0,
        "floor_groupby": 2.0,
        "pandas_summary": 20.0,
        "billcx_summary": 1.0,
        "segment": 10.0,
        "plan": 5.0,
        "render": 2.0,
    }
    big = {g["id"]: g for g in evaluate_goals(_report(10_000_000, walls, rendered=20_000))}
    assert big["pipeline_wall"]["measured"] == 28.0 and big["pipeline_wall"]["status"] == "pass"
    assert big["pipeline_memory"]["status"] == "pass"
    assert (
        big["segment_features_vs_floor"]["measured"] == 2.5
        and big["segment_features_vs_floor"]["status"] == "pass"
    )
    assert big["pandas_speedup"]["measured"] == 20.0 and big["pandas_speedup"]["status"] == "pass"
    assert big["render_rate"]["measured"] == 10_000.0 and big["render_rate"]["status"] == "pass"
    assert big["streaming_100m"]["status"] == "not applicable"
    slow = {g["id"]: g for g in evaluate_goals(_report(10_000_000, {**walls, "segment": 80.0}, peak=7000.0))}
    assert slow["pipeline_wall"]["status"] == "fail" and slow["pipeline_memory"]["status"] == "fail"
    assert slow["segment_features_vs_floor"]["status"] == "fail"
    assert slow["render_rate"]["status"] == "fail"  # nothing rendered
    small = {g["id"]: g for g in evaluate_goals(_report(1_000_000, walls))}
    assert small["pipeline_wall"]["status"] == "not applicable"
    partial = {g["id"]: g for g in evaluate_goals(_report(10_000_000, {"segment": 3.0}))}
    assert partial["pipeline_wall"]["status"] == "not measured"
    assert partial["pandas_speedup"]["status"] == "not measured"
