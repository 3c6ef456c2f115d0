"""Settings in, result out: the typed objects around :func:`billcx.ingest.ingest`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from billcx.atomic import write_text
from billcx.errors import UsageError
from billcx.exitcodes import ExitCode
from billcx.export import Format, write_table
from billcx.ingest.report import IngestReport
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS, REJECTS, Table


@dataclass(frozen=True)
class IngestSettings:
    """Options of one ingest run (the mapping file is passed separately).

    Attributes:
        encoding: read every text input with this codec (``--encoding``), overriding detection.
        max_reject_rate: share of rows (0..1) that may be rejected with exit code 0.
        sample_rows: rows read first from each file to detect separators and date layouts.
    """

    encoding: str | None = None
    max_reject_rate: float = 0.0
    sample_rows: int = 10_000

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_reject_rate <= 1.0:
            raise UsageError(f"max_reject_rate must be between 0 and 1, found {self.max_reject_rate}")
        if self.sample_rows < 1:
            raise UsageError(f"sample_rows must be positive, found {self.sample_rows}")


@dataclass(frozen=True)
class IngestResult:
    """The clean tables in the contract's exact schema (sorted by key), the rejects and the report.

    ``events`` is None when no engagement export was given.
    """

    customers: pl.DataFrame
    invoices: pl.DataFrame
    payments: pl.DataFrame
    events: pl.DataFrame | None
    rejects: pl.DataFrame
    report: IngestReport

    @property
    def exit_code(self) -> ExitCode:
        """The process exit code this result calls for (see :attr:`IngestReport.exit_code`)."""
        return self.report.exit_code

    def tables(self) -> dict[str, pl.DataFrame]:
        """The clean tables by name (events only when given)."""
        out = {"customers": self.customers, "invoices": self.invoices, "payments": self.payments}
        if self.events is not None:
            out["events"] = self.events
        return out

    def write(self, out_dir: str | Path) -> tuple[Path, ...]:
        """Write the result to ``out_dir`` (see :func:`write_ingest`)."""
        return write_ingest(self, out_dir)


_TABLES: dict[str, Table] = {t.name: t for t in (CUSTOMERS, INVOICES, PAYMENTS, EVENTS)}


def write_ingest(result: IngestResult, out_dir: str | Path, *, fmt: Format = Format.PARQUET
                 ) -> tuple[Path, ...]:
    """Write customers/invoices/payments(/events).parquet, rejects.csv and report.json to ``out_dir``.

    Every file is written atomically and deterministically: the same result gives the same bytes.
    An events.parquet left by an earlier run is removed when this result has no events, so later
    stages never read stale engagement data.

    Args:
        result: what :func:`billcx.ingest.ingest` returned.
        out_dir: the clean folder (created if missing).
        fmt: an extra format (csv, xlsx, jsonl) for the clean tables besides Parquet, for people
            (money in major units, formula-safe).

    Returns:
        The paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    formats = [Format.PARQUET] if fmt is Format.PARQUET else [Format.PARQUET, fmt]
    written = [
        write_table(frame, out / f"{name}.parquet", fmt=f, table=_TABLES[name])
        for name, frame in result.tables().items()
        for f in formats
    ]
    if result.events is None:
        (out / "events.parquet").unlink(missing_ok=True)
    written.append(write_table(result.rejects, out / "rejects.csv", fmt=Format.CSV, table=REJECTS))
    report = out / "report.json"
    write_text(
        report, json.dumps(result.report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
    written.append(report)
    return tuple(written)
