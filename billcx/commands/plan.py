"""``billcx plan`` and ``billcx policy init|check``: a thin adapter over :mod:`billcx.plan`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from billcx.atomic import write_text
from billcx.commands.common import (
    AsOfOpt,
    OutDirOpt,
    ReportFormat,
    ReportFormatOpt,
    TableFormatOpt,
    app_context,
    err_console,
    parse_date,
    parse_shard,
    print_json,
    progress_callback,
)
from billcx.errors import UsageError
from billcx.export import Format
from billcx.plan import (
    PlanResult,
    default_policy,
    default_policy_text,
    lint_policy,
    load_policy,
    plan,
    read_holds,
    read_sent,
    write_plan,
)
from billcx.schema import INVOICE_RISK, SEGMENTS
from billcx.store import CleanData, read, scan

PLAN_HELP = """Plan every reminder from the clean exports and segments: a dated, explained schedule.

Writes schedule.parquet (+ --format copy), skipped.parquet (what was not planned and why) and
plan_report.json into --out; a summary goes to stderr.  Without --policy the built-in default
policy is used (`billcx policy init` writes it out for editing).

[bold]Examples[/]

  billcx plan clean --segments seg --as-of 2025-07-01 --out plan
  billcx plan clean --segments seg --as-of 2025-07-01 --out today --for-date 2025-07-01 --sent sent.csv
  billcx plan clean --segments seg --out plan --policy policy.toml --holds holds.csv --horizon 60
  billcx plan clean --segments seg --as-of 2025-07-01 --shard 0/4 --out shards/0/plan

