"""The benchmark runner: every stage and the baselines on one generated dataset, side by side.

Usage::

    python bench/run.py --rows 1000000 [--stages ingest,segment,plan,render] [--json out.json]

Each step runs in a fresh process (see bench/measure.py) so that its wall time, CPU time and peak
memory are its own.  Printed (and written with ``--json``): per step and for the pipeline, the
process cost (as a command would cost: interpreter start and imports included) and the work cost
(the library call and its output only); the baselines of bench/baselines.py; the ratios the goals
are stated in; and each goal of the scale issue with pass / fail.  A stage whose public entry point
has not landed is shown as "not available", and the stages after it that need its output as
"skipped".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/run.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import DATA_DIR, DEFAULT_CHUNK_CUSTOMERS, REPO_DIR, SEED, Dataset, dataset
from bench.goals import evaluate_goals, ratios
from bench.measure import ProcessCost, run_measured
from bench.report import print_report

STAGES = ("ingest", "segment", "plan", "render")
BASELINES = ("floor_columns", "floor_groupby", "pandas_summary", "lifetimes_summary", "billcx_summary")
NEEDS = {"plan": "segment", "render": "plan"}
RESULTS_DIR = REPO_DIR / "bench" / "results"
SCHEMA_VERSION = 1


def _parse_stages(text: str) -> tuple[str, ...]:
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in names if s not in STAGES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected some of {','.join(STAGES)}, found {text!r}")
    return tuple(s for s in STAGES if s in names)


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _machine() -> dict[str, Any]:
    import pandas
    import polars

    mem_kb = 0
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "mem_total_gb": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "polars": polars.__version__,
        "pandas": pandas.__version__,
        "platform": platform.platform(),
    }


def _latest_date(folder: Path) -> dt.date:
    from billcx.store import CleanData

    return CleanData.load(folder).latest_date()


def _cost(cost: ProcessCost) -> dict[str, Any]:
    return {
        "wall_s": round(cost.wall_s, 3),
        "cpu_s": round(cost.cpu_s, 3),
        "peak_rss_mb": round(cost.peak_rss_mb, 1),
        "tree_peak_rss_mb": round(cost.tree_peak_rss_mb, 1),
        "returncode": cost.returncode,
    }


def _ensure_dataset(
    rows: int, *, seed: int, data_dir: Path, chunk_customers: int
) -> tuple[Dataset, dict[str, Any]]:
    """The cached dataset, generated in a measured child process when missing."""
    cmd = [
        sys.executable,
        str(REPO_DIR / "bench" / "generate.py"),
        "--rows",
        str(rows),
        "--seed",
        str(seed),
        "--data-dir",
        str(data_dir),
        "--chunk-customers",
        str(chunk_customers),
    ]
    log = data_dir / f"generate-{rows}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    cost = run_measured(cmd, cwd=REPO_DIR, stderr_path=log)
    if cost.returncode != 0:
        raise SystemExit(f"generating the dataset failed (exit {cost.returncode}); see {log}")
    ds = dataset(rows, seed=seed, data_dir=data_dir, chunk_customers=chunk_customers)
    return ds, _cost(cost)


def run_step(
    name: str, ds: Dataset, *, clean: Path, work: Path, as_of: dt.date, render_workers: int
) -> dict[str, Any]:
    """Run one step in a fresh measured process and merge the process cost into its result."""
    out_json = work / f"{name}.json"
    out_json.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "bench.steps",
        name,
        "--json",
        str(out_json),
        "--csv",
        str(ds.csv),
        "--clean",
        str(clean),
        "--work",
        str(work),
        "--as-of",
        as_of.isoformat(),
        "--render-workers",
        str(render_workers),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_DIR), os.environ.get("PYTHONPATH")])),
    }
    print(f"  {name} ...", file=sys.stderr, flush=True)
    cost = run_measured(cmd, cwd=REPO_DIR, env=env, stderr_path=work / f"{name}.log")
    try:
        outcome: dict[str, Any] = json.loads(out_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        outcome = {
            "status": "failed",
            "reason": f"step process exited {cost.returncode} without a result; see {work / f'{name}.log'}",
        }
    if outcome["status"] != "not_available":
        outcome["process"] = _cost(cost)
    return outcome


def run(
    rows: int,
    *,
    stages: tuple[str, ...] = STAGES,
    baselines: bool = True,
    seed: int = SEED,
    data_dir: Path = DATA_DIR,
    work: Path | None = None,
    render_workers: int = 1,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
    keep: bool = False,
) -> dict[str, Any]:
    """Run the benchmark and return its report (what ``--json`` writes).

    Args:
        rows: invoice rows of the dataset (generated and cached under ``data_dir`` when missing).
        stages: the stages to run, in pipeline order.
        baselines: also run the baselines (with the segment stage).
        seed: dataset seed.
        data_dir: dataset cache folder.
        work: folder for stage outputs (default ``bench/results/<rows>``); replaced at the start.
        render_workers: processes the render stage may use.
        chunk_customers: generator chunk size (memory bound of dataset generation).
        keep: keep the stage outputs (default: delete them at the end, they can be large).

    Returns:
        The report: machine, dataset, steps, pipeline totals, ratios and goals.
    """
    load_start = _loadavg()
    started = time.perf_counter()
    ds, gen_cost = _ensure_dataset(rows, seed=seed, data_dir=data_dir, chunk_customers=chunk_customers)
    work = work or RESULTS_DIR / str(rows)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    as_of = _latest_date(ds.parquet)
    steps: dict[str, dict[str, Any]] = {}
    clean = ds.parquet
    clean_source = "parquet exports (ingest not run)"
    order = [s for s in STAGES if s in stages]
    if baselines and "segment" in order:
        order[order.index("segment") : order.index("segment")] = list(BASELINES)
    for name in order:
        need = NEEDS.get(name)
        if need is not None and steps.get(need, {}).get("status") != "ok":
            steps[name] = {"status": "skipped", "reason": f"needs the {need} stage's output"}
            continue
        steps[name] = run_step(name, ds, clean=clean, work=work, as_of=as_of, render_workers=render_workers)
        if name == "ingest":
            if steps[name]["status"] == "ok":
                clean, clean_source = work / "clean", "ingest output"
            else:
                clean_source = "parquet exports (ingest not available)"
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {**_machine(), "loadavg_start": load_start, "loadavg_end": _loadavg()},
        "dataset": {
            "rows_requested": rows,
            "root": str(ds.root),
            "counts": ds.meta["counts"],
            "seed": ds.meta["seed"],
            "months": ds.meta["months"],
            "fingerprint": ds.meta["fingerprint"],
            "generation": ds.meta["generation"],
            "generation_process_this_run": gen_cost,
            "bytes": ds.meta.get("bytes", {}),
        },
        "as_of": as_of.isoformat(),
        "clean_source": clean_source,
        "render_workers": render_workers,
        "steps": steps,
        "pipeline": pipeline_totals(steps, stages),
        "total_wall_s": round(time.perf_counter() - started, 1),
    }
    report["ratios"] = ratios(report)
    report["goals"] = evaluate_goals(report)
    if not keep:
        for name in ("clean", "segments", "plan", "bundle"):
            shutil.rmtree(work / name, ignore_errors=True)
        (work / "pandas_summary.parquet").unlink(missing_ok=True)
    return report


def pipeline_totals(steps: dict[str, dict[str, Any]], stages: tuple[str, ...]) -> dict[str, Any]:
    """Sum of the stages that ran (sequential, so the peak is the largest step peak)."""
    ran = [s for s in STAGES if s in stages and steps.get(s, {}).get("status") == "ok"]
    missing = [s for s in STAGES if s in stages and s not in ran]
    return {
        "stages": ran,
        "missing": missing,
        "wall_s": round(sum(steps[s]["process"]["wall_s"] for s in ran), 3),
        "work_wall_s": round(sum(steps[s]["work"]["wall_s"] for s in ran), 3),
        "cpu_s": round(sum(steps[s]["process"]["cpu_s"] for s in ran), 3),
        "peak_rss_mb": max((steps[s]["process"]["tree_peak_rss_mb"] for s in ran), default=0.0),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: run, print the report, optionally write it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, required=True, help="invoice rows (dataset generated if missing)")
    parser.add_argument(
        "--stages",
        type=_parse_stages,
        default=STAGES,
        help=f"comma-separated stages to run (default {','.join(STAGES)})",
    )
    parser.add_argument("--no-baselines", action="store_true", help="skip the floors and the pandas baseline")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--work", type=Path, help="folder for stage outputs (default bench/results/<rows>)")
    parser.add_argument("--render-workers", type=int, default=1)
    parser.add_argument("--chunk-customers", type=int, default=DEFAULT_CHUNK_CUSTOMERS)
    parser.add_argument("--keep", action="store_true", help="keep stage outputs in the work folder")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.render_workers < 1:
        parser.error("--rows and --render-workers must be at least 1")
    report = run(
        args.rows,
        stages=args.stages,
        baselines=not args.no_baselines,
        seed=args.seed,
        data_dir=args.data_dir,
        work=args.work,
        render_workers=args.render_workers,
        chunk_customers=args.chunk_customers,
        keep=args.keep,
    )
    report = {
        "command": " ".join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
        **report,
    }
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
