"""The human summary of an ingest report (rich tables; the CLI prints them on stderr)."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from billcx.ingest.codes import BY_NAME
from billcx.ingest.report import IngestReport


def summary(report: IngestReport, *, out_dir: str | None = None) -> RenderableType:
    """Files, tables, reject codes, notes and the verdict, ready for ``Console.print``."""
    parts: list[RenderableType] = []
    files = Table(title="inputs", title_justify="left", show_edge=False)
    for col in ("file", "table", "read", "clean", "rejected", "collapsed"):
        files.add_column(col, justify="left" if col in ("file", "table") else "right")
    for f in report.files:
        files.add_row(
            f.file,
            f"{f.table} ({f.table_by})",
            f"{f.rows_read:,}",
            f"{f.rows_clean:,}",
            f"{f.rows_rejected:,}",
            f"{f.duplicates_collapsed:,}",
        )
    parts.append(files)
    tables = Table(title="clean tables", title_justify="left", show_edge=False)
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    tables.add_column("from")
    for t in report.tables:
        tables.add_row(t.table, f"{t.rows:,}", ", ".join(t.sources) or "-")
    parts.append(tables)
    if report.codes:
        codes = Table(title="reject codes", title_justify="left", show_edge=False)
        codes.add_column("code")
        codes.add_column("row")
        codes.add_column("count", justify="right")
        for name, n in sorted(report.codes.items()):
            codes.add_row(name, BY_NAME[name].severity.value, f"{n:,}")
        parts.append(codes)
    notes = [f"{f.file}: {n}" for f in report.files for n in f.notes]
    notes += [f"{t.table}: {n}" for t in report.tables for n in t.notes]
    if notes:
        parts.append(Text("\n".join(f"- {n}" for n in notes)))
    if report.shard is not None:
        parts.append(
            Text(
                f"shard {report.shard}: {report.rows_in_other_shards:,} of {report.rows_read:,} rows "
                "belong to other shards (read and checked, not kept here)"
            )
        )
    parts.append(Text(verdict(report, out_dir=out_dir)))
    return Group(*parts)


def verdict(report: IngestReport, *, out_dir: str | None = None) -> str:
    """One line: how many rows were rejected and what that means for the exit code."""
    where = f"; rejects.csv and report.json in {out_dir}" if out_dir else ""
    if not report.rows_rejected:
        return f"ok: {report.rows_read:,} rows read, none rejected{where}"
    share = f"{report.reject_rate:.2%}"
    if report.exit_code == 0:
        return (
            f"ok: {report.rows_rejected:,} of {report.rows_read:,} rows rejected ({share}), within "
            f"--max-reject-rate {report.max_reject_rate:g}{where}"
        )
    return (
        f"invalid data: {report.rows_rejected:,} of {report.rows_read:,} rows rejected ({share}), above "
        f"--max-reject-rate {report.max_reject_rate:g}{where}"
    )


def print_summary(report: IngestReport, console: Console, *, out_dir: str | None = None) -> None:
    """Print :func:`summary` to ``console``."""
    console.print(summary(report, out_dir=out_dir))
