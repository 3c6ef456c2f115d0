"""Phone numbers to E.164, validated with ``phonenumbers``' metadata.

``phonenumbers`` costs about 25 µs a number in Python: half a million customers would take over
ten seconds.  Numbers already written in international form (``+33 6 12 34 56 78``) are
therefore validated in bulk with polars against the same metadata ``phonenumbers`` uses (region
selection by leading digits, general and per-type patterns and lengths), and only the rest --
national formats that need the customer's country, and anything unusual -- go through
``phonenumbers`` itself, once per distinct (number, country) pair.

The bulk check only ever accepts what ``phonenumbers`` accepts with the same result (a property
test compares them); anything it is unsure of falls through to ``phonenumbers``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata

_PUNCT = r"[\s().\-/\u00a0]"
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@dataclass(frozen=True)
class _Desc:
    pattern: str
    lengths: tuple[int, ...]


@dataclass(frozen=True)
class _Region:
    code: str
    leading: str | None
    general: _Desc
    types: tuple[_Desc, ...]


def _desc(d: object) -> _Desc | None:
    pattern = getattr(d, "national_number_pattern", None)
    if d is None or pattern is None:
        return None
    return _Desc(pattern, tuple(getattr(d, "possible_length", None) or ()))


@cache
def _calling_code(cc: int) -> tuple[tuple[_Region, ...], str | None] | None:
    """Regions of calling code ``cc`` in phonenumbers' order, and the main region's national prefix
    pattern; None when the bulk check cannot mirror phonenumbers for this code."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(cc)
    if not regions or "001" in regions:
        return None
    out = []
    for code in regions:
        md = PhoneMetadata.metadata_for_region(code, None)
        if md is None:
            continue
        general = _desc(md.general_desc)
        if general is None:
            return None
        types = tuple(d for d in (_desc(getattr(md, t, None)) for t in _TYPES) if d is not None)
        out.append(_Region(code, md.leading_digits, general, types))
    main = PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_country_code(cc), None)
    prefix = main.national_prefix_for_parsing if main is not None else None
    return tuple(out), prefix or None


def _matches(frame: pl.DataFrame, desc: _Desc) -> pl.Series:
    nsn = pl.col("nsn")
    length_ok = nsn.str.len_chars().is_in(list(desc.lengths)) if desc.lengths else pl.lit(True)
    return frame.select(length_ok & nsn.str.contains(f"^(?:{desc.pattern})$")).to_series()


def _typed(frame: pl.DataFrame, region: _Region) -> pl.Series:
    """phonenumbers' number type is not UNKNOWN for ``region`` (any type matches, general too).

    Fixed-line and mobile come first: most numbers are one of them, so the other types are only
    tried on what is left.
    """
    found = pl.Series([False] * frame.height, dtype=pl.Boolean)
    if frame.is_empty():
        return found
    ok = _matches(frame, region.general)
    todo = ok
    for desc in sorted(region.types, key=lambda d: 0 if d in region.types[-2:] else 1):
        if not todo.any():
            break
        hit = pl.Series([False] * frame.height, dtype=pl.Boolean).scatter(
            todo.arg_true(), _matches(frame.filter(todo), desc)
        )
        found = found | hit
        todo = todo & ~hit
    return found


def bulk_e164(values: pl.Series) -> pl.Series:
    """E.164 for the values that are valid international numbers; null where unsure or invalid.

    Args:
        values: distinct phone texts.
    """
    compact = values.str.replace_all(_PUNCT, "")
    frame = pl.DataFrame({"v": compact}).with_row_index("i")
    frame = frame.filter(pl.col("v").str.contains(r"^\+[1-9]\d{6,16}$"))
    if frame.is_empty():
        return pl.Series([None] * len(values), dtype=pl.String)
    by_len = {
        n: sorted(c for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE if len(str(c)) == n) for n in (1, 2, 3)
    }
    # Calling codes are prefix-free: at most one of the 1-, 2- and 3-digit prefixes is one.
    head = {n: pl.col("v").str.slice(1, n).cast(pl.Int32, strict=False) for n in (1, 2, 3)}
    frame = frame.with_columns(
        cc=pl.coalesce([pl.when(head[n].is_in(by_len[n])).then(head[n]) for n in (1, 2, 3)])
    )
    frame = frame.filter(pl.col("cc").is_not_null())
    frame = frame.with_columns(nsn=pl.col("v").str.slice(pl.col("cc").cast(pl.String).str.len_chars() + 1))
    accepted: list[pl.DataFrame] = []
    for (cc,), group in frame.group_by("cc"):
        info = _calling_code(int(cc))
        if info is None:
            continue
        regions, prefix = info
        try:
            accepted.append(_check_group(group, regions, prefix))
        except pl.exceptions.ComputeError:
            continue  # a metadata pattern the polars regex engine does not take: phonenumbers decides
    out = pl.Series([None] * len(values), dtype=pl.String)
    if accepted:
        ok = pl.concat(accepted)
        out = out.scatter(ok["i"], ok["v"])
    return out


def _check_group(group: pl.DataFrame, regions: tuple[_Region, ...], prefix: str | None) -> pl.DataFrame:
    # phonenumbers picks the first region whose leading digits match (or, without leading digits,
    # whose number type is known), then validates against that region only.
    group = group.filter(pl.col("nsn").str.len_chars().is_between(2, 17))
    if prefix:
        group = group.filter(~pl.col("nsn").str.contains(f"^(?:{prefix})"))
    accepted = []
    todo = group
    for region in regions:
        if todo.is_empty():
            break
        if region.leading:
            here = todo.select(pl.col("nsn").str.contains(f"^(?:{region.leading})")).to_series()
            taken = todo.filter(here)
            accepted.append(taken.filter(_typed(taken, region)))
        else:
            here = _typed(todo, region)
            accepted.append(todo.filter(here))
        todo = todo.filter(~here)
    return pl.concat(accepted).select("i", "v") if accepted else group.clear().select("i", "v")


def slow_e164(number: str, country: str | None) -> str | None:
    """E.164 via phonenumbers (national formats read with ``country``); None when invalid."""
    try:
        parsed = phonenumbers.parse(number, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def looks_international(text: str) -> bool:
    """Written with a leading + or 00 (no country needed to read it)."""
    return bool(re.match(r"^\s*(\+|00)", text))
