"""``billcx run``: the whole pipeline into one dated run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from billcx.commands.common import (
    AsOfOpt,
    ReportFormat,
    ReportFormatOpt,
    ShardOpt,
    app_context,
    err_console,
    out_console,
    parse_date,
    parse_shard,
    print_json,
    progress_callback,
)
from billcx.errors import UsageError
from billcx.pipeline import RunResult, StageOutcome, run_pipeline
from billcx.project import CONFIG_NAME, load_config

HELP = (
    "Run ingest, segment, plan, render and the report into OUT/run-<as-of>/.\n\n"
    "Settings come from billcx.toml (see `billcx init`); flags override it. The run is staged "
    "and renamed into place only when every stage succeeded; a failing stage stops the run with "
    "its exit code and leaves its partial output in run-<as-of>.failed/.\n\n"
    "Example: billcx run --config sample_data/billcx.toml --out out"
)

ConfigArg = Annotated[Path | None, typer.Option(
    "--config", "-c", help=f"Project configuration (default: ./{CONFIG_NAME} when present).",
    exists=True, dir_okay=False)]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Folder for run folders (overrides "
                                             "[run] out).", file_okay=False)]


def register(app: typer.Typer) -> None:
    """Add ``run`` to ``app``."""

    @app.command("run", help=HELP)
    def run_command(
        ctx: typer.Context,
        config: ConfigArg = None,
        out: OutOpt = None,
        as_of: AsOfOpt = None,
        shard: ShardOpt = None,
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        if config is None and Path(CONFIG_NAME).is_file():
            config = Path(CONFIG_NAME)
        if config is None:
            raise UsageError(f"no {CONFIG_NAME} here and no --config given",
                             hint="create a project with `billcx init DIR`, or pass --config FILE")
        settings = load_config(config)
        quiet = app_context(ctx).quiet or report_format is ReportFormat.JSON
        with progress_callback(ctx) as on_progress:
            result = run_pipeline(settings, as_of=parse_date(as_of), out=out, shard=parse_shard(shard),
                                  on_progress=on_progress, on_stage=None if quiet else _stage_line)
        if report_format is ReportFormat.JSON:
            print_json(_report(result))
        elif not app_context(ctx).quiet:
            _summary(result)
        raise typer.Exit(int(result.exit_code))


def _stage_line(stage: StageOutcome) -> None:
    mark = "[green]ok[/]" if stage.exit_code == 0 else f"[red]exit {int(stage.exit_code)}[/]"
    figures = ", ".join(f"{k} {v}" for k, v in stage.summary.items() if isinstance(v, int | str))
    err_console().print(f"{stage.name:<8} {mark}  {stage.seconds:6.2f}s  {figures}", markup=True)


def _report(result: RunResult) -> dict[str, object]:
    return {
        "exit_code": int(result.exit_code),
        "as_of": result.as_of.isoformat() if result.as_of else None,
        "run_dir": str(result.run_dir) if result.run_dir else None,
        "failed_dir": str(result.failed_dir) if result.failed_dir else None,
        "stages": [{"name": s.name, "exit_code": int(s.exit_code), "seconds": s.seconds,
                    "summary": s.summary} for s in result.stages],
    }


def _counts(mapping: object) -> str:
    return ", ".join(f"{v} {k}" for k, v in mapping.items()) if isinstance(mapping, dict) else ""


def _contents(f: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    ing, seg, pl_, ren = f.get("ingest", {}), f.get("segment", {}), f.get("plan", {}), f.get("render", {})
    auc = f", risk model AUC {seg['risk_auc']}" if seg.get("risk_auc") is not None else ""
    return [
        ("clean/", f"{ing.get('rows_clean', 0)} clean rows, {ing.get('rows_rejected', 0)} rejected "
                   "(rejects.csv, report.json)"),
        ("segments/", f"{seg.get('customers', 0)} customers scored{auc}; treatments: "
                      f"{_counts(seg.get('treatments'))}"),
        ("plan/", f"{pl_.get('messages', 0)} messages and {pl_.get('tasks', 0)} tasks for "
                  f"{pl_.get('customers', 0)} customers ({_counts(pl_.get('by_channel'))}), "
                  f"{pl_.get('holdout', 0)} held out, "
                  f"{pl_.get('skipped', 0)} skipped with reasons"),
        ("bundle/", f"{ren.get('rendered', 0)} messages rendered ({_counts(ren.get('by_channel'))}), "
                    f"{ren.get('tasks', 0)} tasks for people, {ren.get('failed', 0)} failed; "
                    "manifest, SHA256SUMS"),
        ("report.html", "offline charts: aging, segments, risk calibration, send volume, cohorts, rejects"),
    ]


def _summary(result: RunResult) -> None:
    console = err_console()
    if result.run_dir is None:
        failed = result.stages[-1]
        console.print(f"[bold red]run stopped:[/] {failed.name} exited {int(failed.exit_code)}; "
                      f"partial output kept in {result.failed_dir}", markup=True)
        return
    figures = {s.name: s.summary for s in result.stages}
    table = RichTable(title=f"billcx run as of {result.as_of}: {result.run_dir}", title_justify="left")
    table.add_column("output")
    table.add_column("what it holds")
    for folder, what in _contents(figures):
        if (result.run_dir / folder.rstrip("/")).exists():
            table.add_row(folder, what)
    console.print(table)
    out_console().print(str(result.run_dir))
