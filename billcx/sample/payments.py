"""How customers pay: payment attempts, and each invoice's state on the export date.

Lateness is drawn per invoice from a logistic model of the customer's archetype (a chronic payer
is late most of the time, a deteriorating one more and more, a seasonal one in their bad months),
the invoice's size and dispute, plus noise -- so history predicts it well but not perfectly.
Payment days snap to the customer's habitual weekday and the time of day to their habitual local
hour; instants are stored in UTC.  Autopay customers are charged on the due date; some charges fail
with a decline code and are retried three days later.

An invoice's ``amount_paid`` is the sum of its succeeded, applied payments up to the export date,
and ``paid_date`` the customer-local date of the payment that brought the balance to zero (the
UTC date may differ by a day, as in real exports).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from billcx.sample.billing import Invoices
from billcx.sample.clock import MINUTES_PER_DAY, US_PER_MINUTE, ZoneClock, calendar_month, epoch_day, weekday
from billcx.sample.population import AUTOPAY, DETERIORATING, SEASONAL, Population
from billcx.sample.settings import SampleSettings
from billcx.schema import INVOICE_STATUSES, PAYMENT_METHODS

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

SUCCEEDED, FAILED, REFUNDED = 0, 1, 2  # indexes into billcx.schema.PAYMENT_STATUSES
FAILURE_CODES = ("insufficient_funds", "card_declined", "expired_card", "account_closed",
                 "debit_not_authorized")
_CARD_DECLINES = (0.45, 0.35, 0.20, 0.0, 0.0)
_DEBIT_DECLINES = (0.70, 0.0, 0.0, 0.10, 0.20)
# Autopay charges run 10:00-12:00 UTC: the same calendar day in every zone from UTC-10 to UTC+11.
_AUTOPAY_MINUTE = 600
US_PER_DAY = MINUTES_PER_DAY * US_PER_MINUTE
_OPEN, _PAID, _VOID, _WRITTEN_OFF = (INVOICE_STATUSES.index(s)
                                     for s in ("open", "paid", "void", "written_off"))
_BY_TRANSFER = (PAYMENT_METHODS.index("bank_transfer"), PAYMENT_METHODS.index("check"))


@dataclass(frozen=True)
class Attempts:
    """Payment rows as arrays (not yet sorted or numbered)."""

    invoice: Ints  # invoice row
    local_day: Ints
    at: Ints  # UTC epoch microseconds
    amount: Ints
    status: Ints
    failure: Ints  # index into FAILURE_CODES, -1 for none
    manual_card: Bools  # paid by card by hand (autopay fallback), not the customer's usual method
    applied: Bools  # False: an unapplied receipt (no invoice reference in the export)


@dataclass(frozen=True)
class Outcome:
    """Each invoice's state on the export date plus the payment attempts behind it."""

    attempts: Attempts
    status: Ints  # index into billcx.schema.INVOICE_STATUSES
    amount_paid: Ints
    paid_day: Ints  # local epoch day the balance reached zero; -1 when not paid
    settled_at: Ints  # UTC instant of that payment; -1 when not paid
    hold_until: Ints  # epoch day; -1 when none


class _Rows:
    """Accumulates attempt rows from vectorised blocks."""

    def __init__(self) -> None:
        self.parts: list[tuple[Ints, ...]] = []

    def add(self, invoice: Ints, local_day: Ints, at: Ints, amount: Ints, status: Ints | int,
            failure: Ints | int = -1, manual_card: bool = False) -> None:
        n = len(invoice)
        self.parts.append((invoice, local_day, at, amount, np.broadcast_to(status, n),
                           np.broadcast_to(failure, n), np.full(n, manual_card)))

    def build(self) -> list[Ints]:
        return [np.concatenate([p[i] for p in self.parts]).astype(np.int64 if i < 6 else bool)
                for i in range(7)]


def _declines(rng: np.random.Generator, direct_debit: Bools) -> Ints:
    card = np.searchsorted(np.cumsum(_CARD_DECLINES), rng.random(len(direct_debit)), side="right")
    debit = np.searchsorted(np.cumsum(_DEBIT_DECLINES), rng.random(len(direct_debit)), side="right")
    return np.where(direct_debit, debit, card).clip(0, len(FAILURE_CODES) - 1)


