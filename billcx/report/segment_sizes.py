"""Segments: how many customers each segment holds and what they are worth."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from billcx.report.loading import RunData
from billcx.report.sections import (
    NOT_AVAILABLE,
    Section,
    TableBlock,
    count_text,
    money_text,
    percent_text,
    style,
    unavailable,
)
from billcx.schema import RFM_SEGMENTS, RISK_TIERS, TREATMENTS, VALUE_TIERS

KEY = "segments"
TITLE = "Segments: sizes and value"
INTRO = ("Customers per RFM segment and per treatment (the segment the plan picks a ladder from), the value "
         "x risk tier grid, and balances and lifetime value per treatment in each currency.")


def _ordered_counts(frame: pl.DataFrame, column: str, order: tuple[str, ...]) -> tuple[list[str], list[int]]:
    counts = {k: int(v) for k, v in frame.group_by(column).len().iter_rows() if k is not None}
    labels = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return labels, [counts[k] for k in labels]


def _bar(labels: list[str], values: list[int], title: str, x_title: str, color: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=color, text=[f"{v:,}" for v in values],
                           textposition="outside", cliponaxis=False))
    return style(fig, title=title, x_title=x_title, y_title="customers")


def _tier_grid(seg: pl.DataFrame) -> go.Figure:
    counts = {(v, r): int(n) for v, r, n in seg.group_by("value_tier", "risk_tier").len().iter_rows()}
    z = [[counts.get((v, r), 0) for r in RISK_TIERS] for v in VALUE_TIERS]
    fig = go.Figure(go.Heatmap(z=z, x=[f"{r} risk" for r in RISK_TIERS],
                               y=[f"{v} value" for v in VALUE_TIERS],
                               colorscale="Blues", text=[[f"{n:,}" for n in row] for row in z],
                               texttemplate="%{text}",
                               hovertemplate="%{y}, %{x}: %{text} customers<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return style(fig, title="Customers by value tier and risk tier", height=340)


def _value_table(seg: pl.DataFrame) -> TableBlock | None:
    money = [c for c in ("open_balance", "overdue_balance", "clv") if c in seg.columns]
    if "currency" not in seg.columns or not money:
        return None
    grouped = (seg.filter(pl.col("currency").is_not_null())
               .group_by("treatment", "currency")
               .agg(pl.len().cast(pl.Int64).alias("customers"), *[pl.col(c).sum().alias(c) for c in money]))
    order = {t: i for i, t in enumerate(TREATMENTS)}
    rows = sorted(grouped.iter_rows(named=True), key=lambda r: (order.get(r["treatment"], len(order)),
                                                                 str(r["treatment"]), r["currency"]))
    titles = {"open_balance": "open balance", "overdue_balance": "overdue balance", "clv": "lifetime value"}
    return TableBlock(
        caption="Per treatment and main currency (major units)",
        header=("treatment", "currency", "customers", *(titles[c] for c in money)),
        rows=tuple((r["treatment"], r["currency"], count_text(r["customers"]),
                    *(money_text(r[c], r["currency"]) for c in money)) for r in rows),
        numeric=frozenset(range(2, 3 + len(money))))


def _treatment_table(seg: pl.DataFrame) -> TableBlock:
    stats = (seg.group_by("treatment")
             .agg(pl.len().cast(pl.Int64).alias("n"), pl.col("late_probability").mean().alias("p"),
                  (pl.col("risk_tier") == "high").mean().alias("high")))
    total = seg.height
    order = {t: i for i, t in enumerate(TREATMENTS)}
    rows = sorted(stats.iter_rows(named=True),
                  key=lambda r: (order.get(r["treatment"], len(order)), r["treatment"]))
    return TableBlock(caption="Per treatment",
                      header=("treatment", "customers", "share", "mean late probability", "high risk"),
                      rows=tuple((r["treatment"], count_text(r["n"]),
                                  percent_text(r["n"] / total if total else None), percent_text(r["p"]),
                                  percent_text(r["high"])) for r in rows),
                      numeric=frozenset({1, 2, 3, 4}))


def segments_section(run: RunData) -> Section:
    """Segment sizes (RFM, treatment, tiers) and value per treatment."""
    seg = run.segments
    if seg is None:
        return unavailable(KEY, TITLE, INTRO, "segments/customers.parquet is absent (segment stage not run)")
    if seg.is_empty():
        return unavailable(KEY, TITLE, INTRO, "the segment output holds no customers")
    figures: list[go.Figure] = []
    notes: list[str] = []
    labels, values = _ordered_counts(seg, "rfm_segment", RFM_SEGMENTS)
    if labels:
        figures.append(_bar(labels, values, "Customers per RFM segment", "RFM segment", "#4c78a8"))
    else:
        notes.append("No customer has an RFM segment (no payment history in the window).")
    t_labels, t_values = _ordered_counts(seg, "treatment", TREATMENTS)
    figures.append(_bar(t_labels, t_values, "Customers per treatment", "treatment", "#f58518"))
    figures.append(_tier_grid(seg))
    tables = [_treatment_table(seg)]
    value = _value_table(seg)
    if value is not None:
        tables.append(value)
    else:
        notes.append(f"Balances and lifetime value per treatment: {NOT_AVAILABLE} "
                     "(the segment output lacks currency and balance columns).")
    largest = max(zip(t_values, t_labels, strict=True))[1] if t_labels else "-"
    facts = (("customers segmented", count_text(seg.height)), ("largest treatment", largest),
             ("high risk customers", count_text(int((seg["risk_tier"] == "high").sum()))))
    return Section(key=KEY, title=TITLE, intro=INTRO, figures=tuple(figures), tables=tuple(tables),
                   notes=tuple(notes), facts=facts)
