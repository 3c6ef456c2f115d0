"""The fast first reading of every row: plain polars expressions for the common, clean case.

Ingest reads each file twice at most.  The first pass (this module) accepts a value only in the
plainest spelling its kind has -- ``2024-01-05`` in a column whose sample shows that layout, ``1234.56``,
``USD``, ``true`` -- and flags every other row.  The second pass runs the full parsers of
``parse.py`` on the flagged rows only: it recovers the rows they accept (``$1,234.56``,
`` 2024-01-05``) and explains the rest.

The rule that keeps this correct: whatever the first pass accepts, the full parser would read the
same way.  Each function below says why that holds for its kind; ``tests/ingest`` checks it on
generated values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from billcx.ingest.dates import DateOptions, is_aware, parse_dates, parse_instants
from billcx.ingest.parse import FALSE_WORDS, TRUE_WORDS, ParseOptions, Target
from billcx.money import exponent, known_currencies
from billcx.schema import UTC_INSTANT, Kind

_OUTER_SPACE_OR_CONTROL = r"^\s|\s$|[\x00-\x1f\x7f]"
_CONTACT = (Kind.EMAIL, Kind.PHONE, Kind.COUNTRY, Kind.TIMEZONE, Kind.LOCALE, Kind.TEXT)


PRE = "__pre__"


@dataclass(frozen=True)
class Fast:
    """The first-pass reading of one target: typed value, and whether the row may stay.

    ``pre`` (when set) is a struct-valued expression that must be computed first as column
    ``__pre__<target>``; ``value``, ``ok`` and ``naive`` then read its fields.  polars does not
    share a Python function's result between expressions, so this runs each function once.
    """

    value: pl.Expr
    ok: pl.Expr
    naive: pl.Expr | None = None  # timestamps read without an offset (counted for the report)
    pre: pl.Expr | None = None


@lru_cache(maxsize=1)
def _exponent_sets() -> tuple[list[str], list[str]]:
    codes = sorted(known_currencies())
    return [c for c in codes if exponent(c) == 0], [c for c in codes if exponent(c) == 3]


def exponent_expr(currency: pl.Expr) -> pl.Expr:
    """Minor-unit digits of each row's currency (2 for unknown codes: the currency check rejects those)."""
    zero, three = _exponent_sets()
    return (
        pl.when(currency.is_in(zero))
        .then(pl.lit(0, pl.Int64))
        .when(currency.is_in(three))
        .then(pl.lit(3, pl.Int64))
        .otherwise(pl.lit(2, pl.Int64))
    )


def fast_expr(target: Target, opts: ParseOptions, *, currency: pl.Expr | None) -> Fast:
    """The first-pass expression for ``target`` (see the module doc)."""
    raw = pl.col(target.source)
    kind = target.column.kind
    present = raw.is_not_null()
    if target.values is not None:
        return _mapped(target, raw)
    if kind is Kind.ID:
        # Full parser: strip, then reject control characters; without outer spaces both agree.
        ok = ~raw.str.contains(_OUTER_SPACE_OR_CONTROL).fill_null(False)
        return Fast(raw, _need(ok, present, target))
    if kind in _CONTACT:
        # Kept as read (contacts are normalised later from this same text).
        return Fast(raw, _need(pl.lit(True), present, target))
    if kind is Kind.CURRENCY:
        ok = raw.is_in(sorted(known_currencies())) | raw.is_null()
        return Fast(raw, _need(ok, present, target))
    if kind is Kind.CHOICE:
        ok = raw.is_in(list(target.column.choices or ())) | raw.is_null()
        return Fast(raw, _need(ok, present, target))
    if kind is Kind.BOOL:
        words = {w: True for w in TRUE_WORDS} | {w: False for w in FALSE_WORDS}
        words |= {w.capitalize(): v for w, v in words.items()} | {w.upper(): v for w, v in words.items()}
        # Membership tests, not replace_strict: they stream (replace_strict made polars' streaming
        # engine hold the whole column, ~40 MiB per million rows).
        yes = sorted(w for w, v in words.items() if v)
        no = sorted(w for w, v in words.items() if not v)
        value = pl.when(raw.is_in(yes)).then(pl.lit(True)).when(raw.is_in(no)).then(pl.lit(False))
        return Fast(value, _need(value.is_not_null() | raw.is_null(), present, target))
    if kind is Kind.DATE:
        return _date(target, raw, opts.dates)
    if kind is Kind.INSTANT:
        return _instant(target, raw, opts.instants)
    if kind is Kind.MONEY:
        return _money(target, raw, opts, currency)
    raise NotImplementedError(f"ingest does not read {kind.value} columns ({target.column.name})")


