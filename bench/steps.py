"""One benchmark step, run in its own process: ``python -m bench.steps STEP --json OUT [paths]``.

The runner (:mod:`bench.run`) starts one of these per step and measures the process from outside
(wall, CPU, peak memory).  Inside, the step imports what it needs first and then times only the
work (the library call and writing its output), so both "as a command would cost" and "what the
library itself costs" are reported.  Stages are called through their public library functions,
exactly as their CLI commands call them.

A stage whose public entry point does not exist yet is reported as ``not_available`` with the
import error, never faked.  The step writes its JSON result even when the work fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

if __package__ in (None, ""):  # run as ``python bench/steps.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@dataclass(frozen=True)
class StepPaths:
    """Where a step reads and writes.

    Attributes:
        csv: the dataset's CSV exports (ingest input).
        clean: the clean folder the later stages read (ingest's output, or the Parquet exports).
        work: the run's work folder; each stage writes into ``work/<stage>``.
        as_of: the as-of date all stages and baselines use.
        render_workers: processes the render stage may use.
    """

    csv: Path
    clean: Path
    work: Path
    as_of: dt.date
    render_workers: int


class NotAvailable(Exception):
    """The stage's public entry point is missing (the stage has not landed yet)."""


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # render worker processes
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _memory() -> dict[str, float]:
    """Resident and peak resident memory of this process now, MiB (Linux; empty elsewhere)."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return {}
    fields = {k: v for k, _, v in (line.partition(":") for line in lines)}
    out = {}
    for key, name in (("VmRSS", "rss_mib"), ("VmHWM", "peak_mib")):
        if key in fields:
            out[name] = round(int(fields[key].split()[0]) / 1024, 1)
    return out


class Clock:
    """Times the work of a step, and the sub-steps a stage reports through ``on_progress``."""

    def __init__(self) -> None:
        self.started = 0.0
        self.cpu_started = 0.0
        self.marks: list[dict[str, Any]] = []
        self.stopped: tuple[float, float] | None = None

    def start(self) -> None:
        """Start timing (after imports)."""
        self.started = time.perf_counter()
        self.cpu_started = _cpu()

    def mark(self, name: str) -> None:
        """Record that ``name`` finished now."""
        self.marks.append(
            {
                "name": name,
                "at_s": round(time.perf_counter() - self.started, 4),
                "cpu_s": round(_cpu() - self.cpu_started, 4),
                **_memory(),
            }
        )

    def progress(self, names: tuple[str, ...] | None) -> Callable[[str, int, int], None]:
        """An ``on_progress(task, done, total)`` callback marking each finished sub-step."""

        def callback(task: str, done: int, total: int) -> None:
            label = names[done - 1] if names and 0 < done <= len(names) else f"{task} {done}/{total}"
            self.mark(label)

        return callback

    def stop(self) -> None:
        """Stop timing: what follows (e.g. saving a result for a check) is not part of the measure."""
        self.stopped = self.elapsed()

    def elapsed(self) -> tuple[float, float]:
        """(wall, CPU) seconds from :meth:`start` to :meth:`stop` (or to now)."""
        if self.stopped is not None:
            return self.stopped
        return time.perf_counter() - self.started, _cpu() - self.cpu_started


def _need(module: str, *names: str) -> list[Any]:
    """Import ``names`` from ``module`` or raise NotAvailable."""
    import importlib

    try:
        mod = importlib.import_module(module)
        return [getattr(mod, n) for n in names]
    except (ImportError, AttributeError) as exc:
        raise NotAvailable(f"{module}: {type(exc).__name__}: {exc}") from None


def step_ingest(paths: StepPaths, clock: Clock) -> dict[str, Any]:
    """CSV exports -> clean folder, through ``billcx.ingest.ingest`` + ``write_ingest`` (no mapping)."""
    ingest, write_ingest = _need("billcx.ingest", "ingest", "write_ingest")
    out = paths.work / "clean"
    sources = sorted(paths.csv.glob("*.csv"))
    clock.start()
    # Staged on the output's file system, so writing links the files instead of copying them.
    result = ingest(sources, on_progress=clock.progress(None), workdir=paths.work)
    clock.mark("ingest")
    write_ingest(result, out)
    clock.mark("write")
    rows = result.rows()  # from the report: reading the tables back would be the benchmark's own memory
    return {
        "out": str(out),
        "rows": rows,
        "rejects": result.rejects.height,
        "exit_code": int(result.exit_code),
    }


def step_segment(paths: StepPaths, clock: Clock) -> dict[str, Any]:
    """Clean folder -> segment outputs, through ``billcx.segment.segment``."""
    segment, write_segment = _need("billcx.segment", "segment", "write_segment")
    from billcx.segment.chunks import chunk_bounds, chunk_count
    from billcx.segment.pipeline import progress_steps
    from billcx.store import CleanData

    out = paths.work / "segments"
    data = CleanData.load(paths.clean)
    names = progress_steps(len(chunk_bounds(data, chunk_count(data))) + 1)  # labels only: not timed
    clock.start()
    result = segment(data, as_of=paths.as_of, workdir=paths.work, on_progress=clock.progress(names))
    write_segment(result, out)
    clock.mark("write")
    return {
        "out": str(out),
        "customers": result.customers.height,
        "open_invoices": result.invoice_risk.height,
        "risk_method": result.model_report.get("risk", {}).get("method"),
        "warnings": list(result.warnings),
    }


def step_plan(paths: StepPaths, clock: Clock) -> dict[str, Any]:
    """Clean folder + segments -> schedule, through ``billcx.plan.plan`` (default policy, 30 days)."""
    plan, write_plan = _need("billcx.plan", "plan", "write_plan")
    from billcx.export import Format
    from billcx.schema import INVOICE_RISK, SEGMENTS
    from billcx.store import CleanData, read, scan

    seg = paths.work / "segments"
    out = paths.work / "plan"
    clock.start()
    risk = scan(seg, INVOICE_RISK, optional=True)
    result = plan(
        CleanData.load(paths.clean),
        read(seg, SEGMENTS),
        as_of=paths.as_of,
        invoice_risk=risk.collect() if risk is not None else None,
        horizon_days=30,
        on_progress=clock.progress(None),
    )
    write_plan(result, out, fmt=Format.PARQUET)
    clock.mark("write")
    s = result.summary
    return {
        "out": str(out),
        "messages": s.messages,
        "tasks": s.tasks,
        "holdout": s.holdout,
        "customers": s.customers,
        "open_invoices": s.open_invoices,
    }


def step_render(paths: StepPaths, clock: Clock) -> dict[str, Any]:
    """Schedule -> send bundle, through ``billcx.render.render`` + ``write_bundle``."""
    render, write_bundle, settings_cls = _need("billcx.render", "render", "write_bundle", "RenderSettings")
    from billcx.schema import SCHEDULE
    from billcx.store import CleanData, read

    out = paths.work / "bundle"
    clock.start()
    schedule = read(paths.work / "plan", SCHEDULE)
    result = render(
        schedule,
        CleanData.load(paths.clean),
        settings=settings_cls(),
        workers=paths.render_workers,
        on_progress=clock.progress(None),
    )
    clock.mark("render")
    write_bundle(result, out)
    clock.mark("write")
    c = result.counts
    return {
        "out": str(out),
        "scheduled": c.scheduled,
        "rendered": c.rendered,
        "failed": c.failed,
        "holdout": c.holdout,
        "tasks": c.tasks,
        "by_channel": dict(c.by_channel),
        "workers": paths.render_workers,
    }


def step_floor_columns(paths: StepPaths, clock: Clock) -> dict[str, Any]:
    """Baseline (a): read the needed Parquet columns."""
    from bench.baselines import read_columns_floor

    clock.start()
    return read_columns_floor(paths.clean)


def step_floor_groupby(paths: StepPaths, clock: Clock) -> dict[str, Any]:
    """Baseline (b): polars lazy scan + one group-by per customer."""
    from bench.baselines import groupby_floor

    clock.start()
    return groupby_floor(paths.clean)


def step_pandas_summary(paths: StepPaths, clock: Clock) -> dict[str, Any]:
    """Baseline (c): the repeat-purchase summary in pandas."""
    from bench.baselines import pandas_summary

    clock.start()
    frame = pandas_summary(paths.clean, paths.as_of)
    clock.stop()
    frame.to_parquet(paths.work / "pandas_summary.parquet")  # for the agreement check, not timed
    return {"customers": len(frame)}


def _agrees_with_pandas(paths: StepPaths, frame: pl.DataFrame) -> bool | None:
    """Whether ``frame`` equals the pandas baseline's summary (None: that step has not run)."""
    import pandas as pd

    from bench.baselines import same_summary

    theirs = paths.work / "pandas_summary.parquet"
    return same_summary(pd.read_parquet(theirs), frame) if theirs.exists() else None


def step_lifetimes_summary(paths: StepPaths, clock: Clock) -> dict[str, Any]:
    """Baseline (d): the same summary through the lifetimes library, checked against the pandas one."""
    _need("lifetimes", "__version__")
    from bench.baselines import lifetimes_summary

    clock.start()
    frame = lifetimes_summary(paths.clean, paths.as_of)
    clock.stop()
    agrees = _agrees_with_pandas(paths, pl.from_pandas(frame))
    return {"customers": len(frame), "agrees_with_pandas": agrees}


def step_billcx_summary(paths: StepPaths, clock: Clock) -> dict[str, Any]:
    """The same summary through ``billcx.segment.summary_data``, checked against the pandas one."""
    _need("billcx.segment", "summary_data")
    from bench.baselines import billcx_summary

    clock.start()
    frame = billcx_summary(paths.clean, paths.as_of)
    clock.stop()
    return {"customers": frame.height, "agrees_with_pandas": _agrees_with_pandas(paths, frame)}


STEPS: dict[str, Callable[[StepPaths, Clock], dict[str, Any]]] = {
    "ingest": step_ingest,
    "floor_columns": step_floor_columns,
    "floor_groupby": step_floor_groupby,
    "pandas_summary": step_pandas_summary,
    "lifetimes_summary": step_lifetimes_summary,
    "billcx_summary": step_billcx_summary,
    "segment": step_segment,
    "plan": step_plan,
    "render": step_render,
}


def run_step(name: str, paths: StepPaths) -> dict[str, Any]:
    """Run step ``name`` and describe the outcome (never raises for a failing step).

    Returns:
        ``{"status": "ok" | "not_available" | "failed", "work": {"wall_s", "cpu_s"}, "marks": [...],
        "details": {...}}`` (``reason`` instead of work figures when not ok).
    """
    clock = Clock()
    imported = time.perf_counter()
    try:
        details = STEPS[name](paths, clock)
    except NotAvailable as exc:
        return {"status": "not_available", "reason": str(exc)}
    except Exception as exc:  # a failing stage is a result to report, not a crash of the runner
        traceback.print_exc()
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    wall, cpu = clock.elapsed()
    setup = clock.started - imported if clock.started else 0.0
    return {
        "status": "ok",
        "work": {"wall_s": round(wall, 4), "cpu_s": round(cpu, 4)},
        "setup_s": round(setup, 4),
        "marks": clock.marks,
        "details": details,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line of the step process (started by bench/run.py)."""
    parser = argparse.ArgumentParser(description="Run one benchmark step (started by bench/run.py).")
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--json", type=Path, required=True, help="where to write the step's result")
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--clean", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--render-workers", type=int, default=1)
    args = parser.parse_args(argv)
    paths = StepPaths(
        csv=args.csv, clean=args.clean, work=args.work, as_of=args.as_of, render_workers=args.render_workers
    )
    outcome = run_step(args.step, paths)
    args.json.write_text(json.dumps(outcome, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return 0 if outcome["status"] != "failed" else 1


if __name__ == "__main__":
    sys.exit(main())
