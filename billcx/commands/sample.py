"""``billcx sample``: generate realistic billing exports (optionally with defects) into a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from billcx.commands.common import (
    OutDirOpt,
    ReportFormat,
    ReportFormatOpt,
    app_context,
    err_console,
    parse_date,
    print_json,
    progress_callback,
)
from billcx.errors import UsageError
from billcx.sample import ExportFormat, SampleSettings, generate, messify, write_exports, write_messy
from billcx.sample.settings import DEFAULT_END

HELP = (
    "Generate realistic billing exports: customers, invoices, payments and events.\n\n"
    "Deterministic for a seed: the same options always write byte-identical files. With --messy the "
    "files carry the defects real exports have (documented in docs/sample.md, listed with line numbers "
    "in defects.json), so `billcx ingest` has something to reject.\n\n"
    "Example: billcx sample --customers 300 --seed 7 --out sample_data"
)


def register(app: typer.Typer) -> None:
    """Add the ``sample`` command to ``app``."""

    @app.command("sample", help=HELP)
    def sample(
        ctx: typer.Context,
        out: OutDirOpt,
        customers: Annotated[int, typer.Option("--customers", "-n", min=1,
                                               help="Number of customers.")] = 300,
        seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 7,
        end: Annotated[str | None, typer.Option("--end", help="Export date YYYY-MM-DD; the history "
                                                "ends here (default 2026-10-31).")] = None,
        months: Annotated[int, typer.Option("--months", min=18, help="Months of history.")] = 18,
        messy: Annotated[bool, typer.Option("--messy", help="Add realistic defects (CSV only).")] = False,
        fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="csv (as billing systems export) "
                                                  "or parquet (native types, for benchmarks).")
               ] = ExportFormat.CSV,
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        if messy and fmt is not ExportFormat.CSV:
            raise UsageError("--messy: defects live in the text of CSV files; found --format parquet",
                             hint="drop --format parquet or --messy")
        end_date = parse_date(end, option="--end")
        settings = SampleSettings(customers=customers, seed=seed, months=months, end=end_date or DEFAULT_END)
        with progress_callback(ctx) as on_progress:
            data = generate(settings, on_progress=on_progress)
        if messy:
            result = messify(data, seed=seed)
            paths = write_messy(result, out)
            rows = {f.name: f.data_rows for f in result.files}
            defects = {f.name: sum(1 for d in result.defects if d.file == f.name) for f in result.files}
        else:
            paths = write_exports(data, out, fmt=fmt)
            rows = {p.name: n for p, n in zip(paths, data.counts().values(), strict=True)}
            defects = {}
        report = _report(settings, out, paths, rows, defects)
        if report_format is ReportFormat.JSON:
            print_json(report)
        elif not app_context(ctx).quiet:
            _summary(report)


def _report(settings: SampleSettings, out: Path, paths: list[Path], rows: dict[str, int],
            defects: dict[str, int]) -> dict[str, Any]:
    return {
        "out": str(out),
        "customers": settings.customers,
        "seed": settings.seed,
        "start": settings.start.isoformat(),
        "end": settings.end.isoformat(),
        "files": [{"file": p.name, "rows": rows.get(p.name), "defects": defects.get(p.name),
                   "bytes": p.stat().st_size} for p in paths],
    }


def _summary(report: dict[str, Any]) -> None:
    table = RichTable()
    table.add_column("file")
    table.add_column("rows", justify="right")
    with_defects = any(f["defects"] is not None for f in report["files"])
    if with_defects:
        table.add_column("defects", justify="right")
    table.add_column("bytes", justify="right")
    for f in report["files"]:
        cells = [f["file"], "" if f["rows"] is None else f"{f['rows']:,}"]
        if with_defects:
            cells.append("" if f["defects"] is None else f"{f['defects']:,}")
        table.add_row(*cells, f"{f['bytes']:,}")
    console = err_console()
    console.print(f"billcx sample: {report['customers']:,} customers, seed {report['seed']}, "
                  f"{report['start']} to {report['end']}, written to {report['out']}",
                  markup=False, soft_wrap=True)
    console.print(table)
