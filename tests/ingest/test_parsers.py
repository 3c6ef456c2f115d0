"""Parsers: exact money, dates in many layouts, and the fast pass agreeing with the full parsers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from billcx.ingest.amounts import MoneyOptions, detect_decimal, parse_amounts
from billcx.ingest.dates import (
    DEFAULT_DATE_FORMATS,
    DEFAULT_INSTANT_FORMATS,
    DateOptions,
    parse_dates,
    parse_instants,
)
from billcx.ingest.fast import fast_expr
from billcx.ingest.parse import ParseOptions, Target, cell_expr
from billcx.schema import INVOICES

OPTS = ParseOptions(
    DateOptions(DEFAULT_DATE_FORMATS), DateOptions(DEFAULT_INSTANT_FORMATS), MoneyOptions(), None
)
cents = st.integers(min_value=-(10**12), max_value=10**12)


def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    return sep.join([digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)])


def style(value: Decimal, how: int, *, decimal: str = ".") -> str:
    """``value`` (2 decimals) written one of the ways exports write money."""
    sign, body = ("-" if value < 0 else ""), f"{abs(value):.2f}"
    whole, frac = body.split(".")
    thousands = "," if decimal == "." else "."
    number = {
        0: f"{whole}{decimal}{frac}",
        1: f"{_group(whole, thousands)}{decimal}{frac}",
        2: f"{_group(whole, ' ')}{decimal}{frac}",
        3: f"{whole}{decimal}{frac.rstrip('0') or '0'}",
    }[how % 4]
    if not sign:
        return [number, f"${number}", f"USD {number}", f"{number} USD", f"+{number}"][how % 5]
    return [f"-{number}", f"({number})", f"{number}-", f"−{number}", f"-${number}"][how % 5]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(cents, st.integers(0, 99)), min_size=1, max_size=30), st.sampled_from([".", ","]))
def test_money_written_any_way_parses_back_exactly(cases: list[tuple[int, int]], decimal: str) -> None:
    texts = [style(Decimal(amount).scaleb(-2), how, decimal=decimal) for amount, how in cases]
    got, codes, _ = parse_amounts(
        pl.Series(texts), pl.Series(["USD"] * len(texts)), MoneyOptions(decimal=decimal)
    )
    assert list(zip(got.to_list(), codes.to_list(), strict=True)) == [(a, "") for a, _ in cases], texts


@settings(max_examples=40, deadline=None)
@given(st.integers(-(10**9), 10**9), st.sampled_from(["JPY", "KWD", "EUR"]))
def test_money_respects_each_currency_exponent(amount: int, currency: str) -> None:
    exp = {"JPY": 0, "KWD": 3, "EUR": 2}[currency]
    text = str(Decimal(amount).scaleb(-exp))
    got, code, _ = parse_amounts(pl.Series([text]), pl.Series([currency]), MoneyOptions())
    assert (got[0], code[0]) == (amount, "")
    too_precise = text + "1" if "." in text else text + ".1"
    assert (
        parse_amounts(pl.Series([too_precise]), pl.Series([currency]), MoneyOptions())[1][0]
        == "amount_precision"
    )


def test_money_rejects_what_it_cannot_read_exactly() -> None:
    texts = ["1e5", "12,3,4", "1,23.45", "12.3.4", "(12)-", "abc", "$", "EUR 5"]
    _, codes, _ = parse_amounts(pl.Series(texts), pl.Series(["USD"] * len(texts)), MoneyOptions())
    assert codes.to_list() == ["invalid_amount"] * len(texts)


def test_the_other_separator_is_read_only_when_it_can_only_mean_one_thing() -> None:
    got, codes, _ = parse_amounts(
        pl.Series(["144,13", "1,234", "12,5"]), pl.Series(["USD"] * 3), MoneyOptions()
    )
    assert (got.to_list(), codes.to_list()) == ([14413, 123400, 1250], ["", "", ""])
    got, _, _ = parse_amounts(
        pl.Series(["144.13", "1.234"]), pl.Series(["EUR"] * 2), MoneyOptions(decimal=",")
    )
    assert got.to_list() == [14413, 123400]


def test_minor_units_must_be_whole() -> None:
    got, codes, _ = parse_amounts(
        pl.Series(["1250", "12.50"]), pl.Series(["USD", "USD"]), MoneyOptions(unit="minor")
    )
    assert (got.to_list(), codes.to_list()) == ([1250, None], ["", "amount_precision"])


def test_decimal_detection() -> None:
    assert detect_decimal(pl.Series(["1.234,56", "12,5"]))[0] == ","
    assert detect_decimal(pl.Series(["1,234", "12.50"]))[0] == "."
    assert detect_decimal(pl.Series(["1,234"]))[0] == "."  # three digits: could be thousands, stays "."


dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31))


@settings(max_examples=200, deadline=None)
@given(dates, st.sampled_from(DEFAULT_DATE_FORMATS))
def test_dates_in_every_default_layout_read_back_or_are_called_ambiguous(day: dt.date, fmt: str) -> None:
    text = day.strftime(fmt)
    parsed = parse_dates(pl.Series([text]), DateOptions(DEFAULT_DATE_FORMATS), explain=True)
    if parsed.ambiguous[0]:
        assert day.day <= 12 and day.month <= 12 and day.day != day.month
        assert day.isoformat() in (parsed.readings[0] or "")  # type: ignore[index]
    else:
        assert parsed.value[0] == day


@settings(max_examples=100, deadline=None)
@given(dates, st.booleans())
def test_dayfirst_decides(day: dt.date, dayfirst: bool) -> None:
    fmt = "%d/%m/%Y" if dayfirst else "%m/%d/%Y"
    parsed = parse_dates(
        pl.Series([day.strftime(fmt)]), DateOptions(DEFAULT_DATE_FORMATS, dayfirst), explain=False
    )
    assert (parsed.value[0], parsed.ambiguous[0]) == (day, False)


@settings(max_examples=150, deadline=None)
@given(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1)),
    st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15),
    st.sampled_from(["T", " "]),
    st.booleans(),
)
def test_instants_with_offsets_become_utc(
    local: dt.datetime, offset_min: int, sep: str, micros: bool
) -> None:
    local = local if micros else local.replace(microsecond=0)
    tz = dt.timezone(dt.timedelta(minutes=offset_min))
    text = local.replace(tzinfo=tz).isoformat(sep=sep)
    if offset_min == 0 and sep == "T":
        text = text.replace("+00:00", "Z")
    got, naive = parse_instants(pl.Series([text]), DateOptions(DEFAULT_INSTANT_FORMATS))
    assert got[0] == local.replace(tzinfo=tz).astimezone(dt.UTC)
    assert naive[0] is False


# Values the first pass must either leave to the full parser or read exactly as it does.
money_texts = st.one_of(
    st.from_regex(r"\A[-+]?\d{1,16}(\.\d{0,4})?\Z"),
    st.sampled_from(["1e5", ".5", "12.", " 12.50", "12.50 ", "0012.30", "-0.00", "1,234.56", "NaN", "inf"]),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(money_texts, min_size=1, max_size=20), st.sampled_from(["USD", "JPY", "KWD"]))
def test_fast_money_agrees_with_the_full_parser(texts: list[str], currency: str) -> None:
    _agree(Target("amount", INVOICES["amount"], "t"), texts, currency)


date_texts = st.one_of(
    dates.map(lambda d: d.isoformat()),
    st.builds(lambda d, f: d.strftime(f), dates, st.sampled_from(DEFAULT_DATE_FORMATS)),
    st.sampled_from(["2024-02-30", " 2024-01-05", "2024-01-05 00:00:00", "24-01-05", ""]),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(date_texts, min_size=1, max_size=20))
def test_fast_dates_agree_with_the_full_parser(texts: list[str]) -> None:
    _agree(Target("issue_date", INVOICES["issue_date"], "t"), texts, "USD")


def _agree(target: Target, texts: list[str], currency: str) -> None:
    frame = pl.DataFrame({"t": texts, "cur": [currency] * len(texts)})
    fast = fast_expr(target, OPTS, currency=pl.col("cur"))
    pre = [fast.pre.alias(f"__pre__{target.name}")] if fast.pre is not None else []
    first = frame.lazy().with_columns(*pre).select(value=fast.value, ok=fast.ok).collect()
    full = (
        frame.lazy()
        .select(cell_expr(target, OPTS, explain=True, currency=pl.col("cur")).alias("s"))
        .unnest("s")
        .collect()
    )
    for f_ok, f_val, code, value, text in zip(
        first["ok"], first["value"], full["code"], full["value"], texts, strict=True
    ):
        if f_ok:
            assert (code, value) == ("", f_val), text
