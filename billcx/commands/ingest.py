"""``billcx ingest``: billing exports to the data contract (a thin adapter over billcx.ingest)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from billcx.commands.common import (
    OutDirOpt,
    ReportFormat,
    ReportFormatOpt,
    TableFormatOpt,
    app_context,
    err_console,
    parse_shard,
    print_json,
    progress_callback,
)
from billcx.export import Format
from billcx.ingest import IngestSettings, ingest, load_mapping, write_ingest
from billcx.ingest.summary import print_summary

HELP = """Read billing exports (CSV/TSV, Parquet, XLSX) into clean contract tables.

Writes DIR/customers.parquet, invoices.parquet, payments.parquet (events.parquet when given),
rejects.csv (every rejected row with file, line, column, value, code, message) and report.json.
Exit 0 when nothing is rejected (or within --max-reject-rate), 1 otherwise, 2 for usage errors.

Example:

    billcx ingest customers.csv invoices.csv payments.csv --out clean/

    billcx ingest AR-export.csv --map examples/ibm_receivables/mapping.toml --out clean/

    billcx ingest customers.csv invoices.csv payments.csv --shard 0/4 --out shards/0/clean/

With --shard I/N every row is still read and checked, but only shard I's customers are kept (rows
rejected before a valid customer id is known go to shard 0); per file, rows_read = rows_clean +
rows_rejected + rows_in_other_shards.
"""


def command(
    ctx: typer.Context,
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="INPUT...", help="Export files to read.", exists=True, dir_okay=False, readable=True
        ),
    ],
    out: OutDirOpt,
    map_file: Annotated[
        Path | None,
        typer.Option("--map", "-m", help="Mapping TOML (see docs/ingest.md).", exists=True, dir_okay=False),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="Encoding of every text input (utf-8, utf-16, cp1252, latin-1...); default: detect.",
        ),
    ] = None,
    max_reject_rate: Annotated[
        float,
        typer.Option(
            "--max-reject-rate",
            min=0.0,
            max=1.0,
            help="Share of rows (0-1) that may be rejected with exit code 0.",
        ),
    ] = 0.0,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="Keep only shard I of N (e.g. 0/4): every row is still read and checked; rows "
            "rejected before a customer id is known go to shard 0.",
        ),
    ] = None,
    fmt: TableFormatOpt = Format.PARQUET,
    report_format: ReportFormatOpt = ReportFormat.TEXT,
) -> None:
    mapping = load_mapping(map_file) if map_file is not None else None
    settings = IngestSettings(encoding=encoding, max_reject_rate=max_reject_rate)
    part = parse_shard(shard)
    with progress_callback(ctx) as on_progress:
        # Staged beside the output (same file system): writing then links the tables, no copy.
        result = ingest(inputs, mapping=mapping, settings=settings, shard=part, on_progress=on_progress,
                        workdir=out.absolute().parent)
    write_ingest(result, out, fmt=fmt)
    if report_format is ReportFormat.JSON:
        print_json(result.report.to_dict())
    elif not app_context(ctx).quiet:
        print_summary(result.report, err_console(), out_dir=str(out))
    raise typer.Exit(int(result.exit_code))


def register(app: typer.Typer) -> None:
    """Add ``ingest`` to the ``billcx`` command line."""
    app.command("ingest", help=HELP, no_args_is_help=True)(command)
