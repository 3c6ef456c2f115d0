"""Dates and timestamps from text, vectorised, with day/month ambiguity reported, never guessed.

Formats are strftime patterns tried in order.  Two formats with the same layout but fields in a
different order (``%d/%m/%Y`` and ``%m/%d/%Y``) make ``03/04/2024`` ambiguous: it is rejected as
``ambiguous_date`` unless ``dayfirst`` decides.  ``13/04/2024`` reads one way only and is accepted.

Work is done on distinct values (a date column of ten million rows holds a few thousand), so
trying many formats costs almost nothing; timestamps, mostly distinct, are parsed in a cascade
where each further format only sees the values the earlier ones could not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from billcx.schema import UTC_INSTANT

DEFAULT_DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y%m%d",
    "%d %b %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
)
DEFAULT_INSTANT_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%d %H:%M%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_DIRECTIVE = re.compile(r"%[-_0^#]?[.:#]?\d?[A-Za-z]")
_FIELD_ORDER = {"d": "d", "e": "d", "m": "m", "b": "m", "B": "m", "h": "m", "Y": "y", "y": "y", "j": "j"}
# Time of day that says nothing: exported dates often carry it ("2024-01-05 00:00:00").
_MIDNIGHT = r"[ T]00:00(:00(\.0+)?)?(Z|[+-]00:?00)?$"
_EXCEL_EPOCH_DAYS = -25569  # 1899-12-30 relative to 1970-01-01 (spreadsheet serial day 0)


def skeleton(fmt: str) -> str:
    """The layout of a format: its literals with every field as ``D`` (``%d/%m/%Y`` -> ``D/D/D``)."""
    return _DIRECTIVE.sub("D", fmt)


def field_order(fmt: str) -> str:
    """The order of day, month and year fields (``%d/%m/%Y`` -> ``dmy``)."""
    return "".join(_FIELD_ORDER.get(m.group()[-1], "") for m in _DIRECTIVE.finditer(fmt))


def describe(fmt: str) -> str:
    """A format as people write it (``%d/%m/%Y`` -> ``DD/MM/YYYY``)."""
    words = {
        "%Y": "YYYY",
        "%y": "YY",
        "%m": "MM",
        "%d": "DD",
        "%b": "Mon",
        "%B": "Month",
        "%H": "hh",
        "%M": "mm",
        "%S": "ss",
        "%.f": "[.fff]",
        "%z": "±hh:mm",
        "%:z": "±hh:mm",
        "%#z": "±hh:mm",
    }
    return _DIRECTIVE.sub(lambda m: words.get(m.group(), m.group()), fmt)


@dataclass(frozen=True)
class DateOptions:
    """How a date or timestamp column is read.

    Attributes:
        formats: strftime formats tried in order.
        dayfirst: None reports day/month ambiguity; True/False decides it.
        naive_timezone: zone of timestamps written without an offset (and of plain dates read as
            timestamps); None (the default) rejects them: which zone a bare "19:56" is in would
            be a guess.
        excel_serials: plain numbers are spreadsheet serial dates (XLSX inputs).
    """

    formats: tuple[str, ...]
    dayfirst: bool | None = None
    naive_timezone: str | None = None
    excel_serials: bool = False

    def ordered(self) -> tuple[str, ...]:
        """Formats in the order they decide: with ``dayfirst`` set, its reading comes first."""
        if self.dayfirst is None:
            return self.formats
        first = "dm" if self.dayfirst else "md"

        def rank(fmt: str) -> int:
            order = field_order(fmt).replace("y", "")
            return 0 if order in ("", first) else 1

        return tuple(sorted(self.formats, key=rank))


@dataclass(frozen=True)
class Parsed:
    """Outcome for a batch of distinct values: value, and why not when there is none."""

    value: pl.Series
    ambiguous: pl.Series  # bool: several readings and nothing decides
    readings: pl.Series | None  # text of the readings, for the reject message


def parse_dates(values: pl.Series, opts: DateOptions, *, explain: bool) -> Parsed:
    """Parse distinct, stripped, non-empty ``values`` as dates (see module doc)."""
    text = values.str.replace(_MIDNIGHT, "")
    formats = opts.ordered()
    cands = [text.str.strptime(pl.Date, f, strict=False) for f in formats]
    if opts.excel_serials:
        serial = text.str.extract(r"^(\d{4,6})(?:\.0+)?$").cast(pl.Int32, strict=False)
        cands.append((serial + _EXCEL_EPOCH_DAYS).cast(pl.Date))
    frame = pl.DataFrame({f"c{i}": c for i, c in enumerate(cands)}) if cands else pl.DataFrame()
    value = (
        frame.select(pl.coalesce(pl.all())).to_series()
        if cands
        else pl.Series([None] * len(values), dtype=pl.Date)
    )
    ambiguous = pl.Series([False] * len(values))
    readings = None
    if opts.dayfirst is None and len(cands) > 1:
        differs = {f"d{i}": (c.is_not_null() & (c != value)).fill_null(False) for i, c in enumerate(cands)}
        ambiguous = pl.DataFrame(differs).select(pl.any_horizontal(pl.all())).to_series()
        if explain and ambiguous.any():
            labels = [describe(f) for f in formats] + (["serial"] if opts.excel_serials else [])
            parts = [
                pl.when(c.is_not_null()).then(c.cast(pl.String) + f" ({label})")
                for c, label in zip(cands, labels, strict=True)
            ]
            readings = pl.select(
                pl.concat_list(parts).list.drop_nulls().list.unique(maintain_order=True).list.join(" or ")
            ).to_series()
    return Parsed(value, ambiguous, readings)


def parse_instants(values: pl.Series, opts: DateOptions) -> tuple[pl.Series, pl.Series]:
    """Parse stripped, non-empty ``values`` as UTC instants.

    Returns:
        (instants in UTC, whether each was read without an offset and so in ``naive_timezone``).
    """
    text = values.str.replace(r"(?i)(?:Z|\s*UTC)$", "+00:00")
    out = pl.Series([None] * len(values), dtype=UTC_INSTANT)
    naive = pl.Series([False] * len(values))
    todo = pl.Series(range(len(values)), dtype=pl.UInt32)
    for fmt in opts.formats:
        if todo.is_empty():
            break
        aware = is_aware(fmt)
        if not aware and opts.naive_timezone is None:
            continue
        sub = text.gather(todo)
        if aware:
            got = sub.str.strptime(UTC_INSTANT, fmt, strict=False)
        else:
            local = sub.str.strptime(pl.Datetime("us"), fmt, strict=False)
            got = local.dt.replace_time_zone(
                opts.naive_timezone, ambiguous="earliest", non_existent="null"
            ).dt.convert_time_zone("UTC")
        ok = got.is_not_null()
        hit = todo.filter(ok)
        out = out.scatter(hit, got.filter(ok))
        if not aware:
            naive = naive.scatter(hit, True)
        todo = todo.filter(~ok)
    return out, naive


def is_aware(fmt: str) -> bool:
    """The format reads a UTC offset."""
    return any(d in fmt for d in ("%z", "%:z", "%#z", "%Z"))


def lacks_offset(values: pl.Series, opts: DateOptions) -> pl.Series:
    """Which values would read as timestamps if only their zone were known (for the message)."""
    hit = pl.Series([False] * len(values))
    for fmt in opts.formats:
        if not is_aware(fmt):
            hit = hit | values.str.strptime(pl.Datetime("us"), fmt, strict=False).is_not_null()
    return hit


def describe_formats(formats: tuple[str, ...], *, limit: int = 4) -> str:
    """The first few formats in words, for reject messages."""
    shown = [describe(f) for f in formats[:limit]]
    more = len(formats) - limit
    return ", ".join(shown) + (f" (or {more} more)" if more > 0 else "")
