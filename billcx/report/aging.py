"""Aging: open balances by how long they are past due, per currency, in major units."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from billcx.report.loading import INVOICE_RISK_EXTRAS, RunData
from billcx.report.sections import Section, TableBlock, count_text, major, money_text, style, unavailable
from billcx.segment.behaviour import AGING_BUCKETS, aging_bucket

KEY = "aging"
TITLE = "Aging and overdue balance"
INTRO = ("Open invoice balances at the as-of date by days past due, per currency in major units. "
         "'current' is not yet past due; the other buckets are days past the due date.")
TOP_PER_CURRENCY = 5


def open_invoices(run: RunData) -> tuple[pl.DataFrame | None, str]:
    """Open invoices with ``customer_id, currency, balance, days_overdue`` and where they came from.

    The segment stage's per-invoice balances (payments and credits applied as of the as-of date) are
    used when present; otherwise the invoice export's ``amount_paid`` at the run's as-of date.
    """
    risk = run.invoice_risk
    if risk is not None and all(c in risk.columns for c in INVOICE_RISK_EXTRAS):
        frame = (risk.select("customer_id", "currency", "balance", "days_overdue")
                 .filter(pl.col("balance") > 0))
        return frame, "segment's invoice balances (payments and credits applied)"
    inv, as_of = run.invoices, run.as_of
    if inv is None or as_of is None:
        return None, ""
    frame = (
        inv.filter(pl.col("status") == "open", pl.col("amount") > 0, pl.col("issue_date") <= as_of)
        .select("customer_id", "currency",
                (pl.col("amount") - pl.col("amount_paid").fill_null(0)).clip(lower_bound=0).alias("balance"),
                (pl.lit(as_of) - pl.col("due_date")).dt.total_days().alias("days_overdue"))
        .filter(pl.col("balance") > 0)
    )
    return frame, "the invoice export's amount_paid (no segment balances in this run)"


def _bucket_table(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.with_columns(aging_bucket(pl.col("days_overdue")).alias("bucket"))
        .group_by("currency", "bucket")
        .agg(pl.len().cast(pl.Int64).alias("invoices"), pl.col("balance").sum().alias("balance"))
        .sort("currency", "bucket")
    )


def _figure(buckets: pl.DataFrame, currencies: list[str], totals: dict[str, int]) -> go.Figure:
    fig = go.Figure()
    single = len(currencies) == 1
    for cur in currencies:
        rows = {r["bucket"]: r for r in buckets.filter(pl.col("currency") == cur).iter_rows(named=True)}
        amounts = [rows[b]["balance"] if b in rows else 0 for b in AGING_BUCKETS]
        counts = [rows[b]["invoices"] if b in rows else 0 for b in AGING_BUCKETS]
        y = ([float(major(a, cur)) for a in amounts] if single
             else [100.0 * a / totals[cur] if totals[cur] else 0.0 for a in amounts])
        fig.add_trace(go.Bar(
            x=list(AGING_BUCKETS), y=y, name=cur,
            hovertext=[f"{money_text(a, cur)} in {n:,} invoices"
                       for a, n in zip(amounts, counts, strict=True)],
            hoverinfo="text+name"))
    y_title = f"open balance ({currencies[0]})" if single else "share of the currency's open balance (%)"
    return style(fig, title="Open balance by days past due", x_title="days past due", y_title=y_title)


def _customer_buckets(run: RunData) -> go.Figure | None:
    seg = run.segments
    if seg is None or "aging_bucket" not in seg.columns:
        return None
    counts = dict(seg.group_by("aging_bucket").len().iter_rows())
    fig = go.Figure(go.Bar(x=list(AGING_BUCKETS), y=[int(counts.get(b, 0)) for b in AGING_BUCKETS],
                           marker_color="#4c78a8"))
    return style(fig, title="Customers by their oldest overdue invoice", height=320,
                 x_title="days past due", y_title="customers")


def _largest(frame: pl.DataFrame, run: RunData) -> TableBlock | None:
    overdue = frame.filter(pl.col("days_overdue").fill_null(0) > 0)
    if overdue.is_empty():
        return None
    per = (overdue.group_by("customer_id", "currency")
           .agg(pl.col("balance").sum().alias("overdue"), pl.len().cast(pl.Int64).alias("invoices"),
                pl.col("days_overdue").max().alias("oldest"))
           .sort(["currency", "overdue", "customer_id"], descending=[False, True, False])
           .group_by("currency", maintain_order=True).head(TOP_PER_CURRENCY))
    tiers: dict[str, str] = {}
    if run.segments is not None:
        tiers = dict(run.segments.select("customer_id", "risk_tier").iter_rows())
    rows = tuple((r["customer_id"], r["currency"], money_text(r["overdue"], r["currency"]),
                  count_text(r["invoices"]), count_text(r["oldest"]), tiers.get(r["customer_id"], "-"))
                 for r in per.iter_rows(named=True))
    return TableBlock(caption=f"Largest overdue balances (top {TOP_PER_CURRENCY} per currency)",
                      header=("customer", "currency", "overdue balance", "overdue invoices", "oldest (days)",
                              "risk tier"),
                      rows=rows, numeric=frozenset({2, 3, 4}))


def aging_section(run: RunData) -> Section:
    """Aging buckets and overdue balances per currency (major units), with the largest debtors by id."""
    frame, source = open_invoices(run)
    if frame is None:
        why = ("needs segments/invoice_risk.parquet with balances, or clean/invoices.parquet"
               if run.invoices is None else
               "no segment balances, and the run's as-of date is unknown (no run.json or model_report.json)")
        return unavailable(KEY, TITLE, INTRO, why)
    notes: list[str] = [f"Balances from {source}."]
    buckets = _bucket_table(frame)
    currencies = sorted(buckets["currency"].unique().to_list())
    totals = {c: int(buckets.filter(pl.col("currency") == c)["balance"].sum()) for c in currencies}
    figures: list[go.Figure] = []
    tables: list[TableBlock] = []
    facts: list[tuple[str, str]] = [("open invoices", count_text(frame.height))]
    if currencies:
        figures.append(_figure(buckets, currencies, totals))
        rows = []
        overdue_texts = []
        for cur in currencies:
            by = {r["bucket"]: r for r in buckets.filter(pl.col("currency") == cur).iter_rows(named=True)}
            overdue = sum(by[b]["balance"] for b in AGING_BUCKETS[1:] if b in by)
            n_overdue = sum(by[b]["invoices"] for b in AGING_BUCKETS[1:] if b in by)
            rows.append((cur, money_text(totals[cur], cur),
                         *(money_text(by[b]["balance"] if b in by else 0, cur) for b in AGING_BUCKETS),
                         money_text(overdue, cur), count_text(n_overdue)))
            if overdue > 0:
                overdue_texts.append(money_text(overdue, cur))
        tables.append(TableBlock(caption="Open balance by days past due (major units)",
                                 header=("currency", "open balance", *AGING_BUCKETS, "overdue",
                                         "overdue invoices"),
                                 rows=tuple(rows), numeric=frozenset(range(1, len(AGING_BUCKETS) + 4))))
        facts.append(("overdue balance", "; ".join(overdue_texts) or "none"))
    else:
        notes.append("No invoice has an open balance at the as-of date.")
    customers = _customer_buckets(run)
    if customers is not None:
        figures.append(customers)
    largest = _largest(frame, run)
    if largest is not None:
        tables.append(largest)
    return Section(key=KEY, title=TITLE, intro=INTRO, figures=tuple(figures), tables=tuple(tables),
                   notes=tuple(notes), facts=tuple(facts))


def overdue_by_currency(run: RunData) -> dict[str, int]:
    """Overdue balance (minor units) per currency, for the headline numbers."""
    frame, _ = open_invoices(run)
    if frame is None:
        return {}
    rows = (frame.filter(pl.col("days_overdue").fill_null(0) > 0).group_by("currency")
            .agg(pl.col("balance").sum()).sort("currency"))
    return {str(c): int(b) for c, b in rows.iter_rows()}