Sharded runs: --shard I/N plans only the customers of shard I; the union of the N shards' outputs
is the unsharded plan. A sharded plan needs --as-of explicitly (every shard must plan the same day).
Population-level figures (the segments' send-time priors, the stale-data guard) are learned from
the whole clean folder, so give every shard the whole CLEAN_DIR and the segments of every customer.
"""

POLICY_HELP = "Write or check a reminder policy file (TOML)."


def register(app: typer.Typer) -> None:
    """Add ``plan`` and the ``policy`` command group to ``app``."""

    @app.command("plan", help=PLAN_HELP)
    def plan_cmd(
        ctx: typer.Context,
        clean_dir: Annotated[
            Path, typer.Argument(help="Folder `billcx ingest` wrote.", exists=True, file_okay=False)
        ],
        segments: Annotated[
            Path,
            typer.Option("--segments", help="Folder `billcx segment` wrote.", exists=True, file_okay=False),
        ],
        out: OutDirOpt,
        as_of: AsOfOpt = None,
        policy: Annotated[
            Path | None,
            typer.Option("--policy", help="Policy TOML (default: built-in).", exists=True, dir_okay=False),
        ] = None,
        holds: Annotated[
            Path | None,
            typer.Option(
                "--holds", help="Holds CSV: invoice_id or customer_id, until, reason.", dir_okay=False
            ),
        ] = None,
        sent: Annotated[
            Path | None,
            typer.Option(
                "--sent",
                help="Sent log (CSV or Parquet): what a sender "
                "confirmed; enables catch-up and cross-run caps.",
                dir_okay=False,
            ),
        ] = None,
        horizon: Annotated[
            int | None, typer.Option("--horizon", min=1, help="Days to plan ahead (default 30).")
        ] = None,
        for_date: Annotated[
            str | None,
            typer.Option("--for-date", help="Only this local day's sends (YYYY-MM-DD), for a daily cron."),
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Plan even when payments look stale.")] = False,
        shard: Annotated[
            str | None,
            typer.Option(
                "--shard",
                help="Plan only shard I of N (e.g. 0/4); needs --as-of. Priors are learned from the "
                "whole clean folder.",
            ),
        ] = None,
        fmt: TableFormatOpt = Format.CSV,
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        if horizon is not None and for_date is not None:
            raise UsageError(
                "--horizon and --for-date cannot be combined",
                hint="--for-date plans up to that day and keeps only its sends",
            )
        part = parse_shard(shard)
        if part is not None and as_of is None:
            raise UsageError(
                "--shard needs --as-of: every shard must plan the same day",
                hint="pass the same --as-of YYYY-MM-DD to every shard",
            )
        data = CleanData.load(clean_dir)
        day = parse_date(as_of) or data.latest_date()
        with progress_callback(ctx) as on_progress:
            result = plan(
                data,
                read(segments, SEGMENTS),
                as_of=day,
                policy=load_policy(policy) if policy else default_policy(),
                holds=read_holds(holds) if holds else None,
                sent=read_sent(sent) if sent else None,
                invoice_risk=_invoice_risk(segments),
                horizon_days=horizon or 30,
                for_date=parse_date(for_date, option="--for-date"),
                force=force,
                shard=part,
                on_progress=on_progress,
            )
        paths = write_plan(result, out, fmt=fmt)
        if report_format is ReportFormat.JSON:
            print_json({**result.to_report(), "out": str(out), "files": [p.name for p in paths]})
        elif not app_context(ctx).quiet:
            _summary(result, out)

    policy_app = typer.Typer(name="policy", help=POLICY_HELP, no_args_is_help=True, add_completion=False)

    @policy_app.command(
        "init",
        help="Write the built-in default policy (commented TOML) for editing.\n\n"
        "[bold]Example[/]: billcx policy init policy.toml",
    )
    def policy_init(
        path: Annotated[Path, typer.Argument(help="File to write.", dir_okay=False)],
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    ) -> None:
        if path.exists() and not force:
            raise UsageError(f"{path}: already exists", hint="pass --force to overwrite it")
        write_text(path, default_policy_text())
        err_console().print(f"wrote {path}; check edits with `billcx policy check {path}`")

    @policy_app.command(
        "check",
        help="Lint a policy file: exit 0 when usable (warnings allowed), 2 on "
        "errors.\n\n[bold]Example[/]: billcx policy check policy.toml",
    )
    def policy_check(
        path: Annotated[Path, typer.Argument(help="Policy TOML to check.", exists=True, dir_okay=False)],
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        findings = lint_policy(load_policy(path))
        errors = sum(f.severity == "error" for f in findings)
        if report_format is ReportFormat.JSON:
            print_json(
                {
                    "file": str(path),
                    "errors": errors,
                    "warnings": len(findings) - errors,
                    "findings": [
                        {"severity": f.severity, "path": f.path, "message": f.message} for f in findings
                    ],
                }
            )
        else:
            # One finding per line, never wrapped: editors and CI parse "file: key: severity: message".
            for f in findings:
                typer.echo(f"{path}: {f.path}: {f.severity}: {f.message}")
            typer.echo(f"{path}: {errors} error(s), {len(findings) - errors} warning(s)")
        if errors:
            raise typer.Exit(2)

    app.add_typer(policy_app)


def _invoice_risk(segments: Path) -> Any:
    lf = scan(segments, INVOICE_RISK, optional=True)
    return lf.collect() if lf is not None else None


def _summary(result: PlanResult, out: Path) -> None:
    s = result.summary
    console = err_console()
    span = f"{s.for_date}" if s.for_date else f"{s.window_start} to {s.window_end}"
    where = f" (shard {s.shard})" if s.shard else ""
    console.print(
        f"billcx plan{where}: {s.messages:,} messages, {s.tasks:,} tasks, {s.holdout:,} holdout rows for "
        f"{s.customers:,} customers ({s.open_invoices:,} open invoices), {span} -> {out}"
    )
    if s.by_day:
        channels = sorted({c for _, c, _, _ in s.by_day})
        table = RichTable(title="per day and channel", title_justify="left")
        table.add_column("day")
        for c in channels:
            table.add_column(c, justify="right")
        days: dict[str, dict[str, int]] = {}
        kinds: dict[str, int] = {}
        for d, c, k, n in s.by_day:
            days.setdefault(d.isoformat(), {}).setdefault(c, 0)
            days[d.isoformat()][c] += n
            kinds[k] = kinds.get(k, 0) + n
        for day, row in days.items():
            table.add_row(day, *[f"{row.get(c, 0):,}" for c in channels])
        console.print(table)
        console.print("by kind: " + ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())))
    if s.skipped_by_code:
        console.print("skipped: " + ", ".join(f"{c} {n:,}" for c, n in s.skipped_by_code))
    for w in s.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", markup=True)
