"""Casting text columns to the contract's types, with a reject code for every value that fails.

Read text, then cast: each input column arrives as text; a value present before the cast and null
after it is an error at that line and column.  Each contract kind has one parser working on a
whole batch at once (polars expressions, applied to distinct values where that saves work), so
there is no Python loop per row.  A parser returns, per row, the typed value, a reject code
(``""`` when fine) and, when asked to explain, the detail the message needs.

Contact fields (email, phone, country, time zone, locale) only get trimmed here; ``contacts.py``
normalises them on distinct values once the customer's country is known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from billcx.ingest.amounts import MoneyOptions, parse_amounts
from billcx.ingest.dates import DateOptions, describe_formats, lacks_offset, parse_dates, parse_instants
from billcx.money import known_currencies
from billcx.schema import Column, Kind

TRUE_WORDS = ("true", "t", "yes", "y", "1", "on")
FALSE_WORDS = ("false", "f", "no", "n", "0", "off")
_BOOL_WORDS = dict.fromkeys(TRUE_WORDS, True) | dict.fromkeys(FALSE_WORDS, False)
_CONTACT = (Kind.EMAIL, Kind.PHONE, Kind.COUNTRY, Kind.TIMEZONE, Kind.LOCALE)
CODE, DETAIL = "__code__", "__detail__"
NO_OFFSET = "a UTC offset such as +01:00 or Z (for times without one, set naive_timezone in the mapping)"


@dataclass(frozen=True)
class ParseOptions:
    """Everything a file's settings say about reading values."""

    dates: DateOptions
    instants: DateOptions
    money: MoneyOptions
    default_currency: str | None = None


@dataclass(frozen=True)
class Target:
    """One output column and the raw column it is read from.

    Attributes:
        name: output column name (contract name, or ``customers.<col>`` when carried).
        column: the contract column (decides kind, choices, required).
        source: the raw frame's column (``c3``).
        values: value map (lower-cased input -> contract text) or None.
        strict: values outside the map are invalid.
        formats: date/timestamp formats for this column (empty: the file's).
        fallback: value for empty cells from the mapping (``default_currency``); an empty cell
            is then not an error and is filled (and counted) after the read.
    """

    name: str
    column: Column
    source: str
    values: dict[str, str] | None = None
    strict: bool = False
    formats: tuple[str, ...] = ()
    fallback: str | None = None

    @property
    def must_have(self) -> bool:
        """An empty cell is an error (required, not nullable and no default to fall back on)."""
        return (
            self.column.required
            and not self.column.nullable
            and self.column.default is None
            and self.fallback is None
        )


def result_dtype(column: Column, explain: bool) -> pl.Struct:
    """The struct a parser returns: value, code, detail (when explaining), naive (timestamps)."""
    fields: dict[str, pl.DataType] = {"value": column.dtype, "code": pl.String()}
    if explain:
        fields["detail"] = pl.String()
    if column.kind is Kind.INSTANT:
        fields["naive"] = pl.Boolean()
    return pl.Struct(fields)


def cell_expr(
    target: Target, opts: ParseOptions, *, explain: bool, currency: pl.Expr | None = None
) -> pl.Expr:
    """A struct expression (see :func:`result_dtype`) parsing ``target``'s raw column."""
    dtype = result_dtype(target.column, explain)
    if target.column.kind is Kind.MONEY:
        cur = currency if currency is not None else pl.lit(None, dtype=pl.String)
        return pl.struct(pl.col(target.source).alias("t"), cur.alias("cur")).map_batches(
            lambda s: parse_money_batch(s, target, opts, explain=explain),
            return_dtype=dtype,
            is_elementwise=True,
        )
    return pl.col(target.source).map_batches(
        lambda s: parse_series(s, target, opts, explain=explain), return_dtype=dtype, is_elementwise=True
    )


@dataclass
class _Out:
    value: pl.Series
    code: pl.Series
    detail: pl.Series | None = None
    naive: pl.Series | None = None


def _series(expr: pl.Expr) -> pl.Series:
    return pl.select(expr).to_series()


def _codes(mask: pl.Series, code: str) -> pl.Series:
    """``code`` where ``mask`` holds, ``""`` elsewhere."""
    return _series(pl.when(pl.lit(mask.fill_null(False))).then(pl.lit(code)).otherwise(pl.lit("")))


def _const(text: str, n: int) -> pl.Series:
    return pl.Series([text] * n, dtype=pl.String)


