"""The ``billcx`` command line: a thin adapter over the library.

Each command lives in ``billcx/commands/<name>.py`` and registers itself on :data:`app`.  A command
parses options, calls one library function, renders its result and exits with a code derived from
it.  Expected failures (:class:`billcx.errors.BillcxError`) print one line and a hint on stderr;
unexpected ones print a traceback only with ``--debug`` (never with local variables: they may hold
customer data).
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from billcx import __version__
from billcx.commands.common import AppContext, configure_logging, err_console
from billcx.errors import BillcxError
from billcx.exitcodes import ExitCode

# Command modules, in the order `billcx --help` lists them.
COMMAND_MODULES = ("sample", "ingest", "segment", "plan", "render", "run", "report", "evaluate",
                   "project")


class BillcxGroup(TyperGroup):
    """Maps exceptions to documented exit codes for every command."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except BillcxError as exc:
            # soft_wrap: an error line is never broken, so it can be grepped and pasted whole.
            err_console().print(f"[bold red]error:[/] {escape(exc.message)}", markup=True, highlight=False,
                                soft_wrap=True)
            if exc.hint:
                err_console().print(f"[dim]hint:[/] {escape(exc.hint)}", markup=True, highlight=False,
                                    soft_wrap=True)
            raise typer.Exit(int(exc.exit_code)) from None
        except BrokenPipeError:
            # The reader of our output went away (`billcx ... | head`): not an error of ours.
            sys.stderr.close()
            raise typer.Exit(int(ExitCode.OK)) from None
        except KeyboardInterrupt:
            err_console().print("interrupted", highlight=False)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if type(exc).__module__.startswith("typer"):  # Exit, Abort, usage errors: typer's own
                raise
            obj = ctx.obj if isinstance(ctx.obj, AppContext) else None
            if obj is not None and obj.debug:
                import traceback

                traceback.print_exception(exc, file=sys.stderr)  # no locals, by construction
            else:
                err_console().print(
                    f"[bold red]internal error:[/] {type(exc).__name__} (a bug in billcx)",
                    markup=True, highlight=False)
                err_console().print("[dim]hint:[/] rerun with --debug to see the traceback and report it",
                                    markup=True, highlight=False)
            raise typer.Exit(int(ExitCode.INTERNAL)) from None


app = typer.Typer(
    name="billcx",
    cls=BillcxGroup,
    help="Turn billing exports into personalised, well-timed payment reminders.\n\n"
    "Stages: ingest -> segment -> plan -> render, or all at once with `billcx run`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"billcx {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for internal errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summaries.")] = False,
    log_json: Annotated[bool, typer.Option("--log-json", help="Log as JSON lines on stderr.")] = False,
) -> None:
    """Global options (put them before the command name)."""
    ctx.obj = AppContext(debug=debug, quiet=quiet, log_json=log_json)
    configure_logging(level=logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO,
                      json_lines=log_json)


for _name in COMMAND_MODULES:
    importlib.import_module(f"billcx.commands.{_name}").register(app)


def main() -> None:
    """Console entry point."""
    app()