def _habit_time(pop: Population, cust: Ints, day: Ints, rng: np.random.Generator,
                *, not_after: Ints | None = None, not_before: Ints | None = None) -> tuple[Ints, Ints]:
    """Snap days to the customer's habitual weekday and pick a local minute near their habitual hour.

    A day snaps to the nearest habitual weekday (at most three days either way); with ``not_after``
    (a payer meaning to be on time) it snaps back to the last habitual weekday on or before the day
    instead, unless that falls before ``not_before``.
    """
    strength = pop.habit_strength[cust]
    delta = ((pop.habit_weekday[cust] - weekday(day) + 3) % 7) - 3
    if not_after is not None:
        back = -((weekday(day) - pop.habit_weekday[cust]) % 7)
        delta = np.where(day <= not_after, back, delta)
    snapped = day + delta
    if not_before is not None:
        snapped = np.where(snapped < not_before, day, snapped)
    day = np.where(rng.random(len(day)) < strength, snapped, day)
    jitter = np.round(rng.normal(0, 20, len(day))).astype(np.int64)
    minute = np.where(rng.random(len(day)) < strength, pop.habit_minute[cust] + jitter,
                      rng.integers(7 * 60, 23 * 60, len(day)))
    return day, np.clip(minute, 3 * 60, MINUTES_PER_DAY - 1)


def _after_issue(clock: ZoneClock, zone: Ints, issue: Ints, day: Ints, minute: Ints) -> tuple[Ints, Ints]:
    """Keep payments on or after the issue date, in UTC as well as locally.

    East of UTC, early morning on the issue date is still the previous day in UTC; such a payment
    moves to just after midnight UTC (a few hours later locally).
    """
    day = np.maximum(day, issue)
    floor = clock.offset_minutes(zone, day) + 5
    return day, np.where(day == issue, np.maximum(minute, floor), minute)


