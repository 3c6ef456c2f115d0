"""Locales: choosing a template language with fallback, and formatting money and dates with Babel.

A customer's BCP 47 tag (``fr-CA``) is tried as given, then its language (``fr``), then the
default language.  Amounts and dates are written for the customer's own locale when the template
is in the customer's language (``fr-CA`` formatting in French text), otherwise for the template's
language, so a Japanese customer served English text does not get Japanese number formatting.

Babel is exact but costs ~15 us per amount.  :class:`MoneyFormat` derives the locale's currency
pattern once, formats integers of minor units with string operations, and checks itself against
Babel on probe values when built: a pattern it cannot reproduce is formatted by Babel every time.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, get_currency_symbol

from billcx.money import exponent, is_currency

_PROBES = (0, 1, 5, 42, 99, 100, 101, 999, 1000, 12345, 123456, 1234567, 100000000, 123456789012)


def canonical_tag(tag: str | None) -> str | None:
    """``fr_ca`` / ``FR-ca`` -> ``fr-CA``; None or an unparseable tag -> None."""
    if not tag or not tag.strip():
        return None
    try:
        loc = Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, UnknownLocaleError, TypeError):
        return None
    parts = [loc.language, loc.script, loc.territory, loc.variant]
    return "-".join(p for p in parts if p)


def fallback_chain(tag: str | None, default: str) -> list[str]:
    """Template languages to try, most specific first: ``fr-CA`` -> ``[fr-CA, fr, en]``."""
    chain: list[str] = []
    canon = canonical_tag(tag)
    if canon:
        parts = canon.split("-")
        for n in range(len(parts), 0, -1):
            chain.append("-".join(parts[:n]))
    if default not in chain:
        chain.append(default)
    return chain


def babel_locale(tag: str) -> Locale:
    """Babel Locale for a canonical BCP 47 tag."""
    return _babel_locale(tag)


@lru_cache(maxsize=256)
def _babel_locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


def format_locale(customer_tag: str | None, template_language: str) -> str:
    """The locale to format numbers and dates in (see the module docstring)."""
    canon = canonical_tag(customer_tag)
    if canon and canon.split("-")[0] == template_language.split("-")[0]:
        return canon
    return template_language


class MoneyFormat:
    """Formats integer minor units of one currency for one locale, exactly as Babel does."""

    def __init__(self, currency: str, locale: Locale) -> None:
        self.currency = currency
        self.locale = locale
        self.exp = exponent(currency) if is_currency(currency) else 2
        self._babel_only = False
        try:
            pattern = locale.currency_formats["standard"]
            symbol = get_currency_symbol(currency, locale)
            symbols = locale.number_symbols[locale.default_numbering_system]
            self._decimal = symbols["decimal"]
            self._group = symbols["group"]
            self._prefix = tuple(p.replace("¤", symbol) for p in pattern.prefix)
            self._suffix = tuple(s.replace("¤", symbol) for s in pattern.suffix)
            self._primary, self._secondary = pattern.grouping
            if any("¤¤" in p for p in pattern.prefix + pattern.suffix):
                raise ValueError("currency codes or names instead of a symbol")
        except (KeyError, ValueError, AttributeError):
            self._babel_only = True
        if not self._babel_only:
            self._babel_only = any(self._fast(v) != self._babel(v) for p in _PROBES for v in (p, -p))

    def _babel(self, minor: int) -> str:
        return format_currency(Decimal(minor).scaleb(-self.exp), self.currency, locale=self.locale)

    def _group_digits(self, digits: str) -> str:
        if len(digits) <= self._primary:
            return digits
        head, tail = digits[:-self._primary], digits[-self._primary:]
        groups = [tail]
        step = self._secondary or self._primary
        while len(head) > step:
            groups.append(head[-step:])
            head = head[:-step]
        if head:
            groups.append(head)
        return self._group.join(reversed(groups))

    def _fast(self, minor: int) -> str:
        neg = minor < 0
        whole, frac = divmod(-minor if neg else minor, 10 ** self.exp)
        number = self._group_digits(str(whole))
        if self.exp:
            number += self._decimal + str(frac).zfill(self.exp)
        return self._prefix[neg] + number + self._suffix[neg]

    def __call__(self, minor: int) -> str:
        """The formatted amount, e.g. ``123456`` EUR in fr-FR -> ``1\u202f234,56\xa0€``."""
        return self._babel(minor) if self._babel_only else self._fast(minor)


class Formatter:
    """Money and date formatting for one locale, with per-currency patterns and a date cache."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.locale = babel_locale(tag)
        self._money: dict[str, MoneyFormat] = {}
        self._dates: dict[tuple[dt.date, str], str] = {}

    def money(self, minor: int, currency: str) -> str:
        """``minor`` units of ``currency`` written for this locale."""
        fmt = self._money.get(currency)
        if fmt is None:
            fmt = self._money[currency] = MoneyFormat(currency, self.locale)
        return fmt(minor)

    def date(self, value: dt.date, style: str = "long") -> str:
        """A date in Babel's ``long`` (``2 November 2026``) or ``medium`` style."""
        key = (value, style)
        out = self._dates.get(key)
        if out is None:
            out = self._dates[key] = format_date(value, style, locale=self.locale)
        return out


@lru_cache(maxsize=256)
def formatter(tag: str) -> Formatter:
    """The shared :class:`Formatter` for a canonical tag (one per process)."""
    return Formatter(tag)
