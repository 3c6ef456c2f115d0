"""``billcx init``: scaffold a working project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from billcx.commands.common import app_context, err_console
from billcx.scaffold import init_project

HELP = (
    "Create a working project in DIR: billcx.toml (every setting with its default and a comment), "
    "policy.toml, templates/, example exports/ and cron.example.\n\n"
    "Example: billcx init acme && cd acme && billcx run"
)


def register(app: typer.Typer) -> None:
    """Add ``init`` to ``app``."""

    @app.command("init", help=HELP)
    def init_command(
        ctx: typer.Context,
        folder: Annotated[Path, typer.Argument(help="Project folder (created if missing).",
                                               file_okay=False)],
        sample_customers: Annotated[int, typer.Option(
            "--sample-customers", min=0, help="Customers in the example exports (0: none).")] = 200,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing billcx.toml.")] = False,
    ) -> None:
        result = init_project(folder, sample_customers=sample_customers, force=force)
        if not app_context(ctx).quiet:
            err_console().print(f"created {len(result.files)} files in {result.root}; next: "
                                f"cd {result.root} && billcx run")
