"""Reading what ``evaluate`` needs from a run folder: the schedule, the segments and the as-of date."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from billcx.errors import UsageError
from billcx.schema import SCHEDULE, SEGMENTS
from billcx.store import read, scan

PLAN_DIR = "plan"
SEGMENTS_DIR = "segments"
AS_OF_FILES = ("run.json", f"{PLAN_DIR}/plan_report.json")


@dataclass(frozen=True)
class PlanRun:
    """The parts of a run folder the arms comparison uses.

    Attributes:
        schedule: the plan's schedule (both arms).
        segments: ``customer_id, treatment`` of the segment output, None when absent.
        as_of: the run's as-of date (None when no file records it).
        as_of_source: the file it was read from.
    """

    schedule: pl.DataFrame
    segments: pl.DataFrame | None
    as_of: dt.date | None
    as_of_source: str | None


def _recorded_as_of(run: Path) -> tuple[dt.date | None, str | None]:
    for rel in AS_OF_FILES:
        path = run / rel
        if not path.is_file():
            continue
        try:
            value = json.loads(path.read_text(encoding="utf-8")).get("as_of")
            return dt.date.fromisoformat(str(value)[:10]), rel
        except (OSError, ValueError, AttributeError):
            continue
    return None, None


def load_plan_run(run_dir: str | Path) -> PlanRun:
    """Read the schedule, segments and as-of date of a run folder.

    Args:
        run_dir: a run folder (``plan/schedule.parquet`` required, ``segments/`` optional).

    Returns:
        A :class:`PlanRun`.

    Raises:
        UsageError: the folder or its schedule is missing.
        InputError: the schedule lacks contract columns.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise UsageError(f"{run}: no such run folder", hint="give the folder `billcx run` wrote")
    schedule_path = run / PLAN_DIR / f"{SCHEDULE.file_stem}.parquet"
    if not schedule_path.is_file():
        raise UsageError(f"{schedule_path}: not found; evaluate compares the arms of the plan's schedule",
                         hint="give a run folder whose plan stage ran (with a holdout_share in the policy)")
    schedule = read(run / PLAN_DIR, SCHEDULE)
    segments = None
    if (run / SEGMENTS_DIR).is_dir():
        lf = scan(run / SEGMENTS_DIR, SEGMENTS, optional=True, columns=["customer_id", "treatment"])
        segments = lf.collect() if lf is not None else None
    as_of, source = _recorded_as_of(run)
    return PlanRun(schedule=schedule, segments=segments, as_of=as_of, as_of_source=source)
