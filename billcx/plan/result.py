"""What a plan run returns, and how it is written to a folder."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from billcx.atomic import write_text
from billcx.export import Format, write_table
from billcx.plan.tables import SKIPPED
from billcx.schema import SCHEDULE

SCHEDULE_FILE = "schedule"
SKIPPED_FILE = "skipped"
REPORT_FILE = "plan_report.json"


@dataclass(frozen=True)
class PlanSummary:
    """Counts describing a plan (all plain data, JSON-ready through :meth:`to_dict`).

    Attributes:
        as_of: the as-of date.
        window_start: first local date planned.
        window_end: last local date planned (inclusive).
        for_date: the single day requested, if any.
        customers: distinct customers with at least one row in the schedule.
        messages: schedule rows that are messages in the treatment arm.
        holdout: schedule rows in the holdout arm.
        tasks: hand-over task rows (treatment arm).
        open_invoices: invoices with a remaining balance at the as-of date.
        by_day: ``(date, channel, kind, count)`` for treatment rows, sorted.
        skipped_by_code: skipped rows per reason code.
        unsegmented_customers: customers with open invoices but no segment row (planned as
            ``standard`` / medium tiers).
        stale_forced: the stale-data guard fired and was overridden with ``force``.
        warnings: things a person should know (calendar fallbacks, assumed zones ...).
        shard: ``I/N`` when only shard I of N was planned (every count is then the shard's); the
            key is left out of :meth:`to_dict` for an unsharded plan.
    """

    as_of: dt.date
    window_start: dt.date
    window_end: dt.date
    for_date: dt.date | None
    customers: int
    messages: int
    holdout: int
    tasks: int
    open_invoices: int
    by_day: tuple[tuple[dt.date, str, str, int], ...]
    skipped_by_code: tuple[tuple[str, int], ...]
    unsegmented_customers: int
    stale_forced: bool
    warnings: tuple[str, ...]
    shard: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (dates as ISO text)."""
        data = asdict(self)
        data["by_day"] = [
            {"date": d.isoformat(), "channel": c, "kind": k, "count": n} for d, c, k, n in self.by_day
        ]
        data["skipped_by_code"] = dict(self.skipped_by_code)
        data["warnings"] = list(self.warnings)
        for key in ("as_of", "window_start", "window_end", "for_date"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        if self.shard is None:
            del data["shard"]  # unsharded reports stay as they were
        return data


@dataclass(frozen=True)
class PlanResult:
    """The result of :func:`billcx.plan.plan`.

    Attributes:
        schedule: the schedule, in the ``SCHEDULE`` contract, sorted by send time, customer and key.
        skipped: what was not planned and why (``billcx.plan.tables.SKIPPED``).
        summary: counts.
    """

    schedule: pl.DataFrame
    skipped: pl.DataFrame
    summary: PlanSummary

    def to_report(self) -> dict[str, Any]:
        """The machine-readable report (``--report-format json``)."""
        return {"stage": "plan", **self.summary.to_dict()}


def write_plan(result: PlanResult, out_dir: str | Path, *, fmt: Format = Format.CSV) -> list[Path]:
    """Write ``schedule`` and ``skipped`` (Parquet, plus ``fmt``) and ``plan_report.json``.

    Each file is written atomically; the same result gives byte-identical files.

    Args:
        result: a plan result.
        out_dir: folder to write into (created if missing).
        fmt: a second format for people and pipes (Parquet alone when ``fmt`` is Parquet).

    Returns:
        The paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for frame, name, table in (
        (result.schedule, SCHEDULE_FILE, SCHEDULE),
        (result.skipped, SKIPPED_FILE, SKIPPED),
    ):
        paths.append(write_table(frame, out / name, fmt=Format.PARQUET, table=table))
        if fmt is not Format.PARQUET:
            paths.append(write_table(frame, out / name, fmt=fmt, table=table))
    report = out / REPORT_FILE
    write_text(report, json.dumps(result.to_report(), indent=2, ensure_ascii=False) + "\n")
    paths.append(report)
    return paths