def settle(pop: Population, inv: Invoices, settings: SampleSettings, clock: ZoneClock,
           rng: np.random.Generator) -> Outcome:
    """Simulate every payment attempt up to the export date and derive each invoice's state.

    Args:
        pop: customers and their profiles.
        inv: the issued invoices.
        settings: what to generate (``end`` is the export date).
        clock: zone offsets covering the history window.
        rng: the random stream to draw from.

    Returns:
        The attempts and each invoice's status, amount paid, paid date and promise-to-pay date.
    """
    end = epoch_day(settings.end)
    end_us = (end + 1) * US_PER_DAY - 1
    n = inv.size
    c = inv.customer
    payable = ~inv.void & ~inv.credit
    archetype = pop.archetype[c]

    ramp = np.where(archetype == DETERIORATING,
                    np.clip((inv.issue - pop.decline_onset[c]) / pop.decline_ramp[c], 0.0, 1.0), 0.0)
    bad_month = ((pop.bad_months[c] >> calendar_month(inv.due)) & 1).astype(bool) & (archetype == SEASONAL)
    logit = (pop.late_logit[c] + 3.6 * ramp + 3.2 * bad_month + 0.35 * inv.size_z + 3.0 * inv.disputed
             + rng.normal(0, 0.5, n))
    late = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    never = rng.random(n) < (pop.never_pay[c] + 0.06 * ramp) * (1 + 4 * inv.disputed)
    late_days = (1 + np.floor(rng.gamma(1.5, pop.late_scale[c] * (1 + ramp)))
                 + inv.disputed * rng.integers(20, 91, n)).astype(np.int64)
    early = np.floor((inv.due - inv.issue) * rng.random(n) ** 1.5).astype(np.int64)
    target = np.where(late, inv.due + late_days, inv.due - early)
    pay_day, pay_minute = _habit_time(pop, c, target, rng, not_after=inv.due, not_before=inv.issue)
    pay_day, pay_minute = _after_issue(clock, pop.zone[c], inv.issue, pay_day, pay_minute)

    rows = _Rows()
    # Autopay: charged on the due date; a failed charge is retried after three days, then the customer
    # pays by hand (late) or not at all.
    auto = np.flatnonzero(payable & (archetype == AUTOPAY))
    debit = pop.method[c[auto]] == PAYMENT_METHODS.index("direct_debit")
    first_at = ((inv.due[auto] * MINUTES_PER_DAY + _AUTOPAY_MINUTE + rng.integers(0, 120, len(auto)))
                * US_PER_MINUTE)
    fail1 = rng.random(len(auto)) < pop.autopay_fail[c[auto]]
    code1 = _declines(rng, debit)
    rows.add(auto, inv.due[auto], first_at, inv.amount[auto], np.where(fail1, FAILED, SUCCEEDED),
             np.where(fail1, code1, -1))
    retry, code1 = auto[fail1], code1[fail1]
    fail2 = (code1 == 2) | (code1 == 3) | (rng.random(len(retry)) < 0.3)
    rows.add(retry, inv.due[retry] + 3, first_at[fail1] + 3 * US_PER_DAY, inv.amount[retry],
             np.where(fail2, FAILED, SUCCEEDED), np.where(fail2, _declines(rng, debit[fail1]), -1))
    fallback = retry[fail2 & (rng.random(len(retry)) >= 0.1)]
    day, minute = _habit_time(pop, c[fallback], inv.due[fallback] + 4
                              + np.floor(rng.gamma(1.5, 5.0, len(fallback))).astype(np.int64), rng)
    rows.add(fallback, day, clock.to_utc(pop.zone[c[fallback]], day, minute), inv.amount[fallback],
             SUCCEEDED, manual_card=True)

    # Paying by hand: sometimes in two instalments, sometimes never.
    manual = np.flatnonzero(payable & (archetype != AUTOPAY))
    unit = 10 ** pop.minor_exponent[c[manual]]
    split = (rng.random(len(manual)) < pop.partial[c[manual]]) & (inv.amount[manual] >= 2 * unit)
    first_part = np.clip(np.round(inv.amount[manual] * (0.25 + 0.5 * rng.random(len(manual))) / unit) * unit,
                         unit, inv.amount[manual] - unit).astype(np.int64)
    part = manual[split]
    day1, minute1 = _habit_time(pop, c[part], pay_day[part] - rng.integers(7, 31, len(part)), rng,
                                not_after=inv.due[part], not_before=inv.issue[part])
    day1, minute1 = _after_issue(clock, pop.zone[c[part]], inv.issue[part], day1, minute1)
    rows.add(part, day1, clock.to_utc(pop.zone[c[part]], day1, minute1), first_part[split], SUCCEEDED)
    final = manual[~never[manual]]
    rest = inv.amount[final] - np.where(split, first_part, 0)[~never[manual]]
    final_at = clock.to_utc(pop.zone[c[final]], pay_day[final], pay_minute[final])
    rows.add(final, pay_day[final], final_at, rest, SUCCEEDED)
    # A declined card a few minutes before the payment that went through.
    by_card = final[(pop.method[c[final]] == PAYMENT_METHODS.index("card")) & (rng.random(len(final)) < 0.04)]
    declined_at = np.maximum(  # never before the invoice existed, even in UTC
        clock.to_utc(pop.zone[c[by_card]], pay_day[by_card], pay_minute[by_card])
        - rng.integers(2, 31, len(by_card)) * US_PER_MINUTE, inv.issue[by_card] * US_PER_DAY + US_PER_MINUTE)
    rows.add(by_card, pay_day[by_card], declined_at, inv.amount[by_card],
             FAILED, np.where(rng.random(len(by_card)) < 0.6, 1, 0))
    # Paid twice by mistake; the second payment was refunded.
    twice = rng.random(len(final)) < 0.004
    refund_at = final_at[twice] + rng.integers(60, 2880, int(twice.sum())) * US_PER_MINUTE
    rows.add(final[twice], pay_day[final[twice]] + 1, refund_at, rest[twice], REFUNDED)

    invoice, local_day, at, amount, status, failure, manual_card = rows.build()
    keep = at <= end_us
    invoice, local_day, at, amount = invoice[keep], local_day[keep], at[keep], amount[keep]
    status, failure, by_hand = status[keep], failure[keep], manual_card[keep].astype(np.bool_)
    # Bank transfers and cheques that arrived without a usable reference stay unapplied.
    by_transfer = np.isin(pop.method[c[invoice]], _BY_TRANSFER) & ~by_hand
    applied = ~(by_transfer & (status == SUCCEEDED) & (rng.random(len(invoice)) < 0.02))

    counted = (status == SUCCEEDED) & applied
    amount_paid = np.zeros(n, dtype=np.int64)
    np.add.at(amount_paid, invoice[counted], amount[counted])
    settled_at = np.full(n, -1, dtype=np.int64)
    np.maximum.at(settled_at, invoice[counted], at[counted])
    last_day = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_day, invoice[counted], local_day[counted])

    paid = payable & (amount_paid >= inv.amount)
    written_off = payable & ~paid & never & (inv.due < end - 120) & (rng.random(n) < 0.75)
    credit_paid = inv.credit & inv.credit_settled
    state = np.select([inv.void, paid | credit_paid, written_off], [_VOID, _PAID, _WRITTEN_OFF], _OPEN)
    amount_paid = np.where(credit_paid, inv.amount, np.where(payable, amount_paid, 0))
    paid_day = np.where(paid, last_day, np.where(credit_paid, inv.issue, -1))
    settled_at = np.where(paid, settled_at, -1)
    overdue_open = (state == _OPEN) & payable & (inv.due < end)
    promised = overdue_open & (rng.random(n) < 0.12 + 0.3 * inv.disputed)
    offset = rng.integers(-20, 29, n)
    hold_until = np.where(promised, end + np.where(offset >= 0, offset + 1, offset), -1)
    attempts = Attempts(invoice=invoice, local_day=local_day, at=at, amount=amount, status=status,
                        failure=failure, manual_card=by_hand, applied=applied)
    return Outcome(attempts=attempts, status=state, amount_paid=amount_paid, paid_day=paid_day,
                   settled_at=settled_at, hold_until=hold_until)
