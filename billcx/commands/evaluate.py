"""``billcx evaluate`` and ``billcx backtest``: thin adapters over :mod:`billcx.evaluate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from billcx.commands.common import (
    ReportFormat,
    ReportFormatOpt,
    app_context,
    err_console,
    parse_date,
    print_json,
    progress_callback,
)
from billcx.errors import UsageError
from billcx.evaluate import (
    BacktestSettings,
    EvaluateSettings,
    backtest,
    default_replay_window,
    evaluate,
    load_plan_run,
)
from billcx.evaluate.console import print_backtest, print_evaluation
from billcx.plan import load_policy
from billcx.store import CleanData

EVALUATE_HELP = (
    "Measure what reminders achieved: treatment against holdout, from a later export.\n\n"
    "Reads RUN_DIR/plan/schedule.parquet (holdout rows are planned but never sent) and, for the "
    "per-segment view, RUN_DIR/segments; outcomes come from a clean folder ingested later. Compares on-time "
    "payment rate, payment within the window, days to pay, opt-outs and money recovered per message, "
    "overall, per ladder and per treatment segment, with confidence intervals, and says plainly when the "
    "sample is too small to conclude. Exit 1 when an arm has no measured units (see docs/evaluate.md).\n\n"
    "Example: billcx evaluate out/2026-08-31 --outcomes out/2026-10-31/clean"
)

BACKTEST_HELP = (
    "Replay history to compare reminder policies, using only what was known on each date.\n\n"
    "At each replay date (--from, then every --every days, up to --to) the clean tables are cut back to that "
    "date, segmented and planned with each policy; the schedules are then judged against what actually "
    "happened: messages sent, customers contacted who would have paid anyway, and projected days to pay. "
    "By default --to is --every days before the end of the history and --from three steps earlier "
    "(see docs/evaluate.md).\n\n"
    "Example: billcx backtest clean --policy gentle.toml --policy firm.toml --from 2026-03-01 --every 14"
)


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` and ``backtest`` commands to ``app``."""

    @app.command("evaluate", help=EVALUATE_HELP)
    def evaluate_command(
        ctx: typer.Context,
        run_dir: Annotated[Path, typer.Argument(help="Run folder with plan/schedule.parquet.")],
        outcomes: Annotated[Path, typer.Option("--outcomes", help="Clean folder ingested after the run.",
                                               file_okay=False)],
        as_of: Annotated[str | None, typer.Option("--as-of", help="The plan's as-of date (default: from "
                                                  "run.json or plan/plan_report.json).")] = None,
        window: Annotated[int | None, typer.Option(
            "--window-days", min=1,
            help="Days after the as-of date whose outcomes count (default: to the outcomes' end).")] = None,
        min_per_arm: Annotated[int, typer.Option("--min-per-arm", min=2, help="Units needed in each arm "
                                                 "to conclude.")] = 30,
        confidence: Annotated[float, typer.Option("--confidence", help="Interval level.")] = 0.95,
        grace: Annotated[int, typer.Option("--grace-days", min=0, help="Days after due still on time.")] = 0,
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        run = load_plan_run(run_dir)
        day = parse_date(as_of) or run.as_of
        if day is None:
            raise UsageError(f"{run_dir}: no run.json or plan/plan_report.json records the as-of date",
                             hint="pass --as-of YYYY-MM-DD (the date the plan was made on)")
        settings = EvaluateSettings(confidence=confidence, min_per_arm=min_per_arm, grace_days=grace,
                                    window_days=window)
        result = evaluate(run.schedule, CleanData.load(outcomes), as_of=day, segments=run.segments,
                          settings=settings)
        if report_format is ReportFormat.JSON:
            print_json(result.to_dict())
        elif not app_context(ctx).quiet:
            print_evaluation(result, err_console())
        raise typer.Exit(int(result.exit_code))

    @app.command("backtest", help=BACKTEST_HELP)
    def backtest_command(
        ctx: typer.Context,
        clean_dir: Annotated[Path, typer.Argument(help="Clean folder with the whole history.")],
        policy: Annotated[list[Path], typer.Option("--policy", help="Policy TOML; repeat to compare "
                                                   "(named by file stem).", dir_okay=False)],
        start: Annotated[str | None, typer.Option("--from", help="First replay date (YYYY-MM-DD).")] = None,
        end: Annotated[str | None, typer.Option("--to", help="Last replay date (YYYY-MM-DD).")] = None,
        every: Annotated[int, typer.Option("--every", min=1, help="Days between replay dates.")] = 30,
        response_days: Annotated[float | None, typer.Option("--response-days", min=0, help="Days from a "
                                                            "reminder to payment (default: estimated from "
                                                            "events).")] = None,
        report_format: ReportFormatOpt = ReportFormat.TEXT,
    ) -> None:
        stems = [p.stem for p in policy]
        names = stems if len(set(stems)) == len(stems) else [str(p) for p in policy]
        policies = [(name, load_policy(p)) for name, p in zip(names, policy, strict=True)]
        data = CleanData.load(clean_dir)
        settings = BacktestSettings(every_days=every, response_days=response_days)
        first, last = default_replay_window(data.latest_date(), every)
        with progress_callback(ctx) as on_progress:
            result = backtest(data, policies, start=parse_date(start, option="--from") or first,
                              end=parse_date(end, option="--to") or last, settings=settings,
                              on_progress=on_progress)
        if report_format is ReportFormat.JSON:
            print_json(result.to_dict())
        elif not app_context(ctx).quiet:
            print_backtest(result, err_console())
        raise typer.Exit(int(result.exit_code))
