"""Segment benchmark: customer features, models and the repeat-purchase summary against their floors.

Usage (on demand, never in the test suite)::

    python bench/bench_segment.py --rows 1000000 [--repeat 3] [--json out.json]

On the cached generated dataset of about ``--rows`` invoices (~20 per customer, see
bench/generate.py), times in one process, each step after the previous one:

* (a) ``floor``: polars lazy scan of the invoice and payment Parquet files + one group-by per table
  (bench/baselines.py): the least work any per-customer feature set needs;
* (b) ``pandas summary``: the lifetimes repeat-purchase summary written in pandas, as users do today,
  and ``billcx summary``: the same summary through ``billcx.segment.summary_data``;
* (c) ``features``: the segment stage's customer features -- point-in-time ledger, payment
  behaviour and RFM -- from the same clean folder;
* (d) model fits: the risk model (history stream, fit, calibration, evaluation) and the lifetime
  models (BG/NBD, Gamma-Gamma, CLV), and the whole ``segment()`` call.

Each figure is the best of ``--repeat`` runs (wall seconds, with the CPU seconds of that run).
Goals (issue 3): features within 3x the floor; billcx summary at least 10x faster than pandas.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/bench_segment.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baselines import billcx_summary, groupby_floor, pandas_summary, same_summary
from bench.generate import dataset
from billcx.store import CleanData


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(wall, cpu, result) of the fastest of ``repeat`` calls."""
    best: tuple[float, float, Any] | None = None
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if best is None or wall < best[0]:
            best = (wall, cpu, out)
    assert best is not None
    return best


def _features(clean: Path) -> Callable[[], Any]:
    from billcx.segment.behaviour import behaviour_features
    from billcx.segment.ledger import build_ledger
    from billcx.segment.rfm import rfm_scores
    from billcx.segment.settings import SegmentSettings

    settings = SegmentSettings()

    def run() -> Any:
        data = CleanData.load(clean)
        ledger = build_ledger(data, data.latest_date(), grace_days=settings.behaviour.grace_days)
        behaviour = behaviour_features(ledger, settings.behaviour, window_days=settings.rfm.window_days)
        return rfm_scores(
            ledger, behaviour.select("customer_id", "currency"), window_days=settings.rfm.window_days
        )

    return run


def _models(clean: Path) -> tuple[Callable[[], Any], Callable[[], Any]]:
    from billcx.segment.behaviour import behaviour_features
    from billcx.segment.features import build_history
    from billcx.segment.ledger import build_ledger
    from billcx.segment.lifetime import lifetime_values
    from billcx.segment.risk import fit_risk_model
    from billcx.segment.settings import SegmentSettings

    settings = SegmentSettings()
    data = CleanData.load(clean)
    ledger = build_ledger(data, data.latest_date())
    currencies = behaviour_features(ledger, settings.behaviour, window_days=365).select(
        "customer_id", "currency"
    )

    def risk() -> Any:
        history = build_history(ledger, history=settings.risk.history_invoices, grace_days=0)
        return fit_risk_model(ledger, history, settings.risk, grace_days=0)

    def lifetime() -> Any:
        return lifetime_values(ledger, currencies, settings.clv)
    return risk, lifetime


def run(rows: int, repeat: int) -> dict[str, Any]:
    """Run every step on the dataset of ``rows`` invoices; return the figures."""
    ds = dataset(rows)
    clean = ds.parquet
    as_of = CleanData.load(clean).latest_date()
    from billcx.segment import segment

    steps: dict[str, tuple[float, float, Any]] = {}
    steps["floor"] = _best(lambda: groupby_floor(clean), repeat)
    steps["pandas_summary"] = _best(lambda: pandas_summary(clean, as_of), repeat)
    steps["billcx_summary"] = _best(lambda: billcx_summary(clean, as_of), repeat)
    steps["features"] = _best(_features(clean), repeat)
    risk, lifetime = _models(clean)
    steps["risk_model"] = _best(risk, repeat)
    steps["lifetime_models"] = _best(lifetime, repeat)
    steps["segment"] = _best(lambda: segment(CleanData.load(clean), as_of=as_of), repeat)

    floor = steps["floor"][0]
    fit = steps["risk_model"][2]
    report = {
        "rows": ds.meta["counts"]["invoices"],
        "customers": ds.meta["counts"]["customers"],
        "payments": ds.meta["counts"]["payments"],
        "as_of": as_of.isoformat(),
        "repeat": repeat,
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "seconds": {k: {"wall": round(v[0], 3), "cpu": round(v[1], 3)} for k, v in steps.items()},
        "ratios": {
            "features_over_floor": round(steps["features"][0] / floor, 2),
            "segment_over_floor": round(steps["segment"][0] / floor, 2),
            "pandas_over_billcx_summary": round(steps["pandas_summary"][0] / steps["billcx_summary"][0], 2),
            "pandas_over_features": round(steps["pandas_summary"][0] / steps["features"][0], 2),
        },
        "summaries_agree": same_summary(steps["pandas_summary"][2], steps["billcx_summary"][2]),
        "risk_training_rows": fit.report.get("sampled_rows"),
        "risk_auc": fit.report.get("evaluation", {}).get("auc"),
    }
    return report


def main(argv: list[str] | None = None) -> int:
    """Command line entry: run, print, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="invoice rows of the generated dataset")
    parser.add_argument("--repeat", type=int, default=1, help="runs per step; the fastest counts")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    report = run(args.rows, max(1, args.repeat))
    print(f"segment benchmark: {report['rows']:,} invoices, {report['customers']:,} customers, "
          f"{report['payments']:,} payments; {report['cpus']} CPUs, load {report['loadavg']}")
    for name, figures in report["seconds"].items():
        print(f"  {name:16s} {figures['wall']:8.2f} s wall  {figures['cpu']:8.2f} s CPU")
    for name, value in report["ratios"].items():
        print(f"  {name:28s} {value:8.2f}x")
    print(
        f"  summaries agree: {report['summaries_agree']}; "
        f"risk model trained on {report['risk_training_rows']} "
        f"rows, validation AUC {report['risk_auc']}"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
