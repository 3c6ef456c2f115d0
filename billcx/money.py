"""Currencies and minor units. Money is always an integer count of minor units."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

import polars as pl
from babel.numbers import get_currency_precision, list_currencies


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    """ISO 4217 codes CLDR knows (upper case)."""
    return frozenset(c.upper() for c in list_currencies())


def is_currency(code: str) -> bool:
    """Whether ``code`` is a known ISO 4217 currency code (exact, upper case)."""
    return code in known_currencies()


@lru_cache(maxsize=512)
def exponent(currency: str) -> int:
    """Number of minor-unit digits of ``currency`` (USD 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


def to_major(minor: int, currency: str) -> Decimal:
    """Exact major-unit amount of ``minor`` minor units of ``currency``."""
    return Decimal(minor).scaleb(-exponent(currency))


def to_minor(major: Decimal, currency: str) -> int:
    """Minor units of an exact major amount; raises ``ValueError`` if it has too many decimals."""
    scaled = major.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{major} has more than {exponent(currency)} decimals for {currency}")
    return int(scaled)


def major_expr(amount: str, currency: str, currencies: list[str]) -> pl.Expr:
    """A polars expression giving ``amount`` (minor units) as a major-unit decimal string.

    Used by spreadsheet exports: exact (no float), e.g. 123456 USD -> "1234.56", -5 JPY -> "-5".
    ``currencies`` lists the codes that may occur (unknown ones are taken as 2 decimals).
    """
    table = {c: exponent(c) if is_currency(c) else 2 for c in currencies if c}
    exp = pl.col(currency).replace_strict(table, default=2, return_dtype=pl.Int64)
    sign = pl.when(pl.col(amount) < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    absval = pl.col(amount).abs()
    scale = pl.lit(10, dtype=pl.Int64).pow(exp)
    whole = (absval // scale).cast(pl.String)
    frac = (absval % scale).cast(pl.String).str.zfill(exp.cast(pl.Int64))
    return (
        pl.when(pl.col(amount).is_null())
        .then(None)
        .when(exp == 0)
        .then(sign + whole)
        .otherwise(sign + whole + pl.lit(".") + frac)
    )
