"""Schedule: how many messages go out each day, by which channel, and what was held out or skipped."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from billcx.report.loading import RunData
from billcx.report.sections import Section, TableBlock, count_text, style, unavailable
from billcx.schema import MESSAGE_KINDS, SCHEDULE_CHANNELS

KEY = "schedule"
TITLE = "Schedule volume"
INTRO = ("Planned sends per local day (the day in the customer's time zone) and channel, treatment arm only; "
         "holdout rows are recorded for measurement and never sent. Tasks are hand-overs to a person.")
_COLORS = {"email": "#4c78a8", "sms": "#f58518", "letter": "#54a24b", "push": "#b279a2", "task": "#9d755d"}


def _by_day(treated: pl.DataFrame) -> go.Figure:
    daily = (treated.with_columns(pl.col("send_at_local").str.slice(0, 10).alias("day"))
             .group_by("day", "channel").len().sort("day", "channel"))
    days = sorted(daily["day"].unique().to_list())
    fig = go.Figure()
    present = set(daily["channel"].to_list())
    for channel in [c for c in SCHEDULE_CHANNELS if c in present] + sorted(present - set(SCHEDULE_CHANNELS)):
        counts = dict(daily.filter(pl.col("channel") == channel).select("day", "len").iter_rows())
        fig.add_trace(go.Bar(x=days, y=[int(counts.get(d, 0)) for d in days], name=channel,
                             marker_color=_COLORS.get(channel)))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    return style(fig, title="Planned sends per local day and channel (treatment arm)", x_title="local day",
                 y_title="messages and tasks")


def _kind_table(treated: pl.DataFrame) -> TableBlock:
    counts = {(k, c): int(n) for k, c, n in treated.group_by("kind", "channel").len().iter_rows()}
    channels = sorted({c for _, c in counts}, key=lambda c: (SCHEDULE_CHANNELS.index(c)
                                                             if c in SCHEDULE_CHANNELS else 99, c))
    kinds = sorted({k for k, _ in counts},
                   key=lambda k: (MESSAGE_KINDS.index(k) if k in MESSAGE_KINDS else 99, k))
    rows = tuple((k, *(count_text(counts.get((k, c), 0)) for c in channels),
                  count_text(sum(counts.get((k, c), 0) for c in channels))) for k in kinds)
    return TableBlock(caption="Treatment arm by message kind and channel",
                      header=("kind", *channels, "total"),
                      rows=rows, numeric=frozenset(range(1, len(channels) + 2)))


def _arm_table(schedule: pl.DataFrame) -> TableBlock:
    stats = (schedule.group_by("ladder", "arm")
             .agg(pl.len().cast(pl.Int64).alias("rows"),
                  pl.col("customer_id").n_unique().cast(pl.Int64).alias("c")))
    cells = {(r["ladder"], r["arm"]): r for r in stats.iter_rows(named=True)}
    rows = []
    for ladder in sorted({k[0] for k in cells}):
        t, h = cells.get((ladder, "treatment")), cells.get((ladder, "holdout"))
        rows.append((ladder, count_text(t["c"] if t else 0), count_text(t["rows"] if t else 0),
                     count_text(h["c"] if h else 0), count_text(h["rows"] if h else 0)))
    return TableBlock(caption="Experiment arms per ladder",
                      header=("ladder", "treatment customers", "treatment rows", "holdout customers",
                              "holdout rows"),
                      rows=tuple(rows), numeric=frozenset({1, 2, 3, 4}))


def _skipped_table(skipped: pl.DataFrame) -> TableBlock:
    counts = skipped.group_by("code").agg(pl.len().cast(pl.Int64).alias("n"),
                                          pl.col("customer_id").n_unique().cast(pl.Int64).alias("c"))
    rows = sorted(counts.iter_rows(named=True), key=lambda r: (-r["n"], r["code"]))
    return TableBlock(caption="Not planned, by reason code", header=("code", "rows", "customers"),
                      rows=tuple((r["code"], count_text(r["n"]), count_text(r["c"])) for r in rows),
                      numeric=frozenset({1, 2}))


def schedule_section(run: RunData) -> Section:
    """Daily volume per channel, kinds, arms per ladder and skipped reasons."""
    schedule = run.schedule
    if schedule is None:
        return unavailable(KEY, TITLE, INTRO, "plan/schedule.parquet is absent (plan stage not run)")
    treated = schedule.filter(pl.col("arm") == "treatment")
    figures: list[go.Figure] = []
    tables: list[TableBlock] = []
    notes: list[str] = []
    if treated.is_empty():
        notes.append("The schedule has no treatment rows: nothing is planned to be sent.")
    else:
        figures.append(_by_day(treated))
        tables.append(_kind_table(treated))
    if not schedule.is_empty():
        tables.append(_arm_table(schedule))
    if run.skipped is not None and not run.skipped.is_empty():
        tables.append(_skipped_table(run.skipped))
    messages = int((treated["channel"] != "task").sum())
    facts = (("messages planned", count_text(messages)),
             ("tasks planned", count_text(treated.height - messages)),
             ("holdout rows", count_text(schedule.height - treated.height)),
             ("customers in the schedule", count_text(schedule["customer_id"].n_unique())))
    return Section(key=KEY, title=TITLE, intro=INTRO, figures=tuple(figures), tables=tuple(tables),
                   notes=tuple(notes), facts=facts)
