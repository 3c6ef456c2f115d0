"""Locale fallback and money formatting identical to Babel."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from billcx.money import exponent
from billcx.render.locales import babel_locale, canonical_tag, fallback_chain, format_locale, formatter

LOCALES = [
    "en",
    "en-US",
    "en-GB",
    "en-IN",
    "fr",
    "fr-CA",
    "fr-CH",
    "de",
    "de-CH",
    "de-AT",
    "es",
    "es-MX",
    "nl",
    "sv",
    "pt-BR",
    "ja",
    "ar-EG",
    "he",
]
CURRENCIES = ["EUR", "USD", "JPY", "KWD", "CHF", "GBP", "INR", "CAD"]


def test_fallback_chain() -> None:
    assert fallback_chain("fr-CA", "en") == ["fr-CA", "fr", "en"]
    assert fallback_chain("fr_ca", "en") == ["fr-CA", "fr", "en"]
    assert fallback_chain(None, "en") == ["en"]
    assert fallback_chain("not a locale", "en") == ["en"]
    assert fallback_chain("en-GB", "en") == ["en-GB", "en"]
    assert canonical_tag("zh_Hant_TW") == "zh-Hant-TW"


def test_format_locale_follows_the_template_language() -> None:
    assert format_locale("fr-CA", "fr") == "fr-CA"
    assert format_locale("ja-JP", "en") == "en"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(LOCALES), st.sampled_from(CURRENCIES), st.integers(-(10**13), 10**13))
def test_money_format_equals_babel(tag: str, currency: str, minor: int) -> None:
    loc = babel_locale(tag)
    expected = format_currency(Decimal(minor).scaleb(-exponent(currency)), currency, locale=loc)
    assert formatter(tag).money(minor, currency) == expected