def _need(ok: pl.Expr, present: pl.Expr, target: Target) -> pl.Expr:
    return ok & present if target.must_have else ok


def _mapped(target: Target, raw: pl.Expr) -> Fast:
    """Value maps: exact keys (as written, lower case, upper case) only; the full parser matches any case."""
    assert target.values is not None
    kind = target.column.kind
    table: dict[str, str] = {}
    for key, text in target.values.items():
        for variant in (key, key.capitalize(), key.upper()):
            table.setdefault(variant, text)
    mapped = raw.replace_strict(table, default=None, return_dtype=pl.String)
    if kind is Kind.BOOL:
        value = mapped.replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean)
    elif kind is Kind.CHOICE:
        value = pl.when(mapped.is_in(list(target.column.choices or ()))).then(mapped)
    elif kind in _CONTACT or kind is Kind.ID:
        value = mapped
    else:
        return Fast(pl.lit(None, target.column.dtype), pl.lit(False))  # full parser decides
    ok = value.is_not_null() | raw.is_null()
    return Fast(value, _need(ok, raw.is_not_null(), target))


_PROBES = tuple(
    dt.date(y, m, d)
    for y, m, d in (
        (2024, 1, 5),
        (2031, 12, 11),
        (1999, 10, 10),
        (2024, 2, 29),
        (2010, 7, 8),
        (2023, 11, 30),
        (2005, 3, 4),
    )
)


@lru_cache(maxsize=64)
def exclusive_format(formats: tuple[str, ...]) -> tuple[str, int] | None:
    """The first format and the fixed width it writes, when no other format of the list reads
    what it writes (probed on dates whose day and month could swap).  The fast pass then reads
    with it alone, and only values of exactly that width: polars' ``%Y`` also reads two digits,
    so ``24-01-05`` could be read by other formats too."""
    first, others = formats[0], formats[1:]
    written = [d.strftime(first) for d in _PROBES]
    if len({len(w) for w in written}) != 1:
        return None
    probes = pl.Series(written)
    if probes.str.strptime(pl.Date, first, strict=False).to_list() != list(_PROBES):
        return None
    for other in others:
        if probes.str.strptime(pl.Date, other, strict=False).is_not_null().any():
            return None
    return first, len(written[0].encode())


def _date(target: Target, raw: pl.Expr, base: DateOptions) -> Fast:
    """One native format when it cannot be confused with any other; else the full parser on
    distinct values.

    With the first format exclusive (``%Y-%m-%d`` among the defaults), a value it reads is read the
    same way by the full parser, and anything else is flagged for it.  Otherwise the full parser
    runs in the first pass, once per distinct value.

    Distinct values are remembered across batches (a date column of ten million rows holds a few
    thousand), so each batch costs a hash lookup per row and the parser runs on new values only.
    """
    opts = (
        base
        if not target.formats
        else DateOptions(target.formats, base.dayfirst, base.naive_timezone, base.excel_serials)
    )
    must = target.must_have
    only = exclusive_format(opts.ordered())
    if only is not None:
        fmt, width = only
        value = pl.when(raw.str.len_bytes() == width).then(raw.str.strptime(pl.Date, fmt, strict=False))
        return Fast(value, _need(value.is_not_null() | raw.is_null(), raw.is_not_null(), target))
    seen: list[pl.DataFrame] = [
        pl.DataFrame(schema={"k": pl.String(), "value": pl.Date(), "ok": pl.Boolean()})
    ]

    def run(s: pl.Series) -> pl.Series:
        known = seen[0]
        uniq = s.drop_nulls().unique()
        new = uniq.filter(~uniq.is_in(known["k"].implode()))
        if len(new):
            text = new.str.strip_chars()
            parsed = parse_dates(text, opts, explain=False)
            ok = parsed.value.is_not_null() & ~parsed.ambiguous
            added = pl.DataFrame({"k": new, "value": parsed.value, "ok": ok})
            known = pl.concat([known, added])
            seen[0] = known  # a race between threads only loses cache entries, never results
        back = pl.DataFrame({"k": s}).join(known, on="k", how="left", maintain_order="left")
        empty = (
            (s.is_null() | (s.str.strip_chars() == "")).fill_null(True)
            if not must
            else pl.Series([False] * len(s))
        )
        return back.select(
            value=pl.when(pl.col("ok").fill_null(False)).then(pl.col("value")),
            ok=pl.col("ok").fill_null(False) | pl.lit(empty),
        ).to_struct()

    pre = raw.map_batches(
        run, return_dtype=pl.Struct({"value": pl.Date(), "ok": pl.Boolean()}), is_elementwise=True
    )
    parsed = pl.col(PRE + target.name).struct
    return Fast(parsed.field("value"), parsed.field("ok"), pre=pre)


