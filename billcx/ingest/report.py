"""The ingest report: what was read, kept, rejected, derived and assumed -- as data.

``report.json`` is :meth:`IngestReport.to_dict` (sorted keys, no timestamps: reruns give the same
bytes).  The exit code is derived from the report: any rejected row makes it 1 unless the share of
rejected rows is within ``max_reject_rate``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from billcx.exitcodes import ExitCode


@dataclass(frozen=True)
class FileReport:
    """One input file.

    Attributes:
        file: the file as named on the command line.
        table: the table it fed; ``table_by`` how that was decided (mapping, argument, file name,
            header).
        format: csv, parquet or xlsx; ``encoding``/``encoding_by`` and ``delimiter``/``delimiter_by``
            how the text was read and how that was decided (flag, mapping, BOM, detected, default).
        rows_read: data rows (blank lines are not rows); always ``rows_clean + rows_rejected +
            rows_in_other_shards``.
        rows_clean: rows accepted (including identical duplicates collapsed into another row).
        rows_rejected: rows with at least one rejecting issue (listed in rejects.csv).
        rows_in_other_shards: with a shard, rows that belong to another shard (their customer's, or
            shard 0 for rows rejected before a valid customer id was known); 0 otherwise and then
            left out of the report.
        duplicates_collapsed: identical copies of another row, kept once.
        blank_lines: blank lines skipped.
        columns: input column -> contract column it fed; ``matched_by`` how (mapping, name, alias).
        ignored: input column -> why it was not used.
        notes: what was detected or assumed, in words.
    """

    file: str
    table: str
    table_by: str
    format: str
    encoding: str | None
    encoding_by: str | None
    delimiter: str | None
    delimiter_by: str | None
    rows_read: int
    rows_clean: int
    rows_rejected: int
    duplicates_collapsed: int
    blank_lines: int
    columns: dict[str, str]
    matched_by: dict[str, str]
    ignored: dict[str, str]
    notes: tuple[str, ...] = ()
    rows_in_other_shards: int = 0


@dataclass(frozen=True)
class TableReport:
    """One output table: rows written, where they came from, what was filled in."""

    table: str
    rows: int
    sources: tuple[str, ...]
    derived: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class IngestReport:
    """The whole run (see the module doc)."""

    files: tuple[FileReport, ...]
    tables: tuple[TableReport, ...]
    codes: dict[str, int]
    max_reject_rate: float
    notes: tuple[str, ...] = field(default=())
    shard: str | None = None

    @property
    def rows_read(self) -> int:
        """Data rows over all files."""
        return sum(f.rows_read for f in self.files)

    @property
    def rows_rejected(self) -> int:
        """Rejected rows over all files."""
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_clean(self) -> int:
        """Accepted rows over all files."""
        return sum(f.rows_clean for f in self.files)

    @property
    def rows_in_other_shards(self) -> int:
        """Rows over all files that belong to other shards (0 without a shard)."""
        return sum(f.rows_in_other_shards for f in self.files)

    @property
    def reject_rate(self) -> float:
        """Share of this run's rows rejected (of the shard's rows with a shard; 0 when none)."""
        own = self.rows_read - self.rows_in_other_shards
        return self.rows_rejected / own if own else 0.0

    @property
    def exit_code(self) -> ExitCode:
        """0 when no row was rejected or the rejected share is within ``max_reject_rate``, else 1."""
        if self.rows_rejected and self.reject_rate > self.max_reject_rate:
            return ExitCode.DATA
        return ExitCode.OK

    def table(self, name: str) -> TableReport | None:
        """The report of table ``name``."""
        return next((t for t in self.tables if t.table == name), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``report.json`` and ``--report-format json``.

        The shard figures (``shard``, ``rows_in_other_shards``) appear only in a sharded run's report,
        so an unsharded report is unchanged.
        """
        sharded = self.shard is not None
        files = [_plain(f) for f in self.files]
        if not sharded:
            for f in files:
                del f["rows_in_other_shards"]
        out: dict[str, Any] = {
            "exit_code": int(self.exit_code),
            "rows_read": self.rows_read,
            "rows_clean": self.rows_clean,
            "rows_rejected": self.rows_rejected,
            "reject_rate": round(self.reject_rate, 6),
            "max_reject_rate": self.max_reject_rate,
            "reject_codes": dict(sorted(self.codes.items())),
            "files": files,
            "tables": {t.table: _plain(t) for t in self.tables},
            "notes": list(self.notes),
        }
        if sharded:
            out["shard"] = self.shard
            out["rows_in_other_shards"] = self.rows_in_other_shards
        return out


def _plain(obj: object) -> dict[str, Any]:
    out = dataclasses.asdict(obj)  # type: ignore[call-overload]
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}
