"""The report's summary in the terminal (rich, on stderr)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from billcx.report.build import ReportSummary


def print_summary(summary: ReportSummary, console: Console, *, written: Path | None = None) -> None:
    """Print headline numbers, then each section with its facts or why it is not available.

    Args:
        summary: the report summary.
        console: where to print (the CLI passes a stderr console).
        written: the HTML file written, if any.
    """
    title = f"billcx report: {summary.run_name}" + (f" as of {summary.as_of}" if summary.as_of else "")
    console.print(f"[bold]{escape(title)}[/]", highlight=False)
    table = Table(show_header=False)
    table.add_column("figure", style="bold")
    table.add_column("value")
    for label, value in summary.headlines:
        table.add_row(escape(label), escape(value))
    console.print(table)
    for s in summary.sections:
        mark = "[green]ok[/]" if s.available else "[yellow]--[/]"
        facts = ", ".join(f"{escape(k)} {escape(v)}" for k, v in s.facts)
        console.print(f"{mark} {escape(s.title)}" + (f": {facts}" if facts else ""), highlight=False)
        if not s.available:
            for note in s.notes:
                console.print(f"   {escape(note)}", highlight=False)
    for problem in summary.problems:
        console.print(f"[bold red]unusable file:[/] {escape(problem)}", highlight=False)
    if written is not None:
        console.print(f"wrote {escape(str(written))}", highlight=False)
