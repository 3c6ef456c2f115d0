"""Settings of the sample-data generator (a frozen dataclass; TOML-loadable with billcx.config)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from billcx.errors import UsageError
from billcx.hashing import stable_hash
from billcx.sample.countries import COUNTRY_CODES

MIN_MONTHS = 18
DEFAULT_END = dt.date(2026, 10, 31)


@dataclass(frozen=True)
class SampleSettings:
    """What to generate.

    Attributes:
        customers: number of customers (>= 1).
        seed: random seed; the same settings always give byte-identical exports.
        end: the export date: invoices, payments and events happen on or before it and the invoices
            show their state as of this day.
        months: length of the invoice history, in calendar months ending with ``end``'s month (>= 18).
        countries: ISO codes of the countries customers live in (a subset of the built-in ten).
        events: also generate message-engagement events (skip them for faster benchmarks).
    """

    customers: int
    seed: int
    end: dt.date = DEFAULT_END
    months: int = MIN_MONTHS
    countries: tuple[str, ...] = COUNTRY_CODES
    events: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.customers, bool) or not isinstance(self.customers, int) or self.customers < 1:
            raise UsageError(f"customers: expected a whole number >= 1, found {self.customers!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise UsageError(f"seed: expected a whole number >= 0, found {self.seed!r}")
        if isinstance(self.months, bool) or not isinstance(self.months, int) or self.months < MIN_MONTHS:
            raise UsageError(f"months: expected a whole number >= {MIN_MONTHS}, found {self.months!r}",
                             hint="shorter histories leave later stages too little to learn from")
        if not isinstance(self.end, dt.date) or isinstance(self.end, dt.datetime):
            raise UsageError(f"end: expected a date, found {self.end!r}")
        unknown = [c for c in self.countries if c not in COUNTRY_CODES]
        if unknown or not self.countries:
            raise UsageError(f"countries: expected some of {', '.join(COUNTRY_CODES)}, "
                             f"found {', '.join(unknown) if unknown else 'none'}")
        if len(set(self.countries)) != len(self.countries):
            raise UsageError("countries: each country may be listed once")

    @property
    def start(self) -> dt.date:
        """First day of the invoice history: the first day of the month ``months - 1`` before ``end``'s."""
        index = self.end.year * 12 + self.end.month - 1 - (self.months - 1)
        return dt.date(index // 12, index % 12 + 1, 1)


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream for one part of the generator.

    Each part (customers, invoices, payments, ...) draws from its own stream, keyed by the seed and
    the part's name, so changing how one part draws never shifts what another part generates.
    """
    return np.random.default_rng([seed, stable_hash(name, salt="billcx.sample") & 0xFFFF_FFFF])
