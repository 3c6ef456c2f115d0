"""Options, consoles and helpers shared by every command (declared once)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from billcx.errors import UsageError
from billcx.export import Format
from billcx.shard import Shard

# Tests and pipes get a fixed width; a terminal gets its own.
_WIDTH = None if sys.stderr.isatty() else 100


@dataclass
class AppContext:
    """Global options, available to commands as ``ctx.obj``."""

    debug: bool = False
    quiet: bool = False
    log_json: bool = False


def err_console() -> Console:
    """Console on stderr for messages, summaries and progress (built per call: tests swap stderr)."""
    return Console(file=sys.stderr, width=_WIDTH or None, soft_wrap=False, highlight=False)


def out_console() -> Console:
    """Console on stdout for results."""
    return Console(file=sys.stdout, width=_WIDTH or None, soft_wrap=False, highlight=False)


def app_context(ctx: typer.Context) -> AppContext:
    """The global options of the running invocation."""
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, AppContext) else AppContext()


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"level": record.levelname.lower(), "logger": record.name,
                           "message": record.getMessage()}, ensure_ascii=False)


def configure_logging(*, level: int, json_lines: bool) -> None:
    """Configure the ``billcx`` logger (only the CLI does this; the library only logs)."""
    logger = logging.getLogger("billcx")
    for h in list(logger.handlers):
        logger.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def parse_date(value: str | None, *, option: str = "--as-of") -> dt.date | None:
    """Parse an ISO date given on the command line; a bad one is a usage error naming the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: expected a date as YYYY-MM-DD, found {value!r}") from None


def parse_shard(value: str | None) -> Shard | None:
    """Parse ``I/N``."""
    if value is None:
        return None
    try:
        i, n = (int(p) for p in value.split("/"))
    except ValueError:
        raise UsageError(f"--shard: expected I/N such as 0/4, found {value!r}") from None
    if n < 1 or not 0 <= i < n:
        raise UsageError(f"--shard: need 0 <= I < N, found {value!r}")
    return Shard(i, n)


class ReportFormat(StrEnum):
    """How a command prints its report."""

    TEXT = "text"
    JSON = "json"


AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Date the run is as of (YYYY-MM-DD); "
                                             "defaults to the latest date in the data.")]
OutDirOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder (created if missing).",
                                         file_okay=False)]
TableFormatOpt = Annotated[Format, typer.Option("--format", "-f",
                                                help="Format of the output tables besides Parquet.")]
ReportFormatOpt = Annotated[ReportFormat, typer.Option(
    "--report-format", help="text: summary on stderr; json: report on stdout.")]
ShardOpt = Annotated[str | None, typer.Option("--shard", help="Process only shard I of N (e.g. 0/4).")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="billcx.toml with defaults.",
                                                exists=True, dir_okay=False)]


def print_json(data: Any) -> None:
    """A machine-readable report on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


ProgressCallback = Callable[[str, int, int], None]


@contextmanager
def progress_callback(ctx: typer.Context) -> Iterator[ProgressCallback | None]:
    """A rich progress bar as an ``on_progress(task, done, total)`` callback.

    None (silent) with ``--quiet``, when stderr is not a terminal, or under ``CI``.
    """
    if app_context(ctx).quiet or not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                        TimeElapsedColumn(), console=err_console(), transient=True)
    tasks: dict[str, Any] = {}

    def update(task: str, done: int, total: int) -> None:
        if task not in tasks:
            tasks[task] = progress.add_task(task, total=total)
        progress.update(tasks[task], completed=done, total=total)

    with progress:
        yield update
