"""Invoices as issued: dates from each customer's billing cadence, amounts, credit notes, voids, disputes.

What happens to an invoice after it is issued (payments, status at the export date) is decided in
:mod:`billcx.sample.payments`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from billcx.sample.clock import epoch_day, month_first_day, month_index
from billcx.sample.population import (
    BIWEEKLY,
    DETERIORATING,
    IRREGULAR,
    LATE,
    MONTHLY,
    ONCE,
    SEMIMONTHLY,
    Population,
)
from billcx.sample.settings import SampleSettings

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Invoices:
    """Issued invoices as arrays, sorted by customer then issue date."""

    customer: Ints  # row of the population
    issue: Ints  # epoch days
    due: Ints
    amount: Ints  # minor units; negative for credit notes
    size_z: Floats  # how unusually large the invoice is for its customer (standard scores)
    credit: Bools
    credit_settled: Bools  # a credit note already applied to the account
    void: Bools
    disputed: Bools

    @property
    def size(self) -> int:
        """Number of invoices (credit notes included)."""
        return len(self.customer)


def _expand(counts: Ints) -> tuple[Ints, Ints]:
    """(owner, k) rows for ``counts[i]`` rows per owner i, k = 0..counts[i]-1."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - np.repeat(starts, counts)


def _issue_days(pop: Population, settings: SampleSettings, rng: np.random.Generator) -> tuple[Ints, Ints]:
    """(customer, issue day) of every regular invoice, from each customer's cadence."""
    start, end = epoch_day(settings.start), epoch_day(settings.end)
    first = np.maximum(pop.signup_day, start)
    m0 = int(month_index(np.array([start]))[0])
    months = settings.months
    customers: list[Ints] = []
    days: list[Ints] = []

    for cadence, per_month in ((MONTHLY, 1), (SEMIMONTHLY, 2)):
        idx = np.flatnonzero(pop.cadence == cadence)
        owner, k = _expand(np.full(len(idx), months * per_month, dtype=np.int64))
        month_start = month_first_day(m0 + k // per_month)
        offset = np.where(k % per_month == 0, 0, 14) if per_month == 2 else pop.anchor_day[idx[owner]] - 1
        day = month_start + offset
        keep = (day >= first[idx[owner]]) & (day <= end)
        customers.append(idx[owner][keep])
        days.append(day[keep])

    idx = np.flatnonzero(pop.cadence == BIWEEKLY)
    begin = first[idx] + rng.integers(0, 14, len(idx))
    owner, k = _expand(np.maximum(0, (end - begin) // 14 + 1))
    customers.append(idx[owner])
    days.append(begin[owner] + 14 * k)

    for cadence in (IRREGULAR, ONCE):
        idx = np.flatnonzero(pop.cadence == cadence)
        span = np.maximum(1, end - first[idx] + 1)
        if cadence == IRREGULAR:
            count = rng.poisson(pop.monthly_rate[idx] * span / 30.44)
        else:
            count = np.where(rng.random(len(idx)) < 0.7, 1, 2)
        owner, _ = _expand(count.astype(np.int64))
        customers.append(idx[owner])
        days.append(first[idx][owner] + np.floor(rng.random(len(owner)) * span[owner]).astype(np.int64))

    return np.concatenate(customers), np.concatenate(days)


def _amounts(pop: Population, cust: Ints, issue: Ints, start: int,
             rng: np.random.Generator) -> tuple[Ints, Floats]:
    """Minor-unit amounts: a fixed subscription price or a log-normal draw around the customer's mean."""
    z = rng.standard_normal(len(cust))
    mu, sigma = pop.amount_mu[cust], pop.amount_sigma[cust]
    exp = pop.minor_exponent[cust]
    scale = 10.0 ** exp
    years = np.maximum(0, (issue - start) // 365)
    price = np.exp(mu) * np.where(pop.price_rises[cust], 1.05 ** years, 1.0)
    # Subscription prices look set by a person: 49.99 / 50.00, or round hundreds of yen.
    nice = np.where(exp == 0, np.round(price, -2),
                    np.floor(price) * scale + np.where(price < 200, scale - 1, 0))
    variable = np.exp(mu + sigma * z) * scale
    variable = np.where(exp == 0, np.round(variable / 10) * 10, np.round(variable))
    fixed = pop.fixed_price[cust]
    amount = np.maximum(np.where(fixed, nice, variable), scale).astype(np.int64)
    return amount, np.where(fixed, 0.0, z)


def build_invoices(pop: Population, settings: SampleSettings, rng: np.random.Generator) -> Invoices:
    """Issue every customer's invoices and credit notes over the history window.

    Args:
        pop: the customers and their profiles.
        settings: what to generate.
        rng: the random stream to draw from.

    Returns:
        The invoices, sorted by customer then issue date.
    """
    start, end = epoch_day(settings.start), epoch_day(settings.end)
    cust, issue = _issue_days(pop, settings, rng)
    n = len(cust)

    terms = pop.terms_days[cust]
    month_end = pop.month_end_terms[cust]
    due = np.where(month_end, month_first_day(month_index(issue) + 2) - 1, issue + terms)
    amount, size_z = _amounts(pop, cust, issue, start, rng)

    troubled = np.isin(pop.archetype[cust], (LATE, DETERIORATING))
    disputed = rng.random(n) < 0.012 + 0.03 * troubled + 0.02 * (size_z > 1.0)
    void = rng.random(n) < 0.008
    disputed &= ~void

    # Credit notes: a refund or goodwill credit against an earlier invoice of the same customer.
    source = np.flatnonzero((rng.random(n) < 0.025) & ~void)
    c_issue = issue[source] + rng.integers(3, 41, len(source))
    source, c_issue = source[c_issue <= end], c_issue[c_issue <= end]
    share = np.where(rng.random(len(source)) < 0.3, 1.0, 0.1 + 0.4 * rng.random(len(source)))
    exp = pop.minor_exponent[cust[source]]
    unit = np.where(exp == 0, 10, 1)
    c_amount = -np.maximum(unit, np.round(amount[source] * share / unit) * unit).astype(np.int64)
    m = len(source)

    all_cust = np.concatenate([cust, cust[source]])
    all_issue = np.concatenate([issue, c_issue])
    order = np.lexsort((np.concatenate([rng.random(n), rng.random(m)]), all_issue, all_cust))
    credit = np.concatenate([np.zeros(n, dtype=bool), np.ones(m, dtype=bool)])
    settled = np.concatenate([np.zeros(n, dtype=bool), rng.random(m) < 0.75])
    return Invoices(
        customer=all_cust[order],
        issue=all_issue[order],
        due=np.concatenate([due, c_issue])[order],
        amount=np.concatenate([amount, c_amount])[order],
        size_z=np.concatenate([size_z, np.zeros(m)])[order],
        credit=credit[order],
        credit_settled=settled[order],
        void=np.concatenate([void, np.zeros(m, dtype=bool)])[order],
        disputed=np.concatenate([disputed, np.zeros(m, dtype=bool)])[order],
    )
