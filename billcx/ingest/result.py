"""Settings in, result out: the typed objects around :func:`billcx.ingest.ingest`."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from billcx.atomic import atomic_path, write_text
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


class _Tables(Mapping[str, pl.DataFrame]):
    """The clean tables by name, each read from its staged file when looked up (one at a time)."""

    def __init__(self, result: IngestResult) -> None:
        self._result = result

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self._result.read(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._result.paths)

    def __len__(self) -> int:
        return len(self._result.paths)


@dataclass(frozen=True)
class IngestResult:
    """The clean tables in the contract's exact schema (sorted by key), the rejects and the report.

    The clean tables are not held in memory: ingest sinks them, in their final bytes, to a private
    staging folder that lives as long as this result (``paths``). ``customers``, ``invoices``,
    ``payments`` and ``events`` read a table into memory on each access; :meth:`scan` gives it
    lazily; :func:`write_ingest` links (or copies) the files into the output folder without
    reading them. ``events`` is None when no engagement export was given.
    """

    rejects: pl.DataFrame
    report: IngestReport
    paths: Mapping[str, Path]
    staging: object = field(default=None, repr=False, compare=False)

    def scan(self, name: str) -> pl.LazyFrame:
        """The clean table ``name`` as a lazy scan of its staged file.

        Raises:
            KeyError: no such table in this result (events without an events export).
        """
        return pl.scan_parquet(self.paths[name])

    def read(self, name: str) -> pl.DataFrame:
        """The clean table ``name`` read into memory (one chunk)."""
        return pl.read_parquet(self.paths[name]).rechunk()

    @property
    def customers(self) -> pl.DataFrame:
        """The customers table (read from the staged file)."""
        return self.read("customers")

    @property
    def invoices(self) -> pl.DataFrame:
        """The invoices table (read from the staged file)."""
        return self.read("invoices")

    @property
    def payments(self) -> pl.DataFrame:
        """The payments table (read from the staged file)."""
        return self.read("payments")

    @property
    def events(self) -> pl.DataFrame | None:
        """The events table, or None when no events export was given."""
        return self.read("events") if "events" in self.paths else None

    @property
    def exit_code(self) -> ExitCode:
        """The process exit code this result calls for (see :attr:`IngestReport.exit_code`)."""
        return self.report.exit_code

    def tables(self) -> Mapping[str, pl.DataFrame]:
        """The clean tables by name (events only when given), each read when looked up."""
        return _Tables(self)

    def rows(self) -> dict[str, int]:
        """Rows of each clean table, from the report (nothing is read)."""
        return {t.table: t.rows for t in self.report.tables if t.table in self.paths}

    def write(self, out_dir: str | Path) -> tuple[Path, ...]:
        """Write the result to ``out_dir`` (see :func:`write_ingest`)."""
        return write_ingest(self, out_dir)


_TABLES: dict[str, Table] = {t.name: t for t in (CUSTOMERS, INVOICES, PAYMENTS, EVENTS)}


def _place(staged: Path, target: Path) -> Path:
    """Put a staged file at ``target`` atomically: a hard link when on one file system, else a copy."""
    with atomic_path(target) as tmp:
        tmp.unlink()
        try:
            os.link(staged, tmp)
        except OSError:
            shutil.copyfile(staged, tmp)
    return target


def write_ingest(result: IngestResult, out_dir: str | Path, *, fmt: Format = Format.PARQUET
                 ) -> tuple[Path, ...]:
    """Write customers/invoices/payments(/events).parquet, rejects.csv and report.json to ``out_dir``.

    Every file is written atomically and deterministically: the same result gives the same bytes.
    The Parquet files are the staged ones, linked or copied (memory does not grow with the data).
    An events.parquet left by an earlier run is removed when this result has no events, so later
    stages never read stale engagement data.

    Args:
        result: what :func:`billcx.ingest.ingest` returned.
        out_dir: the clean folder (created if missing).
        fmt: an extra format (csv, xlsx, jsonl) for the clean tables besides Parquet, for people
            (money in major units, formula-safe); each table is read into memory for it.

    Returns:
        The paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, staged in result.paths.items():
        written.append(_place(staged, out / f"{name}.parquet"))
        if fmt is not Format.PARQUET:
            written.append(
                write_table(result.read(name), out / f"{name}.parquet", fmt=fmt, table=_TABLES[name])
            )
    if "events" not in result.paths:
        (out / "events.parquet").unlink(missing_ok=True)
    written.append(write_table(result.rejects, out / "rejects.csv", fmt=Format.CSV, table=REJECTS))
    report = out / "report.json"
    write_text(
        report, json.dumps(result.report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
    written.append(report)
    return tuple(written)