def _prepare(raw: pl.Series, target: Target) -> tuple[pl.Series, pl.Series]:
    """Trimmed text (null when empty) and the text after the value map (the same without one)."""
    text = raw.cast(pl.String)
    if target.column.kind is not Kind.TEXT:  # free text is kept as written
        text = text.str.strip_chars()
    text = _series(pl.when(pl.lit(text) != "").then(pl.lit(text)))
    if target.values is None:
        return text, text
    mapped = text.str.to_lowercase().replace_strict(target.values, default=None, return_dtype=pl.String)
    return text, mapped if target.strict else mapped.fill_null(text)


def _struct(out: _Out, column: Column, explain: bool) -> pl.Series:
    cols: dict[str, pl.Series] = {"value": out.value.cast(column.dtype), "code": out.code}
    if explain:
        cols["detail"] = (
            out.detail if out.detail is not None else pl.Series([None] * len(out.value), dtype=pl.String)
        )
    if column.kind is Kind.INSTANT:
        cols["naive"] = out.naive if out.naive is not None else pl.Series([False] * len(out.value))
    return pl.DataFrame(cols).to_struct()


def parse_series(raw: pl.Series, target: Target, opts: ParseOptions, *, explain: bool) -> pl.Series:
    """Parse one batch of raw text for ``target`` (see module doc); returns the result struct."""
    text, mapped = _prepare(raw, target)
    kind = target.column.kind
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise NotImplementedError(f"ingest does not read {kind.value} columns ({target.column.name})")
    out = handler(mapped, target, opts, explain)
    _finish(out, text, mapped, target, explain)
    return _struct(out, target.column, explain)


def _finish(out: _Out, text: pl.Series, mapped: pl.Series, target: Target, explain: bool) -> None:
    """Missing required values and values outside a strict value map override the parser's code."""
    missing = text.is_null() & pl.lit(target.must_have)
    unmapped = text.is_not_null() & mapped.is_null()
    missing_s, unmapped_s = _series(missing), unmapped
    out.code = _series(
        pl.when(pl.lit(missing_s))
        .then(pl.lit("missing_value"))
        .when(pl.lit(unmapped_s))
        .then(pl.lit(_invalid_code(target.column.kind)))
        .otherwise(pl.lit(out.code))
    )
    if explain:
        detail = out.detail if out.detail is not None else pl.Series([None] * len(text), dtype=pl.String)
        out.detail = _series(
            pl.when(pl.lit(missing_s))
            .then(pl.lit(f"{target.column.name} is required"))
            .when(pl.lit(unmapped_s))
            .then(pl.lit(_map_detail(target)))
            .otherwise(pl.lit(detail))
        )


def _invalid_code(kind: Kind) -> str:
    return {
        Kind.BOOL: "invalid_bool",
        Kind.DATE: "invalid_date",
        Kind.INSTANT: "invalid_instant",
        Kind.MONEY: "invalid_amount",
        Kind.CURRENCY: "unknown_currency",
    }.get(kind, "invalid_choice")


def _map_detail(target: Target) -> str:
    keys = ", ".join(sorted(target.values or {}))
    return f"one of {keys} (value map)"


Handler = Callable[[pl.Series, Target, ParseOptions, bool], _Out]


def _text(s: pl.Series, target: Target, opts: ParseOptions, explain: bool) -> _Out:
    return _Out(s, _const("", len(s)))


def _ident(s: pl.Series, target: Target, opts: ParseOptions, explain: bool) -> _Out:
    bad = s.str.contains(r"[\x00-\x1f\x7f]").fill_null(False)
    detail = (
        _series(pl.when(pl.lit(bad)).then(pl.lit("a line break or control character"))) if explain else None
    )
    return _Out(_series(pl.when(pl.lit(~bad)).then(pl.lit(s))), _codes(bad, "invalid_id"), detail)


def _bool(s: pl.Series, target: Target, opts: ParseOptions, explain: bool) -> _Out:
    value = s.str.to_lowercase().replace_strict(_BOOL_WORDS, default=None, return_dtype=pl.Boolean)
    bad = s.is_not_null() & value.is_null()
    words = "true or false (also yes/no, y/n, 1/0)"
    if target.values:
        words = f"one of {', '.join(sorted(target.values))} (value map) or {words}"
    return _Out(value, _codes(bad, "invalid_bool"), _const(words, len(s)) if explain else None)


def _choice(s: pl.Series, target: Target, opts: ParseOptions, explain: bool) -> _Out:
    choices = list(target.column.choices or ())
    key = s.str.to_lowercase().str.replace_all(r"[\s\-]+", "_")
    value = _series(pl.when(pl.lit(key).is_in(choices)).then(pl.lit(key)))
    bad = s.is_not_null() & value.is_null()
    return _Out(
        value, _codes(bad, "invalid_choice"), _const(" | ".join(choices), len(s)) if explain else None
    )


