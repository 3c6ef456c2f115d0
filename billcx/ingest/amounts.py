"""Amounts of money from text to integer minor units, exactly (never through a float).

Accepted, around the digits: a currency symbol or ISO code (the code must be the row's currency),
a sign before or after the number, parentheses for negatives (accounting style ``(12.50)``),
thousands separators in groups of three, and the decimal separator of the file (``.`` by default,
``,`` when the mapping says so or the file's amounts show it).  An amount with more decimals than
its currency has (``12.345`` USD) is rejected rather than rounded; extra zeros are fine.

With ``money_unit = "minor"`` the text is already in minor units (cents) and must be whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from billcx.money import exponent, is_currency

_SYMBOLS = "$€£¥₹₩₽¢₺₫₴₦₱฿₪"
_SPACES = "\u00a0\u202f\u2009 "
MAX_INT_DIGITS = 15  # int64 minor units hold 9.2e18; 15 digits leave room for 3 decimals


@dataclass(frozen=True)
class MoneyOptions:
    """How amounts are written in one file.

    Attributes:
        decimal: the decimal separator, ``.`` or ``,``.
        thousands: the thousands separator, or None for any of comma/apostrophe/spaces (decimal
            ``.``) or dot/apostrophe/spaces (decimal ``,``).
        unit: ``major`` (12.50) or ``minor`` (1250).
    """

    decimal: str = "."
    thousands: str | None = None
    unit: str = "major"

    def group_class(self) -> str:
        """Regex class of accepted thousands separators."""
        if self.thousands is not None:
            return re.escape(self.thousands) if self.thousands else ""
        base = ",'’" if self.decimal == "." else ".'’"
        return re.escape(base) + _SPACES

    def example(self) -> str:
        """An example amount in this style, for messages."""
        if self.unit == "minor":
            return "123456 (minor units)"
        return "1234.56" if self.decimal == "." else "1234,56"


def detect_decimal(samples: pl.Series) -> tuple[str, str]:
    """Guess the decimal separator from sample amounts; returns (separator, plain reason).

    A comma followed by one or two final digits (``12,5``, ``1.234,56``) can only be a decimal comma;
    a dot followed by one, two or four-plus final digits only a decimal point.
    """
    text = samples.drop_nulls().str.strip_chars()
    comma = int(text.str.contains(r",\d{1,2}\)?\s*[A-Z]{0,3}$|,\d{1,2}-$").sum())
    dot = int(text.str.contains(r"\.(\d{1,2}|\d{4,})\)?\s*[A-Z]{0,3}$|\.\d{1,2}-$").sum())
    if comma and not dot:
        return ",", f"decimal comma detected ({comma} sample amounts such as 12,50)"
    if comma and dot:
        return ".", (
            f"decimal point assumed: {dot} sample amounts are written like 12.50 and {comma} like "
            "12,50 (those are read with a decimal comma, their only reading)"
        )
    return ".", ""


def parse_amounts(
    values: pl.Series, currencies: pl.Series, opts: MoneyOptions
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Parse distinct (amount text, currency) pairs.

    Args:
        values: stripped, non-empty amount texts.
        currencies: the row's currency (upper case, may be null or unknown).
        opts: separators and unit.

    Returns:
        (minor units Int64 or null, code: "" ok / "invalid_amount" / "amount_precision",
        detail text for precision failures).
    """
    exps = {c: exponent(c) for c in currencies.unique().drop_nulls().to_list() if is_currency(c)}
    frame = pl.DataFrame({"t": values, "cur": currencies})
    exp = (
        pl.col("cur").replace_strict(exps, default=2, return_dtype=pl.Int64) if exps else pl.lit(2, pl.Int64)
    )
    t = pl.col("t")
    neg_paren = t.str.starts_with("(") & t.str.ends_with(")")
    body = t.str.strip_prefix("(").str.strip_suffix(")").str.strip_chars(_SPACES)
    code = pl.coalesce(body.str.extract(r"^([A-Z]{3})", 1), body.str.extract(r"([A-Z]{3})$", 1))
    body = body.str.replace(r"^[A-Z]{3}", "").str.replace(r"[A-Z]{3}$", "").str.strip_chars(_SPACES)
    # Letters glued to a symbol belong to it: A$, US$, C$, R$, $US.
    body = body.str.replace(rf"^[A-Za-z]{{1,3}}([{_SYMBOLS}])", "$1").str.replace(
        rf"([{_SYMBOLS}])[A-Za-z]{{1,3}}$", "$1"
    )
    body = body.str.strip_chars(_SYMBOLS + _SPACES)
    lead = body.str.extract(r"^([-+−])", 1)
    trail = body.str.extract(r"([-+−])$", 1)
    body = body.str.strip_chars("-+−").str.strip_chars(_SYMBOLS + _SPACES)
    d = re.escape(opts.decimal)
    g = opts.group_class()
    # The other separator followed by 1-2 or 4+ final digits cannot be a thousands separator (those
    # group by three), so it can only be a decimal one: "144,13" in a file of "12.50" reads 144.13.
    other = "," if opts.decimal == "." else "."
    only_reading = body.str.contains(rf"^\d+{re.escape(other)}(\d{{1,2}}|\d{{4,}})$")
    body = pl.when(only_reading).then(body.str.replace(other, opts.decimal, literal=True)).otherwise(body)
    grouped = rf"^\d{{1,3}}(?:[{g}]\d{{3}})+(?:{d}\d*)?$" if g else r"^$"
    plain = rf"^\d+(?:{d}\d*)?$|^{d}\d+$"
    shape_ok = body.str.contains(plain) | body.str.contains(grouped)
    signs_ok = (lead.is_null() | trail.is_null()) & ~(neg_paren & (lead.is_not_null() | trail.is_not_null()))
    code_ok = code.is_null() | (code == pl.col("cur"))
    parts = body.str.split_exact(opts.decimal, 1)
    int_text = parts.struct.field("field_0").str.replace_all(rf"[{g}]" if g else "^$", "")
    frac = parts.struct.field("field_1").fill_null("")
    negative = neg_paren | lead.is_in(["-", "−"]) | trail.is_in(["-", "−"])
    frame = frame.with_columns(
        ok=(shape_ok & signs_ok & code_ok).fill_null(False),
        int_text=pl.when(int_text == "").then(pl.lit("0")).otherwise(int_text),
        frac=frac,
        negative=negative.fill_null(False),
        exp=exp,
    )
    if opts.unit == "minor":
        frame = frame.with_columns(exp=pl.lit(0, pl.Int64))
    frac_c = pl.col("frac")
    kept = frac_c.str.slice(0, pl.col("exp"))
    excess_zero = frac_c.str.slice(pl.col("exp")).str.contains(r"^0*$")
    too_long = pl.col("int_text").str.len_chars() > MAX_INT_DIGITS
    # Pad the kept decimals to the widest exponent present, then cut each row to its own.
    width = int(frame.select(pl.col("exp").max().fill_null(0)).item())
    frac_minor = (kept + pl.lit("0" * width)).str.slice(0, pl.col("exp"))
    minor = pl.col("int_text").cast(pl.Int64, strict=False) * pl.lit(10, pl.Int64).pow(
        pl.col("exp")
    ) + pl.when(pl.col("exp") > 0).then(frac_minor.cast(pl.Int64, strict=False)).otherwise(0)
    signed = pl.when(pl.col("negative")).then(-minor).otherwise(minor)
    precise = excess_zero & ~too_long
    out = frame.select(
        value=pl.when(pl.col("ok") & precise).then(signed),
        code=pl.when(~pl.col("ok"))
        .then(pl.lit("invalid_amount"))
        .when(~precise)
        .then(pl.lit("amount_precision"))
        .otherwise(pl.lit("")),
        detail=pl.when(too_long)
        .then(pl.lit(f"an amount below 10^{MAX_INT_DIGITS}"))
        .when(pl.lit(opts.unit == "minor"))
        .then(pl.lit("whole minor units (money_unit = minor)"))
        .otherwise(
            pl.format("at most {} decimals for {}", pl.col("exp"), pl.col("cur").fill_null("the currency"))
        ),
    )
    return out["value"], out["code"], out["detail"]
