"""Reading a run folder for the report: whatever stage outputs exist, only the columns needed.

A run folder (what ``billcx run`` writes; the stages can also be run by hand into the same layout)::

    RUN_DIR/clean/      customers, invoices, payments[, events].parquet, rejects.csv, report.json
    RUN_DIR/segments/   customers.parquet, invoice_risk.parquet, cohorts.parquet, model_report.json
    RUN_DIR/plan/       schedule.parquet, skipped.parquet
    RUN_DIR/bundle/     manifest.jsonl, ...
    RUN_DIR/run.json    as_of and stage summaries

Any part may be missing (a partial run).  Contract columns (``billcx.schema``) are required where a
table is used; the further columns a stage adds (aging, balances, cohorts) are optional, declared
below once, and a chart that needs an absent one says so instead of failing.  Personal-data columns
are never read (data minimisation): the report shows ids and aggregates only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import polars as pl

from billcx.errors import BillcxError, UsageError
from billcx.privacy import pseudonymize
from billcx.schema import INVOICE_RISK, INVOICES, MANIFEST, REJECTS, SCHEDULE, SEGMENTS
from billcx.store import CleanData

log = logging.getLogger(__name__)

CLEAN_DIR = "clean"
SEGMENTS_DIR = "segments"
PLAN_DIR = "plan"
BUNDLE_DIR = "bundle"
RUN_FILE = "run.json"
STAGE_DIRS = (CLEAN_DIR, SEGMENTS_DIR, PLAN_DIR, BUNDLE_DIR)

# Columns the segment stage writes beyond the contract; the report uses them when present.
SEGMENT_EXTRAS = ("currency", "open_balance", "overdue_balance", "aging_bucket", "clv")
INVOICE_RISK_EXTRAS = ("currency", "balance", "days_overdue")
COHORT_COLUMNS = ("cohort", "months_since", "customers", "retention", "on_time_rate")
SKIPPED_COLUMNS = ("customer_id", "code")

_INVOICE_COLUMNS = ["invoice_id", "customer_id", "issue_date", "due_date", "amount", "currency",
                    "amount_paid", "status"]
_SCHEDULE_COLUMNS = ["customer_id", "currency", "amount_due", "kind", "ladder", "channel", "send_at_local",
                     "arm"]
# Never the value or message columns: they may repeat what was in a rejected cell (an email, a name).
_REJECT_COLUMNS = ["file", "table", "column", "code"]
_MANIFEST_COLUMNS = ["customer_id", "channel", "kind"]


@dataclass(frozen=True)
class RunData:
    """What a run folder holds, as frames of the needed columns (None: not in this run).

    Attributes:
        run_dir: the folder read.
        stages: stage folders present, in pipeline order.
        as_of: the run's as-of date (run.json, else model_report.json, else plan_report.json, else
            the latest date in the clean tables, as the pipeline itself defaults it).
        as_of_inferred: ``as_of`` is the latest date in the clean tables (no file recorded it).
        run_info: run.json, when present.
        customer_ids: clean customers (``customer_id`` only).
        invoices_count: rows of the clean invoices table.
        invoices: clean invoices, read only when the segment output has no invoice balances (the
            aging chart then falls back to the invoice export).
        payments_count: rows of the clean payments table.
        rejects: ingest rejects without values or messages (``file, table, column, code``).
        ingest_report: clean/report.json.
        segments: segment customers: contract columns plus the present :data:`SEGMENT_EXTRAS`.
        invoice_risk: contract columns plus the present :data:`INVOICE_RISK_EXTRAS`.
        cohorts: the cohort table (:data:`COHORT_COLUMNS`).
        model_report: segments/model_report.json.
        schedule: plan schedule (columns the charts need).
        skipped: plan skipped rows (``customer_id, code``).
        manifest: rendered messages (``customer_id, channel, kind``).
        problems: files present but unusable, in words (their charts are marked unavailable).
    """

    run_dir: Path
    stages: tuple[str, ...]
    as_of: dt.date | None = None
    as_of_inferred: bool = False
    run_info: dict[str, Any] | None = None
    customer_ids: pl.DataFrame | None = None
    invoices_count: int | None = None
    invoices: pl.DataFrame | None = None
    payments_count: int | None = None
    rejects: pl.DataFrame | None = None
    ingest_report: dict[str, Any] | None = None
    segments: pl.DataFrame | None = None
    invoice_risk: pl.DataFrame | None = None
    cohorts: pl.DataFrame | None = None
    model_report: dict[str, Any] | None = None
    schedule: pl.DataFrame | None = None
    skipped: pl.DataFrame | None = None
    manifest: pl.DataFrame | None = None
    problems: tuple[str, ...] = ()

    def pseudonymized(self, key: bytes) -> RunData:
        """The same data with every ``customer_id`` replaced by its keyed pseudonym."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pl.DataFrame) and "customer_id" in value.columns:
                changes[f.name] = pseudonymize(value, key)
        return replace(self, **changes)


