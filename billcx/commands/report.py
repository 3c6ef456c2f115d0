"""``billcx report``: a run folder into a self-contained HTML report and a terminal summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from billcx.commands.common import ReportFormat, ReportFormatOpt, app_context, err_console, print_json
from billcx.privacy import read_key
from billcx.report import REPORT_FILE, build_report, print_summary, write_report

HELP = (
    "Write a self-contained HTML report of a run folder: aging and overdue balance, segment sizes and "
    "value, risk calibration, schedule volume by day and channel, cohorts, rejects; a summary prints on "
    "stderr.\n\n"
    "The page works offline (plotly.js embedded once) and is byte-identical for the same run. It shows "
    "customer ids and aggregates only; --pseudonymize KEYFILE replaces the ids by keyed pseudonyms so the "
    "report can be shared. Stages missing from the run are reported as not available.\n\n"
    "Example: billcx report out/2026-10-31 --out report.html --pseudonymize key.txt"
)

RunDirArg = Annotated[Path, typer.Argument(help="Run folder (clean/, segments/, plan/, bundle/, run.json).")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False,
                                             help=f"HTML file to write (default: RUN_DIR/{REPORT_FILE}).")]
KeyOpt = Annotated[Path | None, typer.Option("--pseudonymize", dir_okay=False,
                                             help="Key file: replace customer ids by keyed pseudonyms.")]


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""

    @app.command("report", help=HELP)
    def report_command(
        ctx: typer.Context,
        run_dir: RunDirArg,
        out: OutOpt = None,
        pseudonymize: KeyOpt = None,
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        key = read_key(pseudonymize) if pseudonymize is not None else None
        report = build_report(run_dir, key=key)
        path = write_report(report, out if out is not None else run_dir / REPORT_FILE)
        if report_format is ReportFormat.JSON:
            print_json({**report.summary.to_dict(), "out": str(path)})
        elif not app_context(ctx).quiet:
            print_summary(report.summary, err_console(), written=path)
        raise typer.Exit(int(report.exit_code))