def _instant(target: Target, raw: pl.Expr, base: DateOptions) -> Fast:
    """The first format natively when it reads offsets (the full parser tries formats in order and
    keeps the first reading, so a value it reads is read the same way there); otherwise the full
    cascade, minus trimming."""
    opts = base if not target.formats else DateOptions(target.formats, None, base.naive_timezone)
    if opts.formats and is_aware(opts.formats[0]):
        value = raw.str.strptime(UTC_INSTANT, opts.formats[0], strict=False)
        return Fast(
            value, _need(value.is_not_null() | raw.is_null(), raw.is_not_null(), target), pl.lit(False)
        )

    def run(s: pl.Series) -> pl.Series:
        value = pl.Series([None] * len(s), dtype=target.column.dtype)
        naive = pl.Series([False] * len(s))
        present = s.is_not_null().arg_true()
        if len(present):
            got, got_naive = parse_instants(s.gather(present), opts)
            value, naive = value.scatter(present, got), naive.scatter(present, got_naive)
        return pl.DataFrame({"value": value, "naive": naive}).to_struct()

    dtype = pl.Struct({"value": target.column.dtype, "naive": pl.Boolean()})
    pre = raw.map_batches(run, return_dtype=dtype, is_elementwise=True)
    parsed = pl.col(PRE + target.name).struct
    value = parsed.field("value")
    return Fast(
        value,
        _need(value.is_not_null() | raw.is_null(), raw.is_not_null(), target),
        parsed.field("naive"),
        pre=pre,
    )


def _money(target: Target, raw: pl.Expr, opts: ParseOptions, currency: pl.Expr | None) -> Fast:
    """Plain amounts: at most 13 digits and 2 decimals, which a float holds exactly enough to round.

    ``1234.5`` and ``1234.56`` become 123450 and 123456 minor units for 2- and 3-decimal
    currencies; a zero-decimal currency only takes whole numbers here.  Anything else (symbols,
    separators, parentheses, 12.345, 12.50 JPY) goes to the full parser.
    """
    cur = currency if currency is not None else pl.lit(opts.default_currency, pl.String)
    if opts.default_currency is not None and currency is not None:
        cur = currency.fill_null(pl.lit(opts.default_currency))
    exp = exponent_expr(cur)
    money = opts.money
    if money.unit == "minor":
        ok = raw.str.contains(r"^-?\d{1,15}$").fill_null(False)
        value = pl.when(ok).then(raw.cast(pl.Int64, strict=False))
        return Fast(value, _need(ok | raw.is_null(), raw.is_not_null(), target))
    d = "." if money.decimal == "." else ","
    ok = raw.str.contains(rf"^-?\d{{1,13}}({re.escape(d)}\d{{1,2}})?$").fill_null(False)
    ok = ok & ((exp >= 2) | ~raw.str.contains(d, literal=True).fill_null(False))
    number = raw if d == "." else raw.str.replace(",", ".", literal=True)
    scaled = (
        (number.cast(pl.Float64, strict=False) * pl.lit(10.0).pow(exp)).round(0).cast(pl.Int64, strict=False)
    )
    value = pl.when(ok).then(scaled)
    return Fast(value, _need(ok | raw.is_null(), raw.is_not_null(), target))
