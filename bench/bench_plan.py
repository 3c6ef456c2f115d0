"""Benchmark of ``billcx.plan.plan`` on N customers with open invoices (run on demand).

    python bench/bench_plan.py                          # 500,000 customers with open invoices
    python bench/bench_plan.py --open-customers 50000   # a quick run
    python bench/bench_plan.py --work /tmp/plan-bench   # where data is generated and cached

Data comes from the product's own generator (:mod:`billcx.sample`), in chunks of ``--chunk``
customers with their own seeds and chunk-tagged ids, until at least ``--open-customers`` customers
owe money at the export date (about 44% of the generator's customers do, so the dataset holds
more customers than that: the rest are planned too, as in real life).  Segments are synthesised
from the generator's hidden behaviour profiles (punctual -> reliable, chronic_late -> chronic_late
...).  The plan itself runs in a fresh child process -- load, plan with the default policy over 30
days, write Parquet -- so that its wall time and peak resident memory (``ru_maxrss``; tracemalloc
does not see polars' allocations) are its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/bench_plan.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import polars as pl

SEED = 4242
TREATMENT = {
    "punctual": "reliable",
    "chronic_late": "chronic_late",
    "deteriorating": "valued_slipping",
    "seasonal": "standard",
    "one_off": "new",
    "autopay": "standard",
}
RISK = {
    "punctual": "low",
    "chronic_late": "high",
    "deteriorating": "medium",
    "seasonal": "medium",
    "one_off": "medium",
    "autopay": "low",
}
LATE = {
    "punctual": 0.08,
    "chronic_late": 0.75,
    "deteriorating": 0.45,
    "seasonal": 0.3,
    "one_off": 0.3,
    "autopay": 0.05,
}
TABLES = ("customers", "invoices", "payments", "events")


def _segments(profiles: pl.DataFrame, invoices: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Segment rows from the generator's hidden profiles: treatment, tiers and a noisy late probability."""
    value = invoices.group_by("customer_id").agg(total=pl.col("amount").clip(lower_bound=0).sum())
    rng = np.random.default_rng(seed)
    seg = (
        profiles.select("customer_id", "archetype")
        .join(value, on="customer_id", how="left")
        .with_columns(pl.col("total").fill_null(0))
    )
    noise = pl.Series(rng.normal(0.0, 0.08, seg.height))
    return seg.with_columns(
        rfm_segment=pl.lit(None, dtype=pl.String),
        value_tier=pl.when(pl.col("total").rank("ordinal") > seg.height * 2 / 3)
        .then(pl.lit("high"))
        .when(pl.col("total").rank("ordinal") > seg.height / 3)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low")),
        risk_tier=pl.col("archetype").replace_strict(RISK),
        late_probability=(pl.col("archetype").replace_strict(LATE, return_dtype=pl.Float64) + noise).clip(
            0.0, 1.0
        ),
        treatment=pl.col("archetype").replace_strict(TREATMENT),
    ).select("customer_id", "rfm_segment", "value_tier", "risk_tier", "late_probability", "treatment")


def generate_dataset(work: Path, *, open_customers: int, chunk: int) -> dict[str, Any]:
    """Generate (or reuse) a clean folder and a segments folder under ``work``."""
    from billcx.plan.balances import open_balances
    from billcx.sample import SampleSettings, generate
    from billcx.schema import SEGMENTS

    meta_path = work / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("open_customers_target") == open_customers and meta.get("chunk") == chunk:
            return meta
    parts = work / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    have, k, totals = 0, 0, dict.fromkeys(TABLES, 0)
    end = None
    while have < open_customers:
        data = generate(SampleSettings(customers=chunk, seed=SEED * 1000 + k))
        tag = f"K{k:03d}"
        frames = {
            "customers": data.customers,
            "invoices": data.invoices,
            "payments": data.payments,
            "events": data.events,
        }
        frames = {
            name: f.with_columns(
                (pl.lit(tag) + pl.col(c)).alias(c)
                for c in f.columns
                if c in ("customer_id", "invoice_id", "payment_id")
            )
            for name, f in frames.items()
        }
        profiles = data.profiles.with_columns((pl.lit(tag) + pl.col("customer_id")).alias("customer_id"))
        for name, frame in frames.items():
            frame.write_parquet(parts / f"{name}.{tag}.parquet")
            totals[name] += frame.height
        _segments(profiles, frames["invoices"], SEED + k).write_parquet(parts / f"segments.{tag}.parquet")
        end = data.settings.end
        owing = open_balances(frames["invoices"].lazy(), frames["payments"].lazy(), as_of=end)
        have += owing["customer_id"].n_unique()
        k += 1
        print(f"  chunk {k}: {have:,} customers with open invoices so far", file=sys.stderr)
    (work / "clean").mkdir(exist_ok=True)
    (work / "seg").mkdir(exist_ok=True)
    for name in TABLES:
        pl.scan_parquet(parts / f"{name}.*.parquet").sink_parquet(work / "clean" / f"{name}.parquet")
    SEGMENTS.conform(pl.scan_parquet(parts / "segments.*.parquet")).write_parquet(
        work / "seg" / "customers.parquet"
    )
    meta = {
        "open_customers_target": open_customers,
        "chunk": chunk,
        "chunks": k,
        "open_customers": have,
        "as_of": end.isoformat() if end else None,
        "rows": totals,
        "generation_s": round(time.perf_counter() - started, 1),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta


def measure(work: Path, as_of: dt.date) -> dict[str, Any]:
    """Child process: load, plan and write; report wall times and peak RSS."""
    from billcx.export import Format
    from billcx.plan import plan, write_plan
    from billcx.schema import SEGMENTS
    from billcx.store import CleanData, read

    stages: list[tuple[str, float]] = []
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        stages.append((stage, round(time.perf_counter() - t0, 2)))

    result = plan(
        CleanData.load(work / "clean"),
        read(work / "seg", SEGMENTS),
        as_of=as_of,
        horizon_days=30,
        on_progress=progress,
    )
    t1 = time.perf_counter()
    write_plan(result, work / "out", fmt=Format.PARQUET)
    t2 = time.perf_counter()
    return {
        "plan_s": round(t1 - t0, 2),
        "write_s": round(t2 - t1, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "schedule_rows": result.schedule.height,
        "skipped_rows": result.skipped.height,
        "customers_planned": result.summary.customers,
        "open_invoices": result.summary.open_invoices,
        "messages": result.summary.messages,
        "tasks": result.summary.tasks,
        "stages_s": stages,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--open-customers", type=int, default=500_000)
    parser.add_argument("--chunk", type=int, default=100_000, help="customers generated per chunk")
    parser.add_argument(
        "--work", type=Path, default=None, help="data folder (default /tmp/billcx-bench-plan-N)"
    )
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure, dt.date.fromisoformat(args.as_of))))
        return 0
    work = args.work or Path(f"/tmp/billcx-bench-plan-{args.open_customers}")
    meta = generate_dataset(work, open_customers=args.open_customers, chunk=args.chunk)
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, "--measure", str(work), "--as-of", meta["as_of"]],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if child.returncode != 0:
        print(child.stderr, file=sys.stderr)
        return child.returncode
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    report = {"dataset": meta, "process_wall_s": round(wall, 2), **figures}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
