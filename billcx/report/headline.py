"""Headline numbers: the few figures a person reads first."""

from __future__ import annotations

import polars as pl

from billcx.report.aging import open_invoices, overdue_by_currency
from billcx.report.loading import RunData
from billcx.report.sections import count_text, money_text


def headline_numbers(run: RunData) -> tuple[tuple[str, str], ...]:
    """``(label, value)`` pairs for what this run holds (absent figures are left out).

    Args:
        run: the loaded run.

    Returns:
        Labels and formatted values, in reading order.
    """
    out: list[tuple[str, str]] = []
    if run.as_of is not None:
        note = " (latest date in the data)" if run.as_of_inferred else ""
        out.append(("as of", run.as_of.isoformat() + note))
    customers = (run.customer_ids.height if run.customer_ids is not None
                 else run.segments.height if run.segments is not None else None)
    if customers is not None:
        out.append(("customers", count_text(customers)))
    if run.invoices_count is not None:
        out.append(("invoices", count_text(run.invoices_count)))
    if run.payments_count is not None:
        out.append(("payments", count_text(run.payments_count)))
    frame, _ = open_invoices(run)
    if frame is not None:
        out.append(("open invoices", count_text(frame.height)))
        overdue = overdue_by_currency(run)
        out.append(("overdue balance", "; ".join(money_text(v, c) for c, v in overdue.items()) or "none"))
    if run.schedule is not None:
        treated = run.schedule.filter(pl.col("arm") == "treatment")
        out.append(("messages planned", count_text(int((treated["channel"] != "task").sum()))))
        out.append(("holdout rows", count_text(run.schedule.height - treated.height)))
    if run.manifest is not None:
        out.append(("messages rendered", count_text(int((run.manifest["channel"] != "task").sum()))))
    if run.rejects is not None:
        out.append(("rejects", count_text(run.rejects.height)))
    return tuple(out)
