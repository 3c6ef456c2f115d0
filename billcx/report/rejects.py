"""Rejects: what ingest could not accept, by reject code (never the rejected values themselves)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from billcx.report.loading import RunData
from billcx.report.sections import Section, TableBlock, count_text, style, unavailable

KEY = "rejects"
TITLE = "Rejects"
INTRO = ("Cells and rows ingest could not accept, by reject code (see the README's reject-code table). "
         "Only counts are shown: rejected values can hold personal data and stay in clean/rejects.csv.")
_SEVERITY_COLORS = {"rejected": "#e45756", "nulled": "#f58518", "replaced": "#4c78a8", "collapsed": "#9d755d"}


def _severities() -> dict[str, str]:
    """Severity per reject code, when ingest's code table is importable (colours only)."""
    try:
        from billcx.ingest.codes import CODES
    except ImportError:  # ingest not installed in this build: every bar gets one colour
        return {}
    return {c.name: str(c.severity) for c in CODES}


def rejects_section(run: RunData) -> Section:
    """Reject counts by code, and by table and column."""
    rejects = run.rejects
    if rejects is None:
        return unavailable(KEY, TITLE, INTRO, "clean/rejects.csv is absent (ingest stage not run)")
    if rejects.is_empty():
        return Section(key=KEY, title=TITLE, intro=INTRO,
                       notes=("No rejects: every input row was accepted.",), facts=(("rejects", "0"),))
    severity = _severities()
    by_code = sorted(rejects.group_by("code").len().iter_rows(), key=lambda r: (-r[1], str(r[0])))
    codes = [str(c) for c, _ in by_code]
    fig = go.Figure(go.Bar(
        x=[int(n) for _, n in by_code], y=codes, orientation="h",
        marker_color=[_SEVERITY_COLORS.get(severity.get(c, ""), "#888888") for c in codes],
        text=[severity.get(c, "") for c in codes], hovertemplate="%{y}: %{x:,} (%{text})<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig = style(fig, title="Rejects by code", height=max(300, 80 + 26 * len(codes)), x_title="rejects")
    where = (rejects.with_columns(pl.col("column").fill_null(""))
             .group_by("table", "column", "code").len()
             .sort(["len", "table", "column", "code"], descending=[True, False, False, False]))
    table = TableBlock(caption="By table, column and code",
                       header=("table", "column", "code", "severity", "rejects"),
                       rows=tuple((str(t), c or "(whole row)", str(k), severity.get(str(k), "-"),
                                   count_text(int(n))) for t, c, k, n in where.iter_rows()),
                       numeric=frozenset({4}))
    return Section(key=KEY, title=TITLE, intro=INTRO, figures=(fig,), tables=(table,),
                   facts=(("rejects", count_text(rejects.height)), ("most frequent reject", codes[0])))
