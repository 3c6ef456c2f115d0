"""Contact details: normalised when that is certain, emptied with a warning when unusable.

Rules (each counted in the report, each unusable value listed in rejects.csv with its row kept):

* country: ISO 3166-1 alpha-2 in upper case; alpha-3 (``USA``), numeric (``840``) and English
  names (``France``) are rewritten to alpha-2 (CLDR's tables); anything else is emptied.
* email: trimmed, domain lower-cased, checked with ``email-validator`` (no DNS); unusable ones are
  emptied.
* phone: E.164; national formats are read with the customer's country; unusable ones are emptied.
* time zone: an IANA name (case fixed); when missing or unknown it is taken from the country if
  that country has one zone, or all its zones keep the same clock (CLDR metazones); otherwise an
  unknown zone is emptied and a missing one stays empty.
* locale: a BCP 47 tag CLDR knows, written with ``-`` (``fr_fr`` -> ``fr-FR``); else emptied.

All per-value work runs once per distinct value (or distinct number-and-country pair).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache, lru_cache

import polars as pl
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from email_validator import EmailNotValidError, validate_email

from billcx.ingest.issues import empty_issues, issues
from billcx.ingest.phones import bulk_e164, slow_e164
from billcx.ingest.readers import IDX

SRC = "__src"
_EMAIL_FAST = (
    r"^[A-Za-z0-9_%+\-]+(\.[A-Za-z0-9_%+\-]+)*@"
    r"([A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_SPECIAL_TLDS = ("arpa", "invalid", "local", "localhost", "onion", "test")
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


@dataclass
class ContactReport:
    """What normalisation did, per field: values rewritten, emptied, zones derived."""

    rewritten: dict[str, int] = field(default_factory=dict)
    emptied: dict[str, int] = field(default_factory=dict)
    timezones_derived: int = 0
    timezones_missing: int = 0


@lru_cache(maxsize=1)
def _countries() -> tuple[frozenset[str], dict[str, str]]:
    names = {str(k): str(v) for k, v in Locale("en").territories.items()}
    codes = frozenset(k for k in names if len(k) == 2 and k.isalpha() and k not in _NOT_COUNTRIES)
    lookup = {c.lower(): c for c in codes}
    for alias, targets in get_global("territory_aliases").items():
        if len(targets) == 1 and targets[0] in codes and (alias.isdigit() or len(alias) == 3):
            lookup.setdefault(alias.lower(), targets[0])
    for code, name in names.items():
        if code in codes:
            lookup.setdefault(name.lower(), code)
    return codes, lookup


def country_code(text: str) -> str | None:
    """ISO alpha-2 for a country code or English name, or None."""
    return _countries()[1].get(text.strip().lower())


@cache
def zone_ok(name: str) -> bool:
    """Whether polars (and so every later stage) knows IANA zone ``name``."""
    try:
        pl.Series([dt.datetime(2024, 1, 1)]).dt.replace_time_zone(name)
    except Exception:  # noqa: BLE001 - polars raises different errors for unknown zones
        return False
    return True


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    names = set(get_global("zone_territories")) | set(get_global("zone_aliases")) | {"UTC", "Etc/UTC"}
    return {n.lower(): n for n in sorted(names)}


def canonical_zone(text: str) -> str | None:
    """The zone as IANA spells it (case fixed), or None when unknown."""
    text = text.strip()
    if zone_ok(text):
        return text
    fixed = _zone_names().get(text.lower())
    return fixed if fixed is not None and zone_ok(fixed) else None


@cache
def country_zone(country: str) -> str | None:
    """The time zone a country decides: its only zone, or (several zones on one clock) the first
    by name; None when its zones differ (US, CA, AU, BR, ES ...)."""
    zones = get_global("territory_zones").get(country, ())
    if not zones:
        return None
    metazones = {get_global("meta_zones").get(z) for z in zones}
    if len(zones) > 1 and (len(metazones) != 1 or None in metazones):
        return None
    zone = sorted(zones)[0]
    return zone if zone_ok(zone) else None


def locale_tag(text: str) -> str | None:
    """A BCP 47 tag CLDR knows, normalised (``fr_fr`` -> ``fr-FR``), or None."""
    try:
        loc = Locale.parse(text.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    return str(loc).replace("_", "-")


def normalise_email(values: pl.Series) -> pl.Series:
    """Normalised addresses for distinct ``values`` (None where unusable)."""
    text = values.str.strip_chars()
    fast = (
        text.str.contains(_EMAIL_FAST)
        & (text.str.len_chars() <= 254)
        & ~text.str.contains("--")
        & ~text.str.to_lowercase().str.extract(r"\.([a-z]+)$", 1).is_in(list(_SPECIAL_TLDS)).fill_null(True)
        & (text.str.extract(r"^([^@]*)@", 1).str.len_chars() <= 64)
    )
    local = text.str.extract(r"^(.*)@", 1)
    domain = text.str.extract(r"@(.*)$", 1).str.to_lowercase()
    out = pl.select(pl.when(fast).then(local + "@" + domain)).to_series()
    slow = (~fast).fill_null(True).arg_true()
    if len(slow):
        checked = [_validate(v) for v in text.gather(slow).to_list()]
        out = out.scatter(slow, pl.Series(checked, dtype=pl.String))
    return out


def _validate(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def normalise(
    customers: pl.DataFrame, *, derive_timezone: bool, columns: dict[tuple[int, str], str]
) -> tuple[pl.DataFrame, pl.DataFrame, ContactReport]:
    """Normalise the contact columns of ``customers`` (which carries ``__src`` and ``__idx``).

    Args:
        customers: the customers table with raw contact text.
        derive_timezone: take missing/unknown zones from the country when it decides one.
        columns: (source position, contract column) -> input column name, for rejects.

    Returns:
        (customers with normalised contacts, warning issues, counts for the report).
    """
    report = ContactReport()
    found: list[pl.DataFrame] = []
    frame = customers

    def apply(name: str, mapping: pl.DataFrame, code: str, detail: pl.Expr | str = "") -> None:
        nonlocal frame
        before = frame[name].str.strip_chars()
        frame = frame.with_columns(__raw=pl.col(name)).join(
            mapping, on=name, how="left", maintain_order="left"
        )
        present = before.is_not_null() & (before != "")
        frame = frame.with_columns(pl.col("__new").alias(name))
        bad = frame.filter(pl.lit(present) & pl.col("__new").is_null())
        if not bad.is_empty():
            found.append(
                bad.select(
                    issues(
                        pl.col(SRC), pl.col(IDX), _input_name(columns, name), pl.col("__raw"), code, detail
                    )
                )
            )
        report.emptied[name] = bad.height
        report.rewritten[name] = frame.filter(
            pl.lit(present) & pl.col("__new").is_not_null() & (pl.col("__new") != pl.col("__raw"))
        ).height
        frame = frame.drop("__raw", "__new")

    # country first: phones and zones depend on it
    if "country" in frame.columns:
        uniq = frame["country"].drop_nulls().unique()
        apply(
            "country",
            pl.DataFrame(
                {"country": uniq, "__new": [country_code(v) for v in uniq.to_list()]},
                schema={"country": pl.String, "__new": pl.String},
            ),
            "invalid_country",
        )
    if "email" in frame.columns:
        uniq = frame["email"].drop_nulls().unique()
        apply(
            "email",
            pl.DataFrame({"email": uniq, "__new": normalise_email(uniq)}),
            "invalid_email",
            "not a valid address",
        )
    if "phone" in frame.columns:
        frame = _phones(frame, found, report, columns)
    if "timezone" in frame.columns or derive_timezone:
        frame = _zones(frame, found, report, columns, derive_timezone)
    if "locale" in frame.columns:
        uniq = frame["locale"].drop_nulls().unique()
        apply(
            "locale",
            pl.DataFrame(
                {"locale": uniq, "__new": [locale_tag(v) for v in uniq.to_list()]},
                schema={"locale": pl.String, "__new": pl.String},
            ),
            "invalid_locale",
        )
    out = pl.concat(found) if found else empty_issues()
    return frame, out, report


def _input_name(columns: dict[tuple[int, str], str], name: str) -> pl.Expr:
    """Input column name per row's source (the contract name when the source has no such column)."""
    mapping = {src: col for (src, c), col in columns.items() if c == name}
    if not mapping:
        return pl.lit(name)
    return pl.col(SRC).replace_strict(mapping, default=name, return_dtype=pl.String)


