"""Message engagement: what happened to the reminders the company's previous system sent.

That system sent reminders 3 days before the due date and 3, 10 and 20 days after it while an
invoice was unpaid, on each customer's usable electronic channel, in a batch at 15:00 UTC whatever
the customer's zone.  Customers open messages around their own habitual hour (or at once, when a
mail client pre-fetches), click shortly before they pay, and a few reply, complain or unsubscribe;
nothing is sent on a channel after the customer unsubscribed from it, and the customers export no
longer shows consent for it.  Letters leave no events.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from billcx.sample.billing import Invoices
from billcx.sample.clock import MINUTES_PER_DAY, US_PER_MINUTE, ZoneClock, epoch_day
from billcx.sample.payments import US_PER_DAY, Outcome
from billcx.sample.population import AUTOPAY, Population
from billcx.sample.settings import SampleSettings
from billcx.schema import CHANNELS, EVENT_TYPES

Ints = npt.NDArray[np.int64]

REMINDER_OFFSETS = (-3, 3, 10, 20)
_NAME_RANK = np.argsort(np.argsort(np.array(EVENT_TYPES)))  # alphabetical rank of each event code
_BATCH_MINUTE = 15 * 60
EMAIL, SMS, PUSH = CHANNELS.index("email"), CHANNELS.index("sms"), CHANNELS.index("push")
(DELIVERED, OPENED, CLICKED, BOUNCED, COMPLAINED, UNSUBSCRIBED, REPLIED) = (
    EVENT_TYPES.index(e) for e in ("delivered", "opened", "clicked", "bounced", "complained", "unsubscribed",
                                   "replied"))


def _messages(pop: Population, inv: Invoices, out: Outcome, end: int,
              rng: np.random.Generator) -> tuple[Ints, Ints]:
    """(invoice row, UTC send instant) of every reminder sent while its invoice was unpaid."""
    c = inv.customer
    eligible = ~inv.void & ~inv.credit & pop.engaged[c] & (pop.archetype[c] != AUTOPAY)
    settled = np.where(out.paid_day >= 0, out.paid_day, np.iinfo(np.int64).max)
    invoices: list[Ints] = []
    sends: list[Ints] = []
    for offset in REMINDER_OFFSETS:
        day = inv.due + offset
        rows = np.flatnonzero(eligible & (day > inv.issue) & (day < settled) & (day <= end))
        invoices.append(rows)
        sends.append((day[rows] * MINUTES_PER_DAY + _BATCH_MINUTE + rng.integers(0, 30, len(rows)))
                     * US_PER_MINUTE)
    return np.concatenate(invoices), np.concatenate(sends)


def _next_habit(pop: Population, cust: Ints, after: Ints, clock: ZoneClock,
                rng: np.random.Generator) -> Ints:
    """The first time around the customer's habitual local hour after ``after`` (UTC microseconds)."""
    day, minute = clock.to_local(pop.zone[cust], after)
    wanted = np.clip(pop.habit_minute[cust] + np.round(rng.normal(0, 30, len(cust))).astype(np.int64),
                     3 * 60, MINUTES_PER_DAY - 1)
    day = day + (minute >= wanted) + (rng.random(len(cust)) < 0.2) * rng.integers(1, 3, len(cust))
    return np.maximum(clock.to_utc(pop.zone[cust], day, wanted), after + US_PER_MINUTE)


