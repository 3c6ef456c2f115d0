"""Cohorts: customers grouped by the month of their first invoice, followed month by month."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from billcx.report.loading import RunData
from billcx.report.sections import Section, count_text, style, unavailable

KEY = "cohorts"
TITLE = "Cohorts"
INTRO = ("Rows are cohorts (month of a customer's first invoice), columns months since then. "
         "Retention is the share of the cohort invoiced in that month; the on-time rate is the share of "
         "that month's invoices with a known outcome that were paid on time.")
MAX_COHORTS = 36


def _heatmap(cohorts: pl.DataFrame, value: str, title: str, colorscale: str) -> go.Figure:
    names = sorted(cohorts["cohort"].unique().to_list())
    months = list(range(int(cohorts.select(pl.col("months_since").max()).item()) + 1))
    cells = {(c, m): v for c, m, v in cohorts.select("cohort", "months_since", value).iter_rows()}
    sizes = dict(cohorts.select("cohort", "customers").unique(subset="cohort", keep="first").iter_rows())
    z = [[None if cells.get((c, m)) is None else round(100 * float(cells[(c, m)]), 1) for m in months]
         for c in names]
    fig = go.Figure(go.Heatmap(
        z=z, x=months, y=[f"{c} ({sizes.get(c, 0):,})" for c in names], colorscale=colorscale,
        zmin=0, zmax=100,
        colorbar={"title": {"text": "%"}}, hoverongaps=False,
        hovertemplate="cohort %{y}, month %{x}: %{z:.1f}%<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    return style(fig, title=title, height=max(320, 60 + 18 * len(names)),
                 x_title="months since first invoice", y_title="cohort (customers)")


def cohorts_section(run: RunData) -> Section:
    """Retention and on-time-rate heatmaps of the cohort table."""
    cohorts = run.cohorts
    if cohorts is None:
        return unavailable(KEY, TITLE, INTRO, "segments/cohorts.parquet is absent (segment stage not run)")
    if cohorts.is_empty():
        return unavailable(KEY, TITLE, INTRO, "the cohort table is empty (no invoices before the as-of date)")
    notes: list[str] = []
    names = sorted(cohorts["cohort"].unique().to_list())
    if len(names) > MAX_COHORTS:
        keep = names[-MAX_COHORTS:]
        cohorts = cohorts.filter(pl.col("cohort").is_in(keep))
        notes.append(f"Showing the latest {MAX_COHORTS} of {len(names)} cohorts.")
    figures = (_heatmap(cohorts, "retention", "Retention (% of the cohort invoiced)", "Blues"),
               _heatmap(cohorts, "on_time_rate", "On-time rate (% of resolved invoices paid on time)",
                        "RdYlGn"))
    facts = (("cohorts", count_text(len(names))),)
    return Section(key=KEY, title=TITLE, intro=INTRO, figures=figures, notes=tuple(notes), facts=facts)
