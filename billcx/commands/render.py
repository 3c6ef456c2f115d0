"""``billcx render``, ``billcx preview`` and ``billcx templates init|lint``: thin adapters."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from billcx.commands.common import (
    ReportFormat,
    ReportFormatOpt,
    app_context,
    err_console,
    out_console,
    print_json,
    progress_callback,
)
from billcx.config import from_mapping, read_toml
from billcx.errors import ConfigError
from billcx.exitcodes import ExitCode
from billcx.render import (
    RenderResult,
    RenderSettings,
    init_templates,
    lint_templates,
    preview,
    render,
    write_bundle,
)
from billcx.schema import SCHEDULE
from billcx.store import CleanData, read

RENDER_HELP = (
    "Render every planned message into a send bundle any sender can pick up.\n\n"
    "Writes manifest.jsonl and manifest.csv (one row per message), email/<key>.eml (RFC 5322), sms.csv, "
    "letters/<key>.pdf, push.csv, tasks.csv, failures.csv and SHA256SUMS into the --out folder, replacing "
    "it atomically. Holdout rows are counted, never rendered. Exit code 1 when any message failed (the "
    "bundle is still written; failures.csv says why). See docs/render.md.\n\n"
    "[bold]Example[/]: billcx render out/plan --data out/clean --out out/bundle --settings billcx.toml"
)
PREVIEW_HELP = """Show one customer's planned messages as they will read them (nothing is written).

[bold]Example[/]: billcx preview out/plan --data out/clean --customer C-000042
"""
INIT_HELP = """Copy the default template pack (en, es, fr, de) into DIR for editing.

