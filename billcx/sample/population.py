"""Customers: who they are (the customers export) and how they behave (the hidden profile).

The profile holds what a billing system never exports but the behaviour of the generated invoices,
payments and events follows from: the archetype, billing cadence, payment terms, invoice sizes,
habitual payment weekday and hour, and engagement rates.  It is returned as
:attr:`SampleData.profiles`, the ground truth later stages can be evaluated against.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from billcx.money import exponent
from billcx.sample.clock import date_series, epoch_day
from billcx.sample.contacts import addresses, emails, names, phones
from billcx.sample.countries import AUTOPAY_METHODS, COUNTRIES, MANUAL_METHODS, Country, language
from billcx.sample.draws import choice, index_of, pick
from billcx.sample.settings import SampleSettings, stream
from billcx.schema import CHANNELS, PAYMENT_METHODS

ARCHETYPES = ("punctual", "chronic_late", "deteriorating", "seasonal", "one_off", "autopay")
ARCHETYPE_WEIGHTS = (0.38, 0.13, 0.10, 0.10, 0.09, 0.20)
PUNCTUAL, LATE, DETERIORATING, SEASONAL, ONE_OFF, AUTOPAY = range(6)

# "none": an account that was opened but never billed (a lead, or a customer who never bought).
CADENCES = ("monthly", "semimonthly", "biweekly", "irregular", "one_off", "none")
MONTHLY, SEMIMONTHLY, BIWEEKLY, IRREGULAR, ONCE, NEVER = range(6)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Population:
    """Per-customer arrays (index = row of :attr:`customers`) and the customers export."""

    customers: pl.DataFrame
    zones: tuple[str, ...]
    zone: Ints
    currencies: tuple[str, ...]
    currency: Ints  # index into currencies
    minor_exponent: Ints
    signup_day: Ints
    business: Bools
    archetype: Ints
    cadence: Ints
    anchor_day: Ints
    monthly_rate: Floats
    terms_days: Ints
    month_end_terms: Bools
    amount_mu: Floats
    amount_sigma: Floats
    fixed_price: Bools
    price_rises: Bools
    late_logit: Floats
    late_scale: Floats
    never_pay: Floats
    partial: Floats
    bad_months: Ints  # bit mask over calendar months (bit 0 = January)
    decline_onset: Ints  # epoch day deterioration starts
    decline_ramp: Ints  # days until fully deteriorated
    habit_weekday: Ints
    habit_minute: Ints  # local minute of day
    habit_strength: Floats
    autopay_fail: Floats
    method: Ints  # index into billcx.schema.PAYMENT_METHODS
    message_channel: Ints  # index into billcx.schema.CHANNELS; -1 when no electronic channel is usable
    engaged: Bools  # has engagement events at all
    open_rate: Floats
    click_rate: Floats
    bounce_rate: Floats

    @property
    def size(self) -> int:
        """Number of customers."""
        return len(self.zone)

    def slice(self, start: int, stop: int) -> Population:
        """Customers ``start .. stop - 1`` (rows renumbered from 0)."""
        parts: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray | pl.DataFrame):
                value = value[start:stop]
            parts[f.name] = value
        return replace(self, **parts)


@dataclass(frozen=True)
class _Combo:
    """One (country, region, locale) cell customers are drawn from."""

    country: Country
    region_index: int
    locale: str
    weight: float


def _combos(settings: SampleSettings) -> list[_Combo]:
    out = []
    for country in COUNTRIES:
        if country.code not in settings.countries:
            continue
        total = sum(r.weight for r in country.regions)
        for i, region in enumerate(country.regions):
            locales = region.locales or country.locales
            for tag, w in locales:
                out.append(_Combo(country, i, tag, country.weight * region.weight / total * w))
    return out


def build_population(settings: SampleSettings) -> Population:
    """Draw the customers and their hidden behaviour profile.

    Args:
        settings: what to generate.

    Returns:
        The population, customers sorted by ``customer_id`` (assigned in signup order).
    """
    rng = stream(settings.seed, "customers")
    n = settings.customers
    combos = _combos(settings)
    combo_of = choice(rng, [c.weight for c in combos], n)
    start, end = epoch_day(settings.start), epoch_day(settings.end)

    # Signup first: ids follow signup order, as a billing system numbers its accounts.
    veteran = rng.random(n) < 0.65
    signup = np.where(veteran, start - 1 - np.floor(rng.random(n) * 6 * 365),
                      start + np.floor(rng.random(n) * max(1, end - 14 - start))).astype(np.int64)
    order = np.lexsort((rng.random(n), signup))
    combo_of, signup = combo_of[order], signup[order]

    country = np.array([c.country.code for c in combos])[combo_of]
    country_obj = [c.country for c in combos]
    region_obj = [c.country.regions[c.region_index] for c in combos]
    zones = tuple(sorted({r.timezone for r in region_obj}))
    zone = np.array([zones.index(r.timezone) for r in region_obj])[combo_of]
    locale = np.array([c.locale for c in combos])[combo_of]
    lang = np.array([language(c.locale) for c in combos])[combo_of]
    currencies = tuple(sorted({c.currency for c in country_obj}))
    currency = np.array([currencies.index(c.currency) for c in country_obj])[combo_of]
    minor_exponent = np.array([exponent(c.currency) for c in country_obj])[combo_of]
    value_per_usd = np.array([c.value_per_usd for c in country_obj])[combo_of]

    business = rng.random(n) < np.where(country == "JP", 0.30, 0.25)
    suffix_lists = [c.business_suffixes for c in country_obj]
    suffix_flat = [s for ss in suffix_lists for s in ss]
    suffix_start = np.cumsum([0] + [len(s) for s in suffix_lists])[:-1]
    suffix = pl.Series(suffix_flat).gather(
        pick(rng, suffix_start[combo_of], np.array([len(s) for s in suffix_lists])[combo_of]))
    name, first_ascii, last_ascii = names(rng, lang, business, suffix)
    email = emails(rng, first_ascii, last_ascii, business)
    phone = phones(rng, combo_of, [c.country.regions[c.region_index].phones for c in combos])
    has_phone = rng.random(n) >= 0.08
    has_email = email.is_not_null().to_numpy()

    # Channels and consents: mostly coherent, with the gaps a real CRM has.
    channel_weights = np.array([c.channels for c in country_obj])[combo_of]
    cumulative = np.cumsum(channel_weights, axis=1)
    channel = (rng.random(n)[:, None] * cumulative[:, -1:] >= cumulative).sum(axis=1).clip(0, 3)
    channel = np.where((channel == 0) & ~has_email, 2, channel)
    channel = np.where((channel == 1) & ~has_phone, np.where(has_email, 0, 2), channel)
    preferred = np.array(CHANNELS)[channel]
    silent = rng.random(n) < 0.04  # consented to nothing
    consent_email = has_email & ~silent & (rng.random(n) < np.where(channel == 0, 0.96, 0.70))
    consent_sms = has_phone & ~silent & (rng.random(n) < np.where(channel == 1, 0.95, 0.35))
    paperless = channel_weights[:, 2] == 0  # countries whose accounts never get paper
    consent_letter = ~silent & ~paperless & (rng.random(n) < np.where(channel == 2, 1.0, 0.90))
    consent_push = ~silent & (rng.random(n) < np.where(channel == 3, 0.95, 0.20))
    do_not_contact = rng.random(n) < 0.02

    archetype = choice(rng, ARCHETYPE_WEIGHTS, n)
    autopay = archetype == AUTOPAY
    manual = np.array([c.manual_methods for c in country_obj])[combo_of]
    manual_pick = (rng.random(n)[:, None] * manual.sum(axis=1, keepdims=True)
                   >= np.cumsum(manual, axis=1)).sum(axis=1).clip(0, len(MANUAL_METHODS) - 1)
    auto_w = np.array([c.autopay_methods for c in country_obj])[combo_of]
    auto_pick = (rng.random(n) * auto_w.sum(axis=1) >= auto_w[:, 0]).astype(np.int64)
    method_name = np.where(autopay, np.array(AUTOPAY_METHODS)[auto_pick],
                           np.array(MANUAL_METHODS)[manual_pick])
    method = index_of(method_name, PAYMENT_METHODS)

    # Billing cadence and terms.
    cadence = np.where(archetype == ONE_OFF, ONCE,
                       np.where(autopay, np.where(rng.random(n) < 0.9, MONTHLY, SEMIMONTHLY),
                                choice(rng, (0.68, 0.10, 0.06, 0.16), n)))
    cadence = np.where(rng.random(n) < 0.025, NEVER, cadence)
    anchor_day = rng.integers(1, 29, n)
    monthly_rate = 0.5 + 2.5 * rng.random(n)
    terms = np.where(business, np.array([30, 45, 60, 14, 0])[choice(rng, (0.5, 0.15, 0.1, 0.15, 0.1), n)],
                     np.array([14, 30, 7, 0])[choice(rng, (0.35, 0.4, 0.13, 0.12), n)])
    terms = np.where(autopay, np.array([0, 7, 14])[choice(rng, (0.4, 0.3, 0.3), n)], terms)
    month_end = (np.array([c.month_end_terms for c in country_obj])[combo_of] & business
                 & (rng.random(n) < 0.6) & ~autopay)

    # Invoice sizes: log-normal per customer, businesses larger; some pay a fixed subscription price.
    typical_usd = np.exp(rng.normal(np.where(business, np.log(600.0), np.log(60.0)), 0.8))
    amount_mu = np.log(typical_usd * value_per_usd)
    amount_sigma = 0.15 + 0.45 * rng.random(n)
    fixed_price = np.isin(cadence, (MONTHLY, SEMIMONTHLY)) & (rng.random(n) < 0.45)
    price_rises = rng.random(n) < 0.4

    late_logit = np.select(
        [archetype == PUNCTUAL, archetype == LATE, archetype == ONE_OFF, archetype == AUTOPAY],
        [rng.normal(-2.6, 0.5, n), rng.normal(1.0, 0.6, n), rng.normal(-0.6, 0.8, n),
         rng.normal(-0.3, 0.6, n)],
        rng.normal(-2.2, 0.4, n))
    late_scale = np.where(archetype == LATE, 10 + 12 * rng.random(n), 4 + 6 * rng.random(n))
    never_pay = np.select([archetype == LATE, archetype == ONE_OFF], [0.10, 0.05], 0.006)
    partial = np.select([archetype == LATE, archetype == DETERIORATING, autopay], [0.15, 0.08, 0.0], 0.035)
    first_bad = rng.integers(0, 12, n)
    third = rng.random(n) < 0.5
    bad_months = ((1 << first_bad) | (1 << ((first_bad + 1) % 12))
                  | np.where(third, 1 << ((first_bad + 2) % 12), 0)).astype(np.int64)
    history = max(1, end - start)
    decline_onset = np.maximum(signup, start) + np.floor(rng.random(n) * history * 0.5).astype(np.int64)
    decline_ramp = (90 + rng.random(n) * 180).astype(np.int64)

    # Habits: the weekday and local hour a customer usually pays at.
    weekday_w = np.where(business[:, None], [0.2, 0.2, 0.2, 0.15, 0.25, 0.0, 0.0],
                         [0.15, 0.14, 0.14, 0.14, 0.15, 0.16, 0.12])
    habit_weekday = (rng.random(n)[:, None] >= np.cumsum(weekday_w, axis=1)).sum(axis=1).clip(0, 6)
    person_hour = np.array([7, 8, 12, 13, 18, 19, 20, 21])[choice(rng, (0.1, 0.12, 0.1, 0.1, 0.14, 0.16,
                                                                           0.16, 0.12), n)]
    business_hour = np.clip(np.round(rng.normal(11, 2, n)), 8, 17).astype(np.int64)
    habit_minute = np.where(business, business_hour, person_hour) * 60 + rng.integers(0, 60, n)
    habit_strength = 0.5 + 0.45 * rng.random(n)
    autopay_fail = np.where(rng.random(n) < 0.1, 0.25, 0.03)

    # Engagement: which electronic channel past reminders went to, and how the customer reacts.
    electronic = np.select(
        [(channel == 0) & consent_email, (channel == 1) & consent_sms, (channel == 3) & consent_push,
         consent_email, consent_sms],
        [CHANNELS.index("email"), CHANNELS.index("sms"), CHANNELS.index("push"), CHANNELS.index("email"),
         CHANNELS.index("sms")], -1)
    message_channel = np.where(do_not_contact, -1, electronic)
    engaged = (message_channel >= 0) & (rng.random(n) < 0.7)
    open_rate = rng.beta(2.5, 2.5, n)
    click_rate = rng.beta(1.5, 6.0, n)
    bounce_rate = np.where(rng.random(n) < 0.03, 0.9, 0.01)

    address = addresses(rng, lang, [r.cities for r in region_obj], combo_of)

    width = max(6, len(str(n)))
    ids = pl.Series("customer_id", np.arange(1, n + 1)).cast(pl.String).str.zfill(width)
    region_code = pl.Series([r.code for r in region_obj], dtype=pl.String).gather(combo_of)
    customers = pl.DataFrame({
        "customer_id": "C" + ids,
        "name": name,
        "email": email,
        "phone": pl.Series(phone).scatter(np.flatnonzero(~has_phone), None) if (~has_phone).any() else phone,
        "country": country,
        "region": region_code,
        "timezone": pl.Series(zones).gather(zone),
        "locale": locale,
        "preferred_channel": preferred,
        "consent_email": consent_email,
        "consent_sms": consent_sms,
        "consent_letter": consent_letter,
        "consent_push": consent_push,
        "do_not_contact": do_not_contact,
        "address_line1": address["address_line1"],
        "address_line2": address["address_line2"],
        "postal_code": address["postal_code"],
        "city": address["city"],
        "signup_date": date_series("signup_date", signup),
        "autopay": autopay,
        "payment_method": method_name,
    })
    return Population(
        customers=customers, zones=zones, zone=zone, currencies=currencies, currency=currency,
        minor_exponent=minor_exponent,
        signup_day=signup, business=business, archetype=archetype, cadence=cadence, anchor_day=anchor_day,
        monthly_rate=monthly_rate, terms_days=terms, month_end_terms=month_end, amount_mu=amount_mu,
        amount_sigma=amount_sigma, fixed_price=fixed_price, price_rises=price_rises, late_logit=late_logit,
        late_scale=late_scale, never_pay=never_pay, partial=partial, bad_months=bad_months,
        decline_onset=decline_onset, decline_ramp=decline_ramp, habit_weekday=habit_weekday,
        habit_minute=habit_minute, habit_strength=habit_strength, autopay_fail=autopay_fail, method=method,
        message_channel=message_channel, engaged=engaged, open_rate=open_rate, click_rate=click_rate,
        bounce_rate=bounce_rate,
    )
