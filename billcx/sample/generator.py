"""The generator's entry point: settings in, the four export tables (and the hidden truth) out.

Customers are drawn at once; their invoices, payments and events are made in blocks of
:data:`BLOCK` customers, each from its own random stream, so memory stays bounded by the output
whatever the size.  Invoice and payment ids are given at the end, in global date order.
"""

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
from billcx.sample.settings import SampleSettings, stream
from billcx.schema import (
    CUSTOMERS,
    EVENTS,
    INVOICE_STATUSES,
    INVOICES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    PAYMENTS,
)

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
# Customers per block; part of the output's definition (changing it changes the data for a seed).
BLOCK = 50_000


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


def _ids(prefix: str, count: int, minimum_width: int) -> pl.Series:
    width = max(minimum_width, len(str(count)))
    return prefix + pl.Series(np.arange(1, count + 1)).cast(pl.String).str.zfill(width)


def _names(names: tuple[str, ...], codes: np.ndarray) -> pl.Series:
    """Names by code; code -1 is null."""
    series = pl.Series(names, dtype=pl.String).gather(np.maximum(codes, 0))
    missing = np.flatnonzero(codes < 0)
    return series.scatter(missing, None) if len(missing) else series


class _Columns:
    """Numeric columns collected block by block, concatenated once at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.parts.setdefault(name, []).append(values)

    def __getitem__(self, name: str) -> np.ndarray:
        return np.concatenate(self.parts[name])

    def pop(self, name: str) -> np.ndarray:
        return np.concatenate(self.parts.pop(name))


def _collect(pop: Population, inv: Invoices, out: Outcome, first: int, invoice_base: int,
             invoices: _Columns, payments: _Columns) -> None:
    """Add one block's invoices and payment attempts (customer rows made global)."""
    cust = inv.customer
    invoices.add(customer=(cust + first).astype(np.int32), issue=inv.issue.astype(np.int32),
                 due=inv.due.astype(np.int32), amount=inv.amount, currency=pop.currency[cust].astype(np.int8),
                 amount_paid=out.amount_paid, paid_day=out.paid_day.astype(np.int32),
                 status=out.status.astype(np.int8), disputed=inv.disputed,
                 hold_until=out.hold_until.astype(np.int32),
                 method=np.where(inv.credit, -1, pop.method[cust]).astype(np.int8))
    a = out.attempts
    # Within the block: by invoice then status; a stable sort by time later keeps this for ties.
    order = np.lexsort((a.status, a.invoice))
    invoice = a.invoice[order]
    payer = cust[invoice]
    payments.add(invoice=invoice + invoice_base, customer=(payer + first).astype(np.int32), at=a.at[order],
                 amount=a.amount[order], currency=pop.currency[payer].astype(np.int8),
                 method=np.where(a.manual_card[order], PAYMENT_METHODS.index("card"),
                                 pop.method[payer]).astype(np.int8),
                 status=a.status[order].astype(np.int8), failure=a.failure[order].astype(np.int8),
                 applied=a.applied[order])