[bold]Example[/]: billcx templates init my_templates && billcx templates lint my_templates
"""
LINT_HELP = (
    "Check a template pack against sample messages in every channel and tone.\n\n"
    "Reports syntax errors, unknown variables, SMS over the segment budget, missing opt-out lines and "
    "HTML with unbalanced tags. Exit code 1 when any error is found.\n\n"
    "[bold]Example[/]: billcx templates lint my_templates --settings billcx.toml"
)

ScheduleArg = Annotated[Path, typer.Argument(help="Folder the plan wrote (schedule.parquet).", exists=True,
                                             file_okay=False)]
DataOpt = Annotated[Path, typer.Option("--data", "-d", help="Folder ingest wrote (the clean tables).",
                                       exists=True, file_okay=False)]
TemplatesOpt = Annotated[Path | None, typer.Option("--templates", "-t", help="Template pack folder "
                                                   "(default: the built-in pack).", exists=True,
                                                   file_okay=False)]
SettingsOpt = Annotated[Path | None, typer.Option("--settings", "--config", "-c", help="TOML with render "
                                                  "settings (a \\[render] table or top-level keys).",
                                                  exists=True, dir_okay=False)]


def load_settings(path: Path | None) -> RenderSettings:
    """RenderSettings from a TOML file's ``[render]`` table (or its top level); defaults without one.

    Raises:
        ConfigError: unknown keys, wrong types or invalid values, naming the file and setting.
    """
    if path is None:
        return RenderSettings()
    data = read_toml(path)
    table = data.get("render", data) if isinstance(data.get("render"), dict) else data
    try:
        settings = from_mapping(RenderSettings, table, where="render")
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}", hint=exc.hint) from None
    if settings.letter_font is not None and not settings.letter_font.is_absolute():
        settings = dataclasses.replace(settings, letter_font=path.parent / settings.letter_font)
    return settings


def _summary(result: RenderResult, out: Path) -> None:
    c = result.counts
    table = RichTable(title=f"billcx render -> {out}", title_justify="left")
    table.add_column("messages")
    table.add_column("count", justify="right")
    for channel, n in sorted(c.by_channel.items()):
        table.add_row(channel, f"{n:,}")
    table.add_row("tasks", f"{c.tasks:,}")
    table.add_row("holdout (not rendered)", f"{c.holdout:,}")
    table.add_row("failed", f"{c.failed:,}", style="red" if c.failed else None)
    table.add_row("SMS segments", f"{c.sms_segments:,}")
    if c.sms_over_budget:
        table.add_row("SMS over the segment budget", f"{c.sms_over_budget:,}", style="yellow")
    if c.template_fallbacks:
        table.add_row("template id missing, kind's used", f"{c.template_fallbacks:,}", style="yellow")
    err_console().print(table)
    for f in result.failures.head(10).iter_rows(named=True):
        err_console().print(f"[red]failed[/] {f['message_key']} ({f['template']}): {f['code']}: {f['error']}",
                            markup=True, highlight=False)
    if c.failed > 10:
        err_console().print(f"... and {c.failed - 10} more in {out / 'failures.csv'}")


def register(app: typer.Typer) -> None:
    """Add ``render``, ``preview`` and ``templates`` to ``app``."""

    @app.command("render", help=RENDER_HELP)
    def render_cmd(
        ctx: typer.Context,
        schedule_dir: ScheduleArg,
        data: DataOpt,
        out: Annotated[Path, typer.Option("--out", "-o", help="Bundle folder (replaced as a whole).",
                                          file_okay=False)],
        templates: TemplatesOpt = None,
        settings_file: SettingsOpt = None,
        workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Processes to render with.")] = 1,
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        settings = load_settings(settings_file)
        schedule = read(schedule_dir, SCHEDULE)
        with progress_callback(ctx) as on_progress:
            result = render(schedule, CleanData.load(data), settings=settings, templates=templates,
                            on_progress=on_progress, workers=workers)
        write_bundle(result, out)
        if report_format is ReportFormat.JSON:
            print_json({**result.report(), "bundle": str(out)})
        elif not app_context(ctx).quiet:
            _summary(result, out)
        raise typer.Exit(int(result.exit_code))

    @app.command("preview", help=PREVIEW_HELP)
    def preview_cmd(
        schedule_dir: ScheduleArg,
        data: DataOpt,
        customer: Annotated[str, typer.Option("--customer", help="Customer id to show.")],
        templates: TemplatesOpt = None,
        settings_file: SettingsOpt = None,
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        messages = preview(read(schedule_dir, SCHEDULE), CleanData.load(data), customer,
                           settings=load_settings(settings_file), templates=templates)
        if report_format is ReportFormat.JSON:
            print_json([dataclasses.asdict(m) for m in messages])
        else:
            console = out_console()
            for m in messages:
                status = " [red]FAILED[/]" if m.failed else ""
                console.rule(f"{m.send_at_local}  {m.channel}  {m.kind}  ({m.template}){status}",
                             align="left")
                if m.subject:
                    console.print(f"[bold]{m.subject}[/]", markup=True, highlight=False)
                console.print(m.text, markup=False, highlight=False, soft_wrap=True)
        failed = any(m.failed for m in messages)
        raise typer.Exit(int(ExitCode.DATA if failed else ExitCode.OK))

    templates_app = typer.Typer(help="Create and check template packs.", no_args_is_help=True)
    app.add_typer(templates_app, name="templates")

    @templates_app.command("init", help=INIT_HELP)
    def init_cmd(
        folder: Annotated[Path, typer.Argument(help="Folder to create.", file_okay=False)],
        force: Annotated[bool, typer.Option("--force", help="Overwrite files in a non-empty "
                                            "folder.")] = False,
    ) -> None:
        written = init_templates(folder, force=force)
        err_console().print(f"wrote {len(written)} templates to {folder}", highlight=False)

    @templates_app.command("lint", help=LINT_HELP)
    def lint_cmd(
        folder: Annotated[Path | None, typer.Argument(help="Template pack (default: the built-in pack).",
                                                      file_okay=False)] = None,
        settings_file: SettingsOpt = None,
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        findings = lint_templates(folder, settings=load_settings(settings_file))
        errors = sum(f.severity == "error" for f in findings)
        if report_format is ReportFormat.JSON:
            print_json({"errors": errors, "warnings": len(findings) - errors,
                        "findings": [dataclasses.asdict(f) for f in findings]})
        else:
            for f in findings:
                where = f"{f.template}:{f.line}" if f.line else f.template
                typer.echo(f"{where}: {f.severity} {f.code}: {f.message}")
            err_console().print(f"{errors} error(s), {len(findings) - errors} warning(s)", highlight=False)
        raise typer.Exit(int(ExitCode.DATA if errors else ExitCode.OK))