class _Reader:
    """Reads files of one run, recording unusable ones instead of raising."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.problems: list[str] = []

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.run_dir).as_posix()

    def _fail(self, path: Path, what: str) -> None:
        self.problems.append(f"{self._rel(path)}: {what}")
        log.warning("report: %s: %s", self._rel(path), what)

    def parquet(self, path: Path, *, required: list[str],
                optional: tuple[str, ...] = ()) -> pl.DataFrame | None:
        if not path.is_file():
            return None
        try:
            lf = pl.scan_parquet(path)
            have = lf.collect_schema().names()
            missing = [c for c in required if c not in have]
            if missing:
                self._fail(path, f"missing columns {', '.join(missing)}")
                return None
            return lf.select(required + [c for c in optional if c in have and c not in required]).collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            self._fail(path, f"not a readable Parquet file ({type(exc).__name__})")
            return None

    def row_count(self, path: Path) -> int | None:
        if not path.is_file():
            return None
        try:
            return int(pl.scan_parquet(path).select(pl.len()).collect().item())
        except (pl.exceptions.PolarsError, OSError) as exc:
            self._fail(path, f"not a readable Parquet file ({type(exc).__name__})")
            return None

    def json(self, path: Path) -> dict[str, Any] | None:
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._fail(path, f"not valid JSON ({type(exc).__name__})")
            return None
        if not isinstance(data, dict):
            self._fail(path, "expected a JSON object")
            return None
        return data

    def csv(self, path: Path, *, required: list[str]) -> pl.DataFrame | None:
        if not path.is_file():
            return None
        try:
            lf = pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")
            have = lf.collect_schema().names()
            missing = [c for c in required if c not in have]
            if missing:
                self._fail(path, f"missing columns {', '.join(missing)}")
                return None
            return lf.select(required).collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            self._fail(path, f"not a readable CSV file ({type(exc).__name__})")
            return None

    def jsonl(self, path: Path, *, required: list[str]) -> pl.DataFrame | None:
        if not path.is_file():
            return None
        schema = {c: pl.String for c in required}
        try:
            if path.stat().st_size == 0:
                return pl.DataFrame(schema=schema)
            rows = []
            with open(path, encoding="utf-8") as fh:
                for number, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    obj = json.loads(line)
                    missing = [c for c in required if c not in obj]
                    if missing:
                        self._fail(path, f"line {number}: missing keys {', '.join(missing)}")
                        return None
                    rows.append({c: None if obj[c] is None else str(obj[c]) for c in required})
            return pl.DataFrame(rows, schema=schema)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._fail(path, f"not readable JSON Lines ({type(exc).__name__})")
            return None


def _date(value: object) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _latest_date(clean: Path) -> dt.date | None:
    """The clean tables' latest date (the pipeline's default as-of), None when it cannot be read."""
    try:
        return CleanData.load(clean).latest_date()
    except (BillcxError, pl.exceptions.PolarsError, OSError):
        return None  # the unreadable table is reported by the reader itself


def load_run(run_dir: str | Path) -> RunData:
    """Read every stage output present in ``run_dir`` (only the columns the report needs).

    Args:
        run_dir: a run folder (see the module docstring for its layout).

    Returns:
        A :class:`RunData`; absent parts are None and unusable files are listed in ``problems``.

    Raises:
        UsageError: ``run_dir`` does not exist, or holds none of the stage folders nor run.json.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise UsageError(f"{run}: no such run folder",
                         hint="give the folder `billcx run` wrote (with clean/, segments/, plan/, bundle/)")
    stages = tuple(s for s in STAGE_DIRS if (run / s).is_dir())
    if not stages and not (run / RUN_FILE).is_file():
        raise UsageError(f"{run}: not a run folder: none of {', '.join(d + '/' for d in STAGE_DIRS)} or "
                         f"{RUN_FILE} found", hint="give the folder `billcx run` wrote")
    r = _Reader(run)
    clean, seg, plan, bundle = (run / d for d in STAGE_DIRS)
    run_info = r.json(run / RUN_FILE)
    model_report = r.json(seg / "model_report.json")
    plan_report = r.json(plan / "plan_report.json")
    invoice_risk = r.parquet(seg / f"{INVOICE_RISK.file_stem}.parquet",
                             required=[c for c in INVOICE_RISK.names if c != "reasons"],
                             optional=INVOICE_RISK_EXTRAS)
    has_balances = invoice_risk is not None and all(c in invoice_risk.columns for c in INVOICE_RISK_EXTRAS)
    invoices_path = clean / f"{INVOICES.file_stem}.parquet"
    as_of = next((d for d in (_date((run_info or {}).get("as_of")), _date((model_report or {}).get("as_of")),
                              _date((plan_report or {}).get("as_of"))) if d is not None), None)
    inferred = as_of is None and (clean / f"{INVOICES.file_stem}.parquet").is_file()
    if inferred:
        as_of = _latest_date(clean)
        inferred = as_of is not None
    return RunData(
        run_dir=run,
        stages=stages,
        as_of=as_of,
        as_of_inferred=inferred,
        run_info=run_info,
        customer_ids=r.parquet(clean / "customers.parquet", required=["customer_id"]),
        invoices_count=r.row_count(invoices_path),
        invoices=None if has_balances else r.parquet(invoices_path,
                                                     required=[c for c in _INVOICE_COLUMNS if c in INVOICES]),
        payments_count=r.row_count(clean / "payments.parquet"),
        rejects=r.csv(clean / "rejects.csv", required=[c for c in _REJECT_COLUMNS if c in REJECTS]),
        ingest_report=r.json(clean / "report.json"),
        segments=r.parquet(seg / f"{SEGMENTS.file_stem}.parquet", required=SEGMENTS.names,
                           optional=SEGMENT_EXTRAS),
        invoice_risk=invoice_risk,
        cohorts=r.parquet(seg / "cohorts.parquet", required=list(COHORT_COLUMNS)),
        model_report=model_report,
        schedule=r.parquet(plan / f"{SCHEDULE.file_stem}.parquet", required=_SCHEDULE_COLUMNS),
        skipped=r.parquet(plan / "skipped.parquet", required=list(SKIPPED_COLUMNS)),
        manifest=r.jsonl(bundle / "manifest.jsonl", required=[c for c in _MANIFEST_COLUMNS if c in MANIFEST]),
        problems=tuple(r.problems),
    )
