"""Contact normalisation: fast paths never disagree with email-validator and phonenumbers."""

from __future__ import annotations

import phonenumbers
import polars as pl
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from billcx.ingest.contacts import canonical_zone, country_code, country_zone, locale_tag, normalise_email
from billcx.ingest.phones import bulk_e164, slow_e164

local = st.from_regex(r"\A[A-Za-z0-9_%+\-]{1,12}(\.[A-Za-z0-9_%+\-]{1,8}){0,2}\Z")
label = st.from_regex(r"\A[A-Za-z0-9]([A-Za-z0-9\-]{0,10}[A-Za-z0-9])?\Z")
tld = st.sampled_from(["com", "ORG", "de", "test", "local", "co", "Example", "x1"])
emails = st.builds(
    lambda a, b, c, t: f"{a}@{b}.{c}.{t}" if c else f"{a}@{b}.{t}",
    local,
    label,
    st.one_of(st.just(""), label),
    tld,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(emails, st.text(max_size=20)), min_size=1, max_size=25))
def test_email_normalisation_matches_email_validator(values: list[str]) -> None:
    got = normalise_email(pl.Series(values, dtype=pl.String)).to_list()
    for value, ours in zip(values, got, strict=True):
        try:
            expected = (
                validate_email(value.strip(), check_deliverability=False).normalized
                if value.strip()
                else None
            )
        except EmailNotValidError:
            expected = None
        assert ours == expected, value


def _numbers() -> list[str]:
    out = []
    for region in ("US", "CA", "GB", "FR", "DE", "IT", "AU", "JP", "BR", "IN", "RU", "KZ", "NL", "ES"):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            ex = phonenumbers.example_number_for_type(region, kind)
            if ex is not None:
                out.append(phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.E164))
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_numbers()), st.integers(0, 99), st.integers(0, 9)), min_size=1, max_size=30
    )
)
def test_bulk_phone_check_only_accepts_what_phonenumbers_accepts(edits: list[tuple[str, int, int]]) -> None:
    values = []
    for number, pos, digit in edits:  # mutate a digit, or keep the number as it is
        i = 1 + pos % (len(number) - 1)
        values.append(number if pos % 3 == 0 else number[:i] + str(digit) + number[i + 1 :])
    bulk = bulk_e164(pl.Series(values)).to_list()
    for value, ours in zip(values, bulk, strict=True):
        if ours is not None:
            assert ours == slow_e164(value, None) == value


def test_national_numbers_need_the_country() -> None:
    assert slow_e164("06 12 34 56 78", "FR") == "+33612345678"
    assert slow_e164("06 12 34 56 78", None) is None
    assert bulk_e164(pl.Series(["+33 6 12 34 56 78", "0612345678"])).to_list() == ["+33612345678", None]


def test_countries_zones_and_locales() -> None:
    assert [country_code(v) for v in ("us", "USA", "840", "France", "Atlantis", "EU")] == [
        "US",
        "US",
        "US",
        "FR",
        None,
        None,
    ]
    assert [country_zone(c) for c in ("FR", "DE", "US", "ES")] == [
        "Europe/Paris",
        "Europe/Berlin",
        None,
        None,
    ]
    assert (canonical_zone("europe/paris"), canonical_zone("Mars/Olympus")) == ("Europe/Paris", None)
    assert [locale_tag(v) for v in ("fr_fr", "en-us", "zz-ZZ")] == ["fr-FR", "en-US", None]
