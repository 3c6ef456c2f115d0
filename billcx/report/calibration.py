"""Risk calibration: does a predicted 30% late mean 30% of such invoices were late?

Read from ``segments/model_report.json`` (``risk.evaluation.calibration``: the validation slice of a
time split, scored by a model trained and calibrated on earlier invoices).  Every field is read
defensively: a missing one makes the chart say why it is not available.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from billcx.report.loading import RunData
from billcx.report.sections import (
    NOT_AVAILABLE,
    Section,
    TableBlock,
    count_text,
    percent_text,
    style,
    unavailable,
)

KEY = "calibration"
TITLE = "Risk calibration"
INTRO = ("Predicted late-payment probability against the observed late rate, per probability bin, on the "
         "latest invoices held out of training (a time split). Points on the diagonal are well calibrated.")
DISTRIBUTION_BINS = 10


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _bins(report: dict[str, Any]) -> list[tuple[str, int, float, float]]:
    rows = _get(report, "risk", "evaluation", "calibration")
    out: list[tuple[str, int, float, float]] = []
    if not isinstance(rows, list):
        return out
    for row in rows:
        if not isinstance(row, dict):
            continue
        n = row.get("invoices")
        predicted, observed = _number(row.get("mean_predicted")), _number(row.get("observed_late_rate"))
        if isinstance(n, int) and n > 0 and predicted is not None and observed is not None:
            out.append((str(row.get("bin", "")), n, predicted, observed))
    return out


def _calibration_figure(bins: list[tuple[str, int, float, float]]) -> go.Figure:
    biggest = max(n for _, n, _, _ in bins)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration",
                             line={"dash": "dash", "color": "#999999"}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=[p for _, _, p, _ in bins], y=[o for _, _, _, o in bins], mode="markers+lines", name="model",
        marker={"size": [8 + 22 * (n / biggest) ** 0.5 for _, n, _, _ in bins], "color": "#e45756"},
        text=[f"bin {b}: {n:,} invoices, predicted {p:.1%}, observed {o:.1%}" for b, n, p, o in bins],
        hoverinfo="text"))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return style(fig, title="Predicted vs observed late rate (validation slice)", height=420,
                 x_title="mean predicted probability", y_title="observed late rate")


def _distribution(run: RunData) -> go.Figure | None:
    risk = run.invoice_risk
    if risk is None or risk.is_empty():
        return None
    p = risk["late_probability"].drop_nulls()
    if p.is_empty():
        return None
    idx = (p * DISTRIBUTION_BINS).floor().cast(pl.Int64).clip(0, DISTRIBUTION_BINS - 1)
    counts = dict(idx.value_counts().iter_rows())
    labels = [f"{b / DISTRIBUTION_BINS:.0%}-{(b + 1) / DISTRIBUTION_BINS:.0%}"
              for b in range(DISTRIBUTION_BINS)]
    fig = go.Figure(go.Bar(x=labels, y=[int(counts.get(b, 0)) for b in range(DISTRIBUTION_BINS)],
                           marker_color="#72b7b2"))
    return style(fig, title="Open invoices by predicted late probability", height=320,
                 x_title="late probability", y_title="open invoices")


def calibration_section(run: RunData) -> Section:
    """The calibration chart and table from model_report.json, plus today's score distribution."""
    report = run.model_report
    distribution = _distribution(run)
    if report is None:
        if distribution is None:
            return unavailable(KEY, TITLE, INTRO,
                               "segments/model_report.json is absent (segment stage not run)")
        return Section(key=KEY, title=TITLE, intro=INTRO, figures=(distribution,),
                       notes=(f"Calibration: {NOT_AVAILABLE}: segments/model_report.json is absent.",))
    method = _get(report, "risk", "method")
    auc = _number(_get(report, "risk", "evaluation", "auc"))
    brier = _number(_get(report, "risk", "evaluation", "brier"))
    base = _number(_get(report, "risk", "evaluation", "brier_base_rate"))
    rows = _get(report, "risk", "evaluation", "validation_rows")
    facts = [("risk method", str(method) if method else "-"),
             ("validation AUC", f"{auc:.3f}" if auc is not None else "-")]
    notes: list[str] = []
    bins = _bins(report)
    figures: list[go.Figure] = []
    tables: list[TableBlock] = []
    if bins:
        figures.append(_calibration_figure(bins))
        tables.append(TableBlock(caption="Calibration bins", header=("bin", "invoices", "mean predicted",
                                                                     "observed late rate"),
                                 rows=tuple((b, count_text(n), percent_text(p), percent_text(o))
                                            for b, n, p, o in bins),
                                 numeric=frozenset({1, 2, 3})))
        summary = [f"validation invoices: {rows:,}" if isinstance(rows, int) else None,
                   f"AUC {auc:.3f}" if auc is not None else None,
                   f"Brier score {brier:.4f} (predicting the base rate: {base:.4f})"
                   if brier is not None and base is not None else None]
        notes.append("; ".join(s for s in summary if s) + "." if any(summary) else "")
    else:
        reason = _get(report, "risk", "reason")
        if method == "rules" and isinstance(reason, str):
            why = f"the risk model used transparent rules: {reason}"
        else:
            why = ("model_report.json has no calibration table "
                   "(too little history for a time-split evaluation)")
        notes.append(f"Calibration: {NOT_AVAILABLE}: {why}.")
    if distribution is not None:
        figures.append(distribution)
    return Section(key=KEY, title=TITLE, intro=INTRO, figures=tuple(figures), tables=tuple(tables),
                   notes=tuple(n for n in notes if n), facts=tuple(facts))
