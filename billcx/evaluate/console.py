"""Evaluation and backtest results as rich tables (the CLI prints them on stderr)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from billcx.evaluate.backtest import Backtest, PolicyTotals
from billcx.evaluate.compare import ArmStats, Comparison, Verdict
from billcx.evaluate.result import Evaluation, GroupResult
from billcx.money import exponent, is_currency

_SHORT = {Verdict.TOO_SMALL: "too small", Verdict.NO_CLEAR_DIFFERENCE: "no clear difference",
          Verdict.HIGHER: "treatment higher", Verdict.LOWER: "treatment lower"}
_GROUP_METRICS = ("on_time_rate", "paid_rate", "days_to_pay", "opt_out_rate")


def _value(x: float | None, unit: str, *, signed: bool = False) -> str:
    if x is None:
        return "-"
    sign = "+" if signed and x > 0 else ""
    if unit == "share":
        return f"{sign}{100 * x:.1f}" + (" pts" if signed else "%")
    if unit == "days":
        return f"{sign}{x:.1f}"
    digits = exponent(unit) if is_currency(unit) else 2
    return f"{sign}{x:,.{digits}f}"


def _arm(a: ArmStats, unit: str) -> str:
    return f"{_value(a.estimate, unit)} (n={a.units:,})"


def _difference(c: Comparison) -> str:
    if c.difference is None:
        return "-"
    if c.interval is None:
        return _value(c.difference, c.unit, signed=True)
    # Rich markup: a literal "[" must be escaped.
    bounds = [_value(x, c.unit, signed=True).removesuffix(" pts") for x in (c.interval.low, c.interval.high)]
    return f"{_value(c.difference, c.unit, signed=True)} \\[{bounds[0]}, {bounds[1]}]"


def _overall_table(group: GroupResult, level: str) -> Table:
    table = Table(title=f"treatment minus holdout, all units ({level} intervals)", title_justify="left")
    for name, justify in (("metric", "left"), ("treatment", "right"), ("holdout", "right"),
                          ("difference", "right"), ("verdict", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in group.comparisons:
        table.add_row(escape(c.label), _arm(c.treatment, c.unit),
                      _arm(c.holdout, c.unit), _difference(c), _SHORT[c.verdict])
    return table


def _groups_table(groups: list[GroupResult], dimension: str) -> Table:
    table = Table(title=f"per {dimension}: difference \\[interval] or why not", title_justify="left")
    table.add_column(dimension)
    table.add_column("units T/H", justify="right")
    labels = {"on_time_rate": "on-time", "paid_rate": "paid", "days_to_pay": "days to pay",
              "opt_out_rate": "opt-out"}
    for metric in _GROUP_METRICS:
        table.add_column(labels[metric], justify="right")
    for g in groups:
        cells = []
        for metric in _GROUP_METRICS:
            c = next(x for x in g.comparisons if x.metric == metric)
            cells.append("too small" if c.verdict is Verdict.TOO_SMALL else _difference(c))
        table.add_row(escape(g.group), f"{g.treatment_units:,}/{g.holdout_units:,}", *cells)
    return table


def print_evaluation(ev: Evaluation, console: Console) -> None:
    """Print the conclusion, the overall comparison, per-ladder and per-segment tables, and caveats."""
    o = ev.overall
    console.print(f"billcx evaluate: plan as of {ev.as_of}, outcomes to {ev.window_end} "
                  f"({ev.window_days} days); {o.treatment_units:,} treatment and {o.holdout_units:,} "
                  "holdout units", highlight=False)
    console.print(f"[bold]{escape(ev.conclusion)}[/]", highlight=False)
    if not ev.comparable:
        return
    level = f"{100 * ev.settings.confidence:g}%"
    console.print(_overall_table(o, level))
    for dimension in ("ladder", "segment"):
        groups = [g for g in ev.groups if g.dimension == dimension]
        if groups:
            console.print(_groups_table(groups, dimension))
    for reason, n in ev.excluded:
        console.print(f"excluded: {n:,} units ({escape(reason)})", highlight=False)
    for w in ev.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)


def _paid_anyway(x: PolicyTotals) -> str:
    share = f" ({100 * x.paid_anyway_share:.0f}%)" if x.paid_anyway_share is not None else ""
    return f"{x.customers_paid_anyway:,} of {x.customers_reminded:,}{share}"


def print_backtest(bt: Backtest, console: Console) -> None:
    """Print the per-policy totals, then messages per replay date."""
    span = f"{bt.dates[0]} to {bt.dates[-1]}" if len(bt.dates) > 1 else f"{bt.dates[0]}"
    console.print(f"billcx backtest: {len(bt.dates)} replay dates ({span}, every "
                  f"{bt.settings.every_days} days), {len(bt.policies)} policies", highlight=False)
    table = Table(title="per policy, all replays", title_justify="left")
    table.add_column("")
    for name in bt.policies:
        table.add_column(escape(name), justify="right")

    def row(label: str, values: list[str]) -> None:
        table.add_row(label, *values)

    t = bt.totals
    row("messages sent", [f"{x.messages:,}" for x in t])
    row("customers contacted", [f"{x.customers_contacted:,}" for x in t])
    row("reminders", [f"{x.reminders:,}" for x in t])
    row("unneeded reminders", [f"{x.unneeded_reminders:,}" for x in t])
    row("customers who paid anyway", [_paid_anyway(x) for x in t])
    row("projected days to pay", [_value(x.days_to_pay_projected, "days") for x in t])
    row("days to pay in history", [_value(x.days_to_pay_actual, "days") for x in t])
    console.print(table)
    console.print(f"projection: reminders pull a payment forward to {bt.response.days:g} days after the "
                  f"first reminder ({escape(bt.response.source)}); {t[0].invoices_measured:,} invoices open "
                  "on a replay date and paid later", highlight=False)
    for w in bt.warnings[:10]:
        console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    if len(bt.warnings) > 10:
        console.print(f"[yellow]warning:[/] and {len(bt.warnings) - 10} more (see --report-format json)",
                      highlight=False)
