"""``billcx segment``: score and tier every customer of a clean folder as of a date."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from billcx.commands.common import (
    AsOfOpt,
    OutDirOpt,
    ReportFormat,
    ReportFormatOpt,
    ShardOpt,
    TableFormatOpt,
    app_context,
    err_console,
    parse_date,
    parse_shard,
    print_json,
    progress_callback,
)
from billcx.config import from_mapping, read_toml
from billcx.errors import ConfigError, UsageError
from billcx.export import Format
from billcx.privacy import pseudonymize, read_key
from billcx.segment.population import FILE_NAME as POPULATION_FILE
from billcx.segment.population import read_population, write_population
from billcx.segment.result import SegmentResult, round_floats, write_segment
from billcx.segment.settings import SegmentSettings
from billcx.shard import Shard
from billcx.store import CleanData

HELP = (
    "Score and tier every customer as of a date: RFM segment, payment behaviour, late-payment risk "
    "with reasons, lifetime value (BG/NBD + Gamma-Gamma), cohorts, and the treatment the plan uses.\n\n"
    "Reads the clean folder `billcx ingest` wrote; writes customers.parquet, invoice_risk.parquet, "
    "cohorts.parquet, model_report.json and population.json. Only data up to the as-of date is used "
    "(default: the latest date in the data). Thresholds and model settings come from --settings "
    "(see docs/segment.md).\n\n"
    "Sharded runs: --shard I/N scores only the customers of shard I, with exactly the figures of the "
    "unsharded run. Ranks and models are population-level: fit them once with --fit-only (writes only "
    "population.json), then give each shard --population population.json so that it reads only its own "
    "customers. Without --population a sharded run first fits on the whole clean folder.\n\n"
    "Example: billcx segment clean --out segments --as-of 2026-09-30 --format csv"
)

CleanDirArg = Annotated[Path, typer.Argument(help="Folder written by `billcx ingest`.", exists=True,
                                             file_okay=False, dir_okay=True)]
SettingsOpt = Annotated[Path | None, typer.Option(
    "--settings", help="TOML file with segment settings (top level or a [segment] table).", exists=True,
    dir_okay=False)]
PopulationOpt = Annotated[Path | None, typer.Option(
    "--population", help="population.json from --fit-only: score against it instead of fitting.", exists=True,
    dir_okay=False)]
FitOnlyOpt = Annotated[bool, typer.Option(
    "--fit-only", help="Fit the population on every customer and write only OUT/population.json.")]


def load_settings(path: Path | None) -> SegmentSettings:
    """Segment settings from a TOML file (its ``[segment]`` table if present), defaults without one."""
    if path is None:
        return SegmentSettings()
    table = read_toml(path)
    nested = isinstance(table.get("segment"), dict)
    try:
        return from_mapping(
            SegmentSettings, table["segment"] if nested else table, where="segment" if nested else ""
        )
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}", hint=exc.hint) from None


ChunkOpt = Annotated[int | None, typer.Option(
    "--chunk-invoices", min=1, help="Memory bound: prepare customers in chunks of about this many "
    "invoice rows (default 2,500,000); chunks wait to be scored in a temporary billcx-segment-* folder "
    "beside --out. Results do not depend on it.")]
PseudonymizeOpt = Annotated[Path | None, typer.Option(
    "--pseudonymize", help="Key file: replace customer ids with keyed hashes and drop contact fields, "
    "so the outputs can be shared.", exists=True, dir_okay=False)]


def register(app: typer.Typer) -> None:
    """Add the ``segment`` command to ``app``."""

    @app.command("segment", help=HELP)
    def segment_command(
        ctx: typer.Context,
        clean_dir: CleanDirArg,
        out: OutDirOpt,
        as_of: AsOfOpt = None,
        fmt: TableFormatOpt = Format.PARQUET,
        settings_file: SettingsOpt = None,
        shard: ShardOpt = None,
        population_file: PopulationOpt = None,
        fit_only: FitOnlyOpt = False,
        pseudonymize_key: PseudonymizeOpt = None,
        chunk_invoices: ChunkOpt = None,
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        from billcx.segment.pipeline import segment  # the models' libraries load only when run

        key = read_key(pseudonymize_key) if pseudonymize_key is not None else None
        as_of_date = parse_date(as_of)
        settings = load_settings(settings_file)
        part = parse_shard(shard)
        data = CleanData.load(clean_dir)
        if fit_only:
            _fit_only(data, out, as_of=as_of_date, settings=settings, shard=part, population=population_file,
                      report_format=report_format, quiet=app_context(ctx).quiet,
                      chunk_invoices=chunk_invoices)
            return
        population = read_population(population_file) if population_file is not None else None
        with progress_callback(ctx) as on_progress:
            result = segment(data, as_of=as_of_date, settings=settings, population=population, shard=part,
                             chunk_invoices=chunk_invoices, workdir=out.absolute().parent,
                             on_progress=on_progress)
        if key is not None:  # shareable outputs: keyed ids, no contact fields
            result = dataclasses.replace(result, customers=pseudonymize(result.customers, key),
                                         invoice_risk=pseudonymize(result.invoice_risk, key))
        paths = write_segment(result, out, fmt=fmt, with_population=True)
        source = "--as-of" if as_of_date else "population.json" if population else "latest date in the data"
        report = _report(result, out, paths, source=source, shard=part)
        if report_format is ReportFormat.JSON:
            print_json(report)
        elif not app_context(ctx).quiet:
            _summary(report)
        raise typer.Exit(int(result.exit_code))


def _fit_only(data: CleanData, out: Path, *, as_of: dt.date | None, settings: SegmentSettings,
              shard: Shard | None, population: Path | None, report_format: ReportFormat, quiet: bool,
              chunk_invoices: int | None) -> None:
    """``--fit-only``: fit on every customer, write ``population.json``, report."""
    from billcx.segment.fit import fit_population

    if shard is not None or population is not None:
        raise UsageError("--fit-only fits on every customer: it takes neither --shard nor --population")
    fitted = fit_population(data, as_of=as_of, settings=settings, chunk_invoices=chunk_invoices)
    out.mkdir(parents=True, exist_ok=True)
    path = write_population(fitted, out / POPULATION_FILE)
    report = round_floats({"as_of": fitted.as_of.isoformat(),
                           "as_of_source": "--as-of" if as_of is not None else "latest date in the data",
                           "out": str(out), "files": [path.name], "customers": fitted.customers,
                           "risk_model": {"method": fitted.risk.method},
                           "lifetime_model": fitted.lifetime.method,
                           "warnings": list(fitted.warnings)})
    if report_format is ReportFormat.JSON:
        print_json(report)
    elif not quiet:
        console = err_console()
        console.print(f"billcx segment --fit-only: as of {report['as_of']} ({report['as_of_source']}); "
                      f"population of {fitted.customers:,} customers written to {path}", markup=False)
        for warning in fitted.warnings:
            console.print(f"warning: {warning}", markup=False)


def _report(result: SegmentResult, out: Path, paths: list[Path], *, source: str,
            shard: Shard | None) -> dict[str, Any]:
    risk = result.model_report["risk"]
    evaluation = risk.get("evaluation", {})
    return round_floats(
        {
            "as_of": result.as_of.isoformat(),
            "as_of_source": source,
            "out": str(out),
            "shard": str(shard) if shard is not None else None,
            "files": [p.name for p in paths],
            "customers": result.customers.height,
            "open_invoices": result.invoice_risk.height,
            "risk_model": {
                "method": risk["method"],
                "auc": evaluation.get("auc"),
                "brier": evaluation.get("brier"),
                "validation_rows": evaluation.get("validation_rows"),
            },
            "sizes": result.model_report["sizes"],
            "warnings": list(result.warnings),
        }
    )


def _sizes_table(title: str, sizes: dict[str, int]) -> RichTable:
    table = RichTable(title=title, title_justify="left")
    table.add_column(title.split(" ")[0].lower())
    table.add_column("customers", justify="right")
    for name, count in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(name, f"{count:,}")
    return table


def _summary(report: dict[str, Any]) -> None:
    console = err_console()
    shard = f" (shard {report['shard']})" if report["shard"] else ""
    console.print(f"billcx segment: as of {report['as_of']} ({report['as_of_source']}); "
                  f"{report['customers']:,} customers{shard}, "
                  f"{report['open_invoices']:,} open invoices scored; "
                  f"written to {report['out']}", markup=False)
    model = report["risk_model"]
    if model["method"] == "rules":
        console.print("risk: transparent rules (too little history for a model)", markup=False)
    else:
        auc = "n/a" if model["auc"] is None else f"{model['auc']:.3f}"
        brier = "n/a" if model["brier"] is None else f"{model['brier']:.3f}"
        console.print(f"risk model: logistic, validation AUC {auc}, Brier {brier} "
                      f"({model['validation_rows'] or 0:,} later invoices)", markup=False)
    console.print(_sizes_table("RFM segment", report["sizes"]["rfm_segment"]))
    console.print(_sizes_table("Treatment", report["sizes"]["treatment"]))
    for warning in report["warnings"]:
        console.print(f"warning: {warning}", markup=False)