def _phones(
    frame: pl.DataFrame, found: list[pl.DataFrame], report: ContactReport, columns: dict[tuple[int, str], str]
) -> pl.DataFrame:
    country = pl.col("country") if "country" in frame.columns else pl.lit(None, pl.String)
    pairs = (
        frame.select(phone=pl.col("phone").str.strip_chars(), cc=country)
        .filter(pl.col("phone").is_not_null() & (pl.col("phone") != ""))
        .unique()
    )
    uniq = pairs["phone"].unique()
    bulk = pl.DataFrame({"phone": uniq, "__bulk": bulk_e164(uniq)})
    pairs = pairs.join(bulk, on="phone", how="left")
    todo = pairs.filter(pl.col("__bulk").is_null())
    slow = [slow_e164(p, c) for p, c in todo.select("phone", "cc").iter_rows()]
    todo = todo.with_columns(__slow=pl.Series(slow, dtype=pl.String))
    table = pairs.join(todo.select("phone", "cc", "__slow"), on=["phone", "cc"], how="left", nulls_equal=True)
    table = table.select("phone", "cc", __new=pl.coalesce("__bulk", "__slow"))
    keyed = frame.with_columns(__raw=pl.col("phone"), __key=pl.col("phone").str.strip_chars(), __cc=country)
    keyed = keyed.join(
        table.rename({"phone": "__key", "cc": "__cc"}),
        on=["__key", "__cc"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    present = pl.col("__key").is_not_null() & (pl.col("__key") != "")
    bad = keyed.filter(present & pl.col("__new").is_null())
    if not bad.is_empty():
        detail = (
            pl.when(pl.col("__cc").is_not_null())
            .then(pl.col("__cc"))
            .otherwise(pl.lit("an unknown country (write it as +<country code>...)"))
        )
        found.append(
            bad.select(
                issues(
                    pl.col(SRC),
                    pl.col(IDX),
                    _input_name(columns, "phone"),
                    pl.col("__raw"),
                    "invalid_phone",
                    detail,
                )
            )
        )
    report.emptied["phone"] = bad.height
    report.rewritten["phone"] = keyed.filter(
        present & pl.col("__new").is_not_null() & (pl.col("__new") != pl.col("__raw"))
    ).height
    return keyed.with_columns(phone=pl.col("__new")).drop("__raw", "__key", "__cc", "__new")


def _zones(
    frame: pl.DataFrame,
    found: list[pl.DataFrame],
    report: ContactReport,
    columns: dict[tuple[int, str], str],
    derive: bool,
) -> pl.DataFrame:
    if "timezone" not in frame.columns:
        frame = frame.with_columns(timezone=pl.lit(None, pl.String))
    raw = frame["timezone"].str.strip_chars()
    uniq = raw.drop_nulls().unique()
    fixed = pl.DataFrame(
        {"__key": uniq, "__fixed": [canonical_zone(v) for v in uniq.to_list()]},
        schema={"__key": pl.String, "__fixed": pl.String},
    )
    country = (
        frame["country"] if "country" in frame.columns else pl.Series([None] * frame.height, dtype=pl.String)
    )
    cuniq = country.drop_nulls().unique()
    by_country = pl.DataFrame(
        {"__cc": cuniq, "__derived": [country_zone(c) if derive else None for c in cuniq.to_list()]},
        schema={"__cc": pl.String, "__derived": pl.String},
    )
    keyed = (
        frame.with_columns(__raw=pl.col("timezone"), __key=raw, __cc=country)
        .join(fixed, on="__key", how="left", maintain_order="left")
        .join(by_country, on="__cc", how="left", maintain_order="left")
    )
    present = pl.col("__key").is_not_null() & (pl.col("__key") != "")
    unknown = present & pl.col("__fixed").is_null()
    replaced = keyed.filter(unknown & pl.col("__derived").is_not_null())
    emptied = keyed.filter(unknown & pl.col("__derived").is_null())
    name = _input_name(columns, "timezone")
    if not replaced.is_empty():
        found.append(
            replaced.select(
                issues(
                    pl.col(SRC),
                    pl.col(IDX),
                    name,
                    pl.col("__raw"),
                    "timezone_derived",
                    pl.format("{} (country {})", pl.col("__derived"), pl.col("__cc")),
                )
            )
        )
    if not emptied.is_empty():
        detail = (
            pl.when(pl.col("__cc").is_null())
            .then(pl.lit("no country to take it from"))
            .otherwise(pl.format("country {} has several zones", pl.col("__cc")))
        )
        found.append(
            emptied.select(
                issues(pl.col(SRC), pl.col(IDX), name, pl.col("__raw"), "unknown_timezone", detail)
            )
        )
    missing_derived = keyed.filter(~present & pl.col("__derived").is_not_null()).height
    report.timezones_derived = replaced.height + missing_derived
    report.emptied["timezone"] = emptied.height
    out = keyed.with_columns(timezone=pl.coalesce("__fixed", "__derived"))
    report.rewritten["timezone"] = keyed.filter(
        present & pl.col("__fixed").is_not_null() & (pl.col("__fixed") != pl.col("__raw"))
    ).height
    report.timezones_missing = out.filter(pl.col("timezone").is_null()).height
    return out.drop("__raw", "__key", "__cc", "__fixed", "__derived")