def _frames(pop: Population, invoices: _Columns, payments: _Columns) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The invoices and payments tables, numbered in date order (ties: customer, then invoice)."""
    customer_ids = pop.customers["customer_id"]
    currencies = pl.Series(pop.currencies)
    issue = invoices.pop("issue")
    order = np.argsort(issue, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    invoice_ids = _ids("INV", len(order), 7)
    paid_day, hold = invoices.pop("paid_day")[order], invoices.pop("hold_until")[order]
    invoice_frame = pl.DataFrame({
        "invoice_id": invoice_ids,
        "customer_id": customer_ids.gather(invoices.pop("customer")[order]),
        "issue_date": date_series("issue_date", issue[order]),
        "due_date": date_series("due_date", invoices.pop("due")[order]),
        "amount": invoices.pop("amount")[order],
        "currency": currencies.gather(invoices.pop("currency")[order]),
        "amount_paid": invoices.pop("amount_paid")[order],
        "paid_date": date_series("paid_date", np.maximum(paid_day, 0), paid_day < 0),
        "status": _names(INVOICE_STATUSES, invoices.pop("status")[order]),
        "disputed": invoices.pop("disputed")[order],
        "hold_until": date_series("hold_until", np.maximum(hold, 0), hold < 0),
        "payment_method": _names(PAYMENT_METHODS, invoices.pop("method")[order]),
    })
    at = payments.pop("at")
    order = np.argsort(at, kind="stable")
    applied = payments.pop("applied")[order]
    reference = np.where(applied, rank[payments.pop("invoice")[order]], -1)
    payment_frame = pl.DataFrame({
        "payment_id": _ids("PAY", len(order), 8),
        "customer_id": customer_ids.gather(payments.pop("customer")[order]),
        "invoice_id": invoice_ids.gather(np.maximum(reference, 0))
        .scatter(np.flatnonzero(reference < 0), None),
        "paid_at": instant_series("paid_at", at[order]),
        "amount": payments.pop("amount")[order],
        "currency": currencies.gather(payments.pop("currency")[order]),
        "method": _names(PAYMENT_METHODS, payments.pop("method")[order]),
        "status": _names(PAYMENT_STATUSES, payments.pop("status")[order]),
        "failure_code": _names(FAILURE_CODES, payments.pop("failure")[order]),
    })
    return INVOICES.conform(invoice_frame), PAYMENTS.conform(payment_frame)


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


def _withdraw_consent(customers: pl.DataFrame, withdrawn: list[pl.DataFrame]) -> pl.DataFrame:
    """Customers who unsubscribed from or complained about a channel no longer consent to it."""
    gone = (pl.concat(withdrawn) if withdrawn
            else pl.DataFrame(schema={"customer": pl.Int64, "channel": pl.String}))
    exprs = []
    for channel in ("email", "sms", "push"):
        mask = np.zeros(customers.height, dtype=bool)
        mask[gone.filter(pl.col("channel") == channel)["customer"].to_numpy()] = True
        exprs.append(pl.when(pl.Series(mask)).then(False).otherwise(pl.col(f"consent_{channel}"))
                     .alias(f"consent_{channel}"))
    return customers.with_columns(exprs)


def generate(settings: SampleSettings, *, on_progress: ProgressCallback | None = None) -> SampleData:
    """Generate a realistic, deterministic set of billing exports.

    Vectorised (no Python loop per customer or invoice) and made in blocks of customers: 500,000
    customers (about 9 million invoices) take well under a minute and a half.

    Args:
        settings: size, seed, export date, history length and options.
        on_progress: called as ``on_progress(task, done, total)`` after each block of customers.

    Returns:
        The customers, invoices, payments and events tables (conforming to billcx.schema) and the
        hidden per-customer profiles.
    """
    pop = build_population(settings)
    clock = ZoneClock(pop.zones, epoch_day(settings.start) - 7, epoch_day(settings.end) + 7)
    blocks = range(0, pop.size, BLOCK)
    invoices, payments = _Columns(), _Columns()
    event_blocks: list[pl.DataFrame] = []
    withdrawn: list[pl.DataFrame] = []
    invoice_base = 0
    for index, first in enumerate(blocks):
        part = pop.slice(first, min(pop.size, first + BLOCK))
        inv = build_invoices(part, settings, stream(settings.seed, f"invoices:{index}"))
        outcome = settle(part, inv, settings, clock, stream(settings.seed, f"payments:{index}"))
        _collect(part, inv, outcome, first, invoice_base, invoices, payments)
        invoice_base += inv.size
        if settings.events:
            events, gone = build_events(part, inv, outcome, settings, clock,
                                        stream(settings.seed, f"events:{index}"))
            event_blocks.append(events)
            withdrawn.append(gone.with_columns(pl.col("customer") + first))
        log.debug("sample: block %d of %d done", index + 1, len(blocks))
        if on_progress is not None:
            on_progress("generating sample data", index + 1, len(blocks))
    invoice_frame, payment_frame = _frames(pop, invoices, payments)
    # Blocks are consecutive customer ids and events sorted within each: already in global order.
    events = pl.concat(event_blocks) if event_blocks else EVENTS.empty()
    customers = _withdraw_consent(pop.customers, withdrawn)
    return SampleData(settings=settings, customers=CUSTOMERS.conform(customers), invoices=invoice_frame,
                      payments=payment_frame, events=EVENTS.conform(events), profiles=_profiles(pop))