def _currency(s: pl.Series, target: Target, opts: ParseOptions, explain: bool) -> _Out:
    up = s.str.to_uppercase()
    known = up.is_in(sorted(known_currencies())).fill_null(False)
    bad = s.is_not_null() & ~known
    return _Out(_series(pl.when(pl.lit(known)).then(pl.lit(up))), _codes(bad, "unknown_currency"))


def _back(keys: pl.Series, uniq: pl.Series, cols: dict[str, pl.Series]) -> pl.DataFrame:
    """Spread results computed on distinct values back onto every row."""
    table = pl.DataFrame({"k": uniq, **cols})
    return pl.DataFrame({"k": keys}).join(table, on="k", how="left", maintain_order="left")


def _date(s: pl.Series, target: Target, opts: ParseOptions, explain: bool) -> _Out:
    base = opts.dates
    dopts = (
        base
        if not target.formats
        else DateOptions(target.formats, base.dayfirst, base.naive_timezone, base.excel_serials)
    )
    uniq = s.drop_nulls().unique().sort()
    parsed = parse_dates(uniq, dopts, explain=explain)
    code = _series(
        pl.when(pl.lit(parsed.value).is_null())
        .then(pl.lit("invalid_date"))
        .when(pl.lit(parsed.ambiguous))
        .then(pl.lit("ambiguous_date"))
        .otherwise(pl.lit(""))
    )
    cols = {"value": _series(pl.when(~pl.lit(parsed.ambiguous)).then(pl.lit(parsed.value))), "code": code}
    if explain:
        formats = pl.lit(describe_formats(dopts.formats))
        readings = pl.lit(parsed.readings) if parsed.readings is not None else formats
        cols["detail"] = _series(pl.when(pl.lit(parsed.ambiguous)).then(readings).otherwise(formats))
    back = _back(s, uniq, cols)
    return _Out(back["value"], back["code"].fill_null(""), back["detail"] if explain else None)


def _instant(s: pl.Series, target: Target, opts: ParseOptions, explain: bool) -> _Out:
    base = opts.instants
    iopts = base if not target.formats else DateOptions(target.formats, None, base.naive_timezone)
    present = s.is_not_null().arg_true()
    value = pl.Series([None] * len(s), dtype=target.column.dtype)
    naive = pl.Series([False] * len(s))
    if len(present):
        got, got_naive = parse_instants(s.gather(present), iopts)
        value, naive = value.scatter(present, got), naive.scatter(present, got_naive)
    bad = s.is_not_null() & value.is_null()
    detail = None
    if explain:
        detail = _const(describe_formats(iopts.formats), len(s))
        if iopts.naive_timezone is None and bad.any():
            no_zone = lacks_offset(s.fill_null(""), iopts) & bad
            detail = _series(pl.when(pl.lit(no_zone)).then(pl.lit(NO_OFFSET)).otherwise(pl.lit(detail)))
    return _Out(value, _codes(bad, "invalid_instant"), detail, naive)


def parse_money_batch(batch: pl.Series, target: Target, opts: ParseOptions, *, explain: bool) -> pl.Series:
    """Parse a batch of ``{t: amount text, cur: currency text}`` structs to minor units."""
    raw = batch.struct.field("t")
    cur = batch.struct.field("cur").cast(pl.String).str.strip_chars().str.to_uppercase()
    cur = _series(pl.when(pl.lit(cur) != "").then(pl.lit(cur)))
    if opts.default_currency:
        cur = cur.fill_null(opts.default_currency)
    text, mapped = _prepare(raw, target)
    pairs = pl.DataFrame({"t": mapped, "cur": cur})
    uniq = pairs.filter(pl.col("t").is_not_null()).unique().sort("t", "cur", nulls_last=True)
    value, code, detail = parse_amounts(uniq["t"], uniq["cur"], opts.money)
    table = uniq.with_columns(value=value, code=code, detail=detail)
    back = pairs.join(table, on=["t", "cur"], how="left", maintain_order="left", nulls_equal=True)
    invalid = back["code"] == "invalid_amount"
    detail_out = (
        _series(pl.when(pl.lit(invalid)).then(pl.lit(opts.money.example())).otherwise(pl.lit(back["detail"])))
        if explain
        else None
    )
    out = _Out(back["value"], back["code"].fill_null(""), detail_out)
    _finish(out, text, mapped, target, explain)
    return _struct(out, target.column, explain)


_HANDLERS: dict[Kind, Handler] = {
    Kind.ID: _ident,
    Kind.TEXT: _text,
    Kind.DATE: _date,
    Kind.INSTANT: _instant,
    Kind.CURRENCY: _currency,
    Kind.CHOICE: _choice,
    Kind.BOOL: _bool,
    **dict.fromkeys(_CONTACT, _text),
}
