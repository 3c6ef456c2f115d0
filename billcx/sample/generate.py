"""The generator's entry point: settings in, the four export tables (and the hidden truth) out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from billcx.sample.billing import Invoices, build_invoices
from billcx.sample.clock import ZoneClock, date_series, epoch_day, instant_series
from billcx.sample.events import build_events
from billcx.sample.payments import FAILURE_CODES, Outcome, settle
from billcx.sample.population import ARCHETYPES, CADENCES, Population, build_population
from billcx.sample.settings import SampleSettings
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENT_METHODS, PAYMENT_STATUSES, PAYMENTS

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
_STEPS = ("customers", "invoices", "payments", "events")


@dataclass(frozen=True)
class SampleData:
    """Generated exports, each conforming exactly to its contract table.

    Attributes:
        settings: what was generated.
        customers, invoices, payments, events: the contract tables (money in minor units).
        profiles: the hidden truth per customer -- behaviour archetype, billing cadence, terms and
            habitual payment weekday/hour -- which no billing system exports; for evaluating later
            stages, never an input to them.
    """

    settings: SampleSettings
    customers: pl.DataFrame
    invoices: pl.DataFrame
    payments: pl.DataFrame
    events: pl.DataFrame
    profiles: pl.DataFrame

    def counts(self) -> dict[str, int]:
        """Rows per exported table."""
        return {"customers": self.customers.height, "invoices": self.invoices.height,
                "payments": self.payments.height, "events": self.events.height}


def _ids(prefix: str, count: int, minimum_width: int = 7) -> pl.Series:
    width = max(minimum_width, len(str(count)))
    return prefix + pl.Series(np.arange(1, count + 1)).cast(pl.String).str.zfill(width)


def _invoice_frame(pop: Population, inv: Invoices, out: Outcome, invoice_ids: pl.Series) -> pl.DataFrame:
    methods = np.where(inv.credit, -1, pop.method[inv.customer])
    return INVOICES.conform(pl.DataFrame({
        "invoice_id": invoice_ids,
        "customer_id": pop.customers["customer_id"].gather(inv.customer),
        "issue_date": date_series("issue_date", inv.issue),
        "due_date": date_series("due_date", inv.due),
        "amount": inv.amount,
        "currency": pl.Series(pop.currencies).gather(pop.currency[inv.customer]),
        "amount_paid": out.amount_paid,
        "paid_date": date_series("paid_date", np.maximum(out.paid_day, 0), out.paid_day < 0),
        "status": out.status,
        "disputed": inv.disputed,
        "hold_until": date_series("hold_until", np.maximum(out.hold_until, 0), out.hold_until < 0),
        "payment_method": pl.Series(PAYMENT_METHODS).gather(np.maximum(methods, 0))
        .scatter(np.flatnonzero(methods < 0), None),
    }))


def _payment_frame(pop: Population, inv: Invoices, out: Outcome, invoice_ids: pl.Series) -> pl.DataFrame:
    a = out.attempts
    order = np.lexsort((a.status, a.invoice, a.at))
    invoice = a.invoice[order]
    cust = inv.customer[invoice]
    method = np.where(a.manual_card[order], PAYMENT_METHODS.index("card"), pop.method[cust])
    failure = a.failure[order]
    unapplied = np.flatnonzero(~a.applied[order])
    return PAYMENTS.conform(pl.DataFrame({
        "payment_id": _ids("PAY", len(order), 8),
        "customer_id": pop.customers["customer_id"].gather(cust),
        "invoice_id": invoice_ids.gather(invoice).scatter(unapplied, None) if len(unapplied)
        else invoice_ids.gather(invoice),
        "paid_at": instant_series("paid_at", a.at[order]),
        "amount": a.amount[order],
        "currency": pl.Series(pop.currencies).gather(pop.currency[cust]),
        "method": pl.Series(PAYMENT_METHODS).gather(method),
        "status": pl.Series(PAYMENT_STATUSES).gather(a.status[order]),
        "failure_code": pl.Series(FAILURE_CODES).gather(np.maximum(failure, 0))
        .scatter(np.flatnonzero(failure < 0), None),
    }))


def _profiles(pop: Population) -> pl.DataFrame:
    return pl.DataFrame({
        "customer_id": pop.customers["customer_id"],
        "archetype": pl.Series(ARCHETYPES).gather(pop.archetype),
        "cadence": pl.Series(CADENCES).gather(pop.cadence),
        "business": pop.business,
        "terms_days": pop.terms_days,
        "month_end_terms": pop.month_end_terms,
        "habitual_weekday": pop.habit_weekday,
        "habitual_hour": pop.habit_minute // 60,
        "habit_strength": pop.habit_strength.round(3),
    })


def generate(settings: SampleSettings, *, on_progress: ProgressCallback | None = None) -> SampleData:
    """Generate a realistic, deterministic set of billing exports.

    Vectorised end to end (no Python loop per customer or invoice): 500,000 customers take well
    under a minute and a half.

    Args:
        settings: size, seed, export date, history length and options.
        on_progress: called as ``on_progress(step, done, total)`` after each step.

    Returns:
        The customers, invoices, payments and events tables (conforming to billcx.schema) and the
        hidden per-customer profiles.
    """
    def progress(step: str) -> None:
        log.debug("sample: %s done", step)
        if on_progress is not None:
            on_progress("generating sample data", _STEPS.index(step) + 1, len(_STEPS))

    pop = build_population(settings)
    progress("customers")
    inv = build_invoices(pop, settings)
    progress("invoices")
    clock = ZoneClock(pop.zones, epoch_day(settings.start) - 7, epoch_day(settings.end) + 7)
    outcome = settle(pop, inv, settings, clock)
    invoice_ids = _ids("INV", inv.size, 7)
    invoices = _invoice_frame(pop, inv, outcome, invoice_ids)
    payments = _payment_frame(pop, inv, outcome, invoice_ids)
    progress("payments")
    if settings.events:
        events, unsubscribed = build_events(pop, inv, outcome, settings, clock)
    else:
        events, unsubscribed = EVENTS.empty(), pl.DataFrame(schema={"customer": pl.Int64, "channel": pl.String})
    customers = _withdraw_consent(pop.customers, unsubscribed)
    progress("events")
    return SampleData(settings=settings, customers=CUSTOMERS.conform(customers), invoices=invoices,
                      payments=payments, events=EVENTS.conform(events), profiles=_profiles(pop))


def _withdraw_consent(customers: pl.DataFrame, unsubscribed: pl.DataFrame) -> pl.DataFrame:
    """Customers who unsubscribed from or complained about a channel no longer consent to it."""
    if unsubscribed.height == 0:
        return customers
    exprs = []
    for channel in ("email", "sms", "push"):
        rows = unsubscribed.filter(pl.col("channel") == channel)["customer"].to_numpy()
        mask = np.zeros(customers.height, dtype=bool)
        mask[rows] = True
        exprs.append(pl.when(pl.Series(mask)).then(False).otherwise(pl.col(f"consent_{channel}"))
                     .alias(f"consent_{channel}"))
    return customers.with_columns(exprs)