def build_events(pop: Population, inv: Invoices, out: Outcome, settings: SampleSettings,
                 clock: ZoneClock, rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Engagement events of past reminders.

    Args:
        pop: customers and their profiles.
        inv: the issued invoices.
        out: the invoices' payments and state (reminders stop once an invoice is paid).
        settings: what to generate.
        clock: zone offsets covering the history window.
        rng: the random stream to draw from.

    Returns:
        The events (contract columns) and the (customer row, channel) pairs that unsubscribed or
        complained, whose consent the customers export must withdraw.
    """
    end = epoch_day(settings.end)
    end_us = (end + 1) * US_PER_DAY - 1
    invoice, sent = _messages(pop, inv, out, end, rng)
    cust = inv.customer[invoice]
    channel = pop.message_channel[cust]
    m = len(invoice)

    bounce_p = np.select([channel == EMAIL, channel == SMS], [pop.bounce_rate[cust], 0.01], 0.0)
    delivered = rng.random(m) >= bounce_p
    delivered_at = sent + rng.integers(5, 90, m) * 1_000_000
    prefetch = (channel == EMAIL) & (rng.random(m) < 0.25)
    open_p = np.select([channel == EMAIL, channel == PUSH],
                       [pop.open_rate[cust], 0.6 * pop.open_rate[cust]], 0.0)
    opened = delivered & (prefetch | (rng.random(m) < open_p))
    opened_at = np.where(prefetch, delivered_at + rng.integers(1, 6, m) * US_PER_MINUTE,
                         _next_habit(pop, cust, delivered_at, clock, rng))

    # Click, then pay: a payment within three days of a delivered message often follows a click.
    paid_at = out.settled_at[invoice]
    pays_soon = (delivered & (paid_at > delivered_at + 30 * US_PER_MINUTE)
                 & (paid_at <= delivered_at + 3 * US_PER_DAY))
    click_pay = pays_soon & (rng.random(m) < 0.55)
    pay_click_at = paid_at - rng.integers(1, 21, m) * US_PER_MINUTE
    tracked_open = channel != SMS
    opened = np.where(click_pay & tracked_open, True, opened)
    opened_at = np.where(click_pay & tracked_open & ((opened_at > pay_click_at) | ~opened),
                         pay_click_at - rng.integers(1, 11, m) * US_PER_MINUTE, opened_at)
    engaged_at = np.where(tracked_open, opened_at, _next_habit(pop, cust, delivered_at, clock, rng))
    can_click = np.where(tracked_open, opened, delivered)
    clicked = click_pay | (can_click & (rng.random(m) < pop.click_rate[cust]))
    clicked_at = np.where(click_pay, pay_click_at, engaged_at + rng.integers(1, 11, m) * US_PER_MINUTE)
    react_at = np.where(opened, opened_at, delivered_at)
    replied = delivered & (channel != PUSH) & (rng.random(m) < 0.015)
    complained = delivered & (channel == EMAIL) & (rng.random(m) < 0.001)
    unsubscribed = complained | (delivered & (rng.random(m) < 0.004))
    reply_at = react_at + rng.integers(10, 600, m) * US_PER_MINUTE
    complain_at = react_at + rng.integers(1, 60, m) * US_PER_MINUTE
    unsubscribe_at = complain_at + rng.integers(0, 5, m) * US_PER_MINUTE

    # Nothing is sent on a channel after the customer unsubscribed from it.
    first_out = np.full(pop.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_out, cust[unsubscribed], unsubscribe_at[unsubscribed])
    kept = sent <= first_out[cust]

    blocks = [
        (kept & delivered, delivered_at, DELIVERED), (kept & ~delivered, delivered_at, BOUNCED),
        (kept & opened, opened_at, OPENED), (kept & clicked, clicked_at, CLICKED),
        (kept & replied, reply_at, REPLIED), (kept & complained, complain_at, COMPLAINED),
        (kept & unsubscribed, unsubscribe_at, UNSUBSCRIBED),
    ]
    e_cust = np.concatenate([cust[mask] for mask, _, _ in blocks])
    e_channel = np.concatenate([channel[mask] for mask, _, _ in blocks])
    e_at = np.concatenate([at[mask] for mask, at, _ in blocks])
    e_type = np.concatenate([np.full(int(mask.sum()), code) for mask, _, code in blocks])
    within = e_at <= end_us
    e_cust, e_channel, e_at, e_type = e_cust[within], e_channel[within], e_at[within], e_type[within]
    # The order exports are written in: customer, time, then event name (channel is one per customer).
    order = np.lexsort((_NAME_RANK[e_type], e_at, e_cust))
    e_cust, e_channel, e_at, e_type = e_cust[order], e_channel[order], e_at[order], e_type[order]

    events = pl.DataFrame({
        "customer_id": pop.customers["customer_id"].gather(e_cust),
        "channel": pl.Series(CHANNELS).gather(e_channel),
        "event": pl.Series(EVENT_TYPES).gather(e_type),
        "at": pl.Series(e_at).cast(pl.Datetime("us", "UTC")),
    })
    gone = (e_type == UNSUBSCRIBED) | (e_type == COMPLAINED)
    withdrawn = pl.DataFrame({"customer": e_cust[gone],
                              "channel": pl.Series(CHANNELS).gather(e_channel[gone])})
    return events, withdrawn.unique(maintain_order=True)
