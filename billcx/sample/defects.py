"""The catalogue of defects the messy sample carries, and how each one rewrites a cell.

Each defect kind names the file and column it touches, what a careful ``billcx ingest`` is expected
to do with it (``expect``), how often it occurs and which rows can carry it.  Rows that a strict
reader would reject are chosen, where possible, among invoices without payments and customers
without invoices, so one reject does not cascade into others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import phonenumbers
import polars as pl

Bools = npt.NDArray[np.bool_]
Rows = npt.NDArray[np.int64]

# What ingest does with a defect: the row is rejected; the field is emptied (row kept); the value is
# derived from other fields; it is normalised silently; the copy is collapsed; the line is skipped;
# the value is kept as it is.
REJECT, NULLED, DERIVE, NORMALISE, COLLAPSE, SKIP, KEEP = (
    "reject", "nulled", "derive", "normalise", "collapse", "skip", "keep")

_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "A$", "MXN": "$", "GBP": "£", "EUR": "€", "JPY": "¥"}
# Codes seen in real exports that are not ISO 4217 (UKP, M.N. for moneda nacional, ...).
_NOT_ISO = {"USD": "US$", "CAD": "CDN", "AUD": "AU$", "MXN": "M.N.", "GBP": "UKP", "EUR": "EURO",
            "JPY": "YEN"}
# Names of zones as Windows and Rails write them: unknown to IANA.
_WINDOWS_ZONES = {"GB": "GMT Standard Time", "IE": "GMT Standard Time", "FR": "Romance Standard Time",
                  "DE": "W. Europe Standard Time", "JP": "Tokyo Standard Time"}
_RAILS_ZONES = {
    "America/New_York": "Eastern Time (US & Canada)", "America/Chicago": "Central Time (US & Canada)",
    "America/Denver": "Mountain Time (US & Canada)", "America/Los_Angeles": "Pacific Time (US & Canada)",
    "America/Toronto": "Eastern Time (US & Canada)", "America/Vancouver": "Pacific Time (US & Canada)",
    "America/Mexico_City": "Guadalajara", "Australia/Sydney": "Sydney", "Australia/Melbourne": "Melbourne",
}


@dataclass
class Context:
    """The text tables being made messy, with what eligibility rules need to know about them."""

    frames: dict[str, pl.DataFrame]
    rng: np.random.Generator

    def column(self, table: str, name: str) -> pl.Series:
        """A column of one of the text tables."""
        return self.frames[table][name]

    def invoices_with_payments(self) -> Bools:
        """Invoices some payment row refers to."""
        paid = self.frames["payments"]["invoice_id"].drop_nulls().unique()
        return self.frames["invoices"]["invoice_id"].is_in(paid.implode()).to_numpy()

    def customers_with_invoices(self) -> Bools:
        """Customers some invoice row refers to."""
        billed = self.frames["invoices"]["customer_id"].unique()
        return self.frames["customers"]["customer_id"].is_in(billed.implode()).to_numpy()

    def amount(self, table: str) -> npt.NDArray[np.float64]:
        """Major-unit amounts of a table (approximate; for choosing rows only)."""
        return self.frames[table]["amount"].cast(pl.Float64).to_numpy()

    def dates(self, table: str, name: str) -> list[dt.date | None]:
        """A date column, parsed."""
        return self.frames[table][name].str.to_date("%Y-%m-%d", strict=False).to_list()


@dataclass(frozen=True)
class DefectKind:
    """One kind of defect: where it goes, what ingest should do, how often, which rows, how."""

    kind: str
    table: str
    column: str  # empty for whole-line defects
    expect: str
    code: str  # the code billcx ingest reports for it (billcx.ingest.codes); empty when silently fixed
    rate: float  # share of the table's rows (at least one row)
    description: str
    eligible: Callable[[Context], Bools] | None = None
    rewrite: Callable[[Context, Rows], list[str]] | None = None

    @property
    def file(self) -> str:
        """The export file carrying the defect."""
        return f"{self.table}.csv"


def _not_null(table: str, column: str) -> Callable[[Context], Bools]:
    return lambda ctx: ctx.column(table, column).is_not_null().to_numpy()


def _values(ctx: Context, table: str, column: str, rows: Rows) -> list[str]:
    return [str(v) for v in ctx.column(table, column).gather(rows).to_list()]


def _email_upper(ctx: Context, rows: Rows) -> list[str]:
    return [v.upper() for v in _values(ctx, "customers", "email", rows)]


def _email_spaces(ctx: Context, rows: Rows) -> list[str]:
    return [f" {v}  " for v in _values(ctx, "customers", "email", rows)]


def _email_invalid(ctx: Context, rows: Rows) -> list[str]:
    out = []
    for i, v in enumerate(_values(ctx, "customers", "email", rows)):
        local, domain = v.split("@", 1)
        out.append((f"{local}{domain}", f"{local}@", f"{local}@@{domain}")[i % 3])
    return out


def _phone_national(ctx: Context, rows: Rows) -> list[str]:
    return [phonenumbers.format_number(phonenumbers.parse(v), phonenumbers.PhoneNumberFormat.NATIONAL)
            for v in _values(ctx, "customers", "phone", rows)]


def _phone_invalid(ctx: Context, rows: Rows) -> list[str]:
    return [v[:6] for v in _values(ctx, "customers", "phone", rows)]


def _single_zone_country(ctx: Context) -> Bools:
    return ctx.column("customers", "country").is_in(list(_WINDOWS_ZONES)).to_numpy()


def _tz_windows(ctx: Context, rows: Rows) -> list[str]:
    return [_WINDOWS_ZONES[c] for c in _values(ctx, "customers", "country", rows)]


def _multi_zone(ctx: Context) -> Bools:
    return ctx.column("customers", "timezone").is_in(list(_RAILS_ZONES)).to_numpy()


def _tz_rails(ctx: Context, rows: Rows) -> list[str]:
    return [_RAILS_ZONES[z] for z in _values(ctx, "customers", "timezone", rows)]


def _formula(ctx: Context, rows: Rows) -> list[str]:
    return ['=HYPERLINK("https://example.com/pay","Pay now")' for _ in rows]


def _day_month(ctx: Context, *, ambiguous: bool, column: str) -> Bools:
    days = ctx.dates("invoices", column)
    if ambiguous:
        return np.array([d is not None and d.day <= 12 and d.day != d.month for d in days], dtype=bool)
    return np.array([d is not None and d.day > 12 for d in days], dtype=bool)


def _dmy(column: str) -> Callable[[Context, Rows], list[str]]:
    def rewrite(ctx: Context, rows: Rows) -> list[str]:
        days = ctx.dates("invoices", column)
        return [f"{days[r].day:02d}/{days[r].month:02d}/{days[r].year}" for r in rows]  # type: ignore[union-attr]
    return rewrite


def _no_payments(ctx: Context) -> Bools:
    return ~ctx.invoices_with_payments()


def _unbilled(ctx: Context) -> Bools:
    return ~ctx.customers_with_invoices()


def _symbol(table: str) -> Callable[[Context, Rows], list[str]]:
    def rewrite(ctx: Context, rows: Rows) -> list[str]:
        cur = _values(ctx, table, "currency", rows)
        return [f"{_SYMBOLS[c]}{v}" if not v.startswith("-") else f"-{_SYMBOLS[c]}{v[1:]}"
                for c, v in zip(cur, _values(ctx, table, "amount", rows), strict=True)]
    return rewrite


def _group(whole: str, sep: str) -> str:
    digits = whole.lstrip("-")
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return ("-" if whole.startswith("-") else "") + sep.join(groups)


def _thousands(ctx: Context, rows: Rows) -> list[str]:
    out = []
    for v in _values(ctx, "invoices", "amount", rows):
        whole, _, frac = v.partition(".")
        out.append(_group(whole, ",") + (f".{frac}" if frac else ""))
    return out


def _decimal_comma(ctx: Context, rows: Rows) -> list[str]:
    out = []
    for v in _values(ctx, "invoices", "amount", rows):
        whole, _, frac = v.partition(".")
        out.append(f"{_group(whole, '.')},{frac}")
    return out


def _parentheses(ctx: Context, rows: Rows) -> list[str]:
    return [f"({v.lstrip('-')})" for v in _values(ctx, "invoices", "amount", rows)]


def _not_iso(ctx: Context, rows: Rows) -> list[str]:
    return [_NOT_ISO[c] for c in _values(ctx, "invoices", "currency", rows)]


def _shift_date(column: str, base: str, low: int, high: int) -> Callable[[Context, Rows], list[str]]:
    def rewrite(ctx: Context, rows: Rows) -> list[str]:
        days = ctx.dates("invoices", base)
        shift = ctx.rng.integers(low, high + 1, len(rows))
        return [(days[r] - dt.timedelta(days=int(s))).isoformat()  # type: ignore[operator]
                for r, s in zip(rows, shift, strict=True)]
    return rewrite


def _unknown_id(table: str, column: str, prefix: str) -> Callable[[Context, Rows], list[str]]:
    """Ids past the largest one in use: a deleted or not-yet-exported record."""
    def rewrite(ctx: Context, rows: Rows) -> list[str]:
        existing = ctx.column(table, column).drop_nulls()
        width = max(1, int(existing.str.len_chars().to_numpy().max(initial=0)) - len(prefix))
        top = int(existing.str.slice(len(prefix)).cast(pl.Int64).to_numpy().max(initial=0))
        return [f"{prefix}{top + 1000 + i:0{width}d}" for i in range(len(rows))]
    return rewrite


def _naive_instant(ctx: Context, rows: Rows) -> list[str]:
    return [v[:19].replace("T", " ") for v in _values(ctx, "payments", "paid_at", rows)]


def _eur(ctx: Context) -> Bools:
    return (ctx.column("invoices", "currency") == "EUR").to_numpy() & (ctx.amount("invoices") > 0)


CATALOGUE: tuple[DefectKind, ...] = (
    DefectKind("email_upper_case", "customers", "email", NORMALISE, "", 0.004,
               "e-mail address in capitals", _not_null("customers", "email"), _email_upper),
    DefectKind("email_spaces", "customers", "email", NORMALISE, "", 0.004,
               "e-mail address with surrounding spaces", _not_null("customers", "email"), _email_spaces),
    DefectKind("email_invalid", "customers", "email", NULLED, "invalid_email", 0.004,
               "e-mail address without a usable @domain", _not_null("customers", "email"), _email_invalid),
    DefectKind("phone_national_format", "customers", "phone", NORMALISE, "", 0.004,
               "phone number in national format, e.g. (212) 555-0123; the country column says where",
               _not_null("customers", "phone"), _phone_national),
    DefectKind("phone_invalid", "customers", "phone", NULLED, "invalid_phone", 0.004,
               "phone number cut short", _not_null("customers", "phone"), _phone_invalid),
    DefectKind("timezone_unknown_derivable", "customers", "timezone", DERIVE, "timezone_derived", 0.004,
               "Windows zone name (GMT Standard Time); the country has one IANA zone",
               _single_zone_country, _tz_windows),
    DefectKind("timezone_unknown_ambiguous", "customers", "timezone", NULLED, "unknown_timezone", 0.004,
               "Rails zone name (Pacific Time (US & Canada)); the country has several zones",
               _multi_zone, _tz_rails),
    DefectKind("formula_cell", "customers", "name", KEEP, "", 0.004,
               "cell starting with = (spreadsheet formula): kept as text, neutralised in spreadsheet outputs",
               None, _formula),
    DefectKind("duplicate_identical", "customers", "", COLLAPSE, "duplicate_identical", 0.004,
               "a row repeated exactly, later in the file"),
    DefectKind("duplicate_conflicting", "customers", "customer_id", REJECT, "duplicate_conflicting", 0.004,
               "a second row with the same customer_id and a different e-mail (both copies rejected)",
               _unbilled),
    DefectKind("ragged_short", "customers", "", REJECT, "ragged_row", 0.004,
               "a row missing its last two cells", _unbilled),
    DefectKind("ragged_long", "customers", "", REJECT, "ragged_row", 0.004,
               "an unquoted comma in the address: one cell too many", _unbilled),
    DefectKind("blank_line", "customers", "", SKIP, "", 0.0, "an empty line between rows"),
    DefectKind("date_ambiguous", "invoices", "issue_date", REJECT, "ambiguous_date", 0.002,
               "issue date as DD/MM/YYYY with day <= 12 (03/04/2026): day and month cannot be told apart",
               lambda ctx: _day_month(ctx, ambiguous=True, column="issue_date") & _no_payments(ctx),
               _dmy("issue_date")),
    DefectKind("date_day_first", "invoices", "due_date", NORMALISE, "", 0.002,
               "due date as DD/MM/YYYY with day > 12 (23/04/2026): only one reading is possible",
               lambda ctx: _day_month(ctx, ambiguous=False, column="due_date"), _dmy("due_date")),
    DefectKind("amount_currency_symbol", "invoices", "amount", NORMALISE, "", 0.002,
               "amount with a currency symbol ($1234.56, €62.18)", _not_null("invoices", "amount"),
               _symbol("invoices")),
    DefectKind("amount_thousands_separator", "invoices", "amount", NORMALISE, "", 0.002,
               "amount with thousands separators (1,234.56)",
               lambda ctx: np.abs(ctx.amount("invoices")) >= 1000, _thousands),
    DefectKind("amount_decimal_comma", "invoices", "amount", NORMALISE, "", 0.002,
               "EUR amount with a decimal comma and dot thousands (1.234,56)", _eur, _decimal_comma),
    DefectKind("amount_parentheses_negative", "invoices", "amount", NORMALISE, "", 0.002,
               "credit note written in parentheses ((17.16)) instead of with a minus sign",
               lambda ctx: ctx.amount("invoices") < 0, _parentheses),
    DefectKind("currency_unknown", "invoices", "currency", REJECT, "unknown_currency", 0.002,
               "currency that is not an ISO 4217 code (EURO, UKP, US$, M.N.)", _no_payments, _not_iso),
    DefectKind("due_before_issue", "invoices", "due_date", REJECT, "due_before_issue", 0.002,
               "due date 1-10 days before the issue date", _no_payments,
               _shift_date("due_date", "issue_date", 1, 10)),
    DefectKind("paid_before_issue", "invoices", "paid_date", REJECT, "paid_before_issue", 0.002,
               "paid date 1-20 days before the issue date (chosen among settled credit notes)",
               lambda ctx: _no_payments(ctx) & ctx.column("invoices", "paid_date").is_not_null().to_numpy(),
               _shift_date("paid_date", "issue_date", 1, 20)),
    DefectKind("invoice_unknown_customer", "invoices", "customer_id", REJECT, "unknown_customer", 0.002,
               "invoice of a customer_id missing from customers.csv", _no_payments,
               _unknown_id("customers", "customer_id", "C")),
    DefectKind("duplicate_identical", "invoices", "", COLLAPSE, "duplicate_identical", 0.002,
               "a row repeated exactly, later in the file"),
    DefectKind("duplicate_conflicting", "invoices", "invoice_id", REJECT, "duplicate_conflicting", 0.002,
               "a second row with the same invoice_id and a different amount (both copies rejected)",
               _no_payments),
    DefectKind("header_repeated", "invoices", "", REJECT, "duplicate_header", 0.0,
               "the header line again mid-file (two exports concatenated)"),
    DefectKind("ragged_short", "invoices", "", REJECT, "ragged_row", 0.001,
               "a row missing its last two cells", _no_payments),
    DefectKind("payment_unknown_invoice", "payments", "invoice_id", REJECT, "unknown_invoice", 0.001,
               "payment of an invoice_id missing from invoices.csv", _not_null("payments", "invoice_id"),
               _unknown_id("invoices", "invoice_id", "INV")),
    DefectKind("amount_currency_symbol", "payments", "amount", NORMALISE, "", 0.001,
               "amount with a currency symbol", None, _symbol("payments")),
    DefectKind("instant_without_offset", "payments", "paid_at", REJECT, "invalid_instant", 0.001,
               "timestamp without offset (2026-03-04 09:15:00): its zone is unknown unless a mapping says",
               None, _naive_instant),
    DefectKind("duplicate_identical", "payments", "", COLLAPSE, "duplicate_identical", 0.0005,
               "a row repeated exactly, later in the file"),
    DefectKind("blank_line", "payments", "", SKIP, "", 0.0, "an empty line between rows"),
    DefectKind("event_unknown", "events", "event", REJECT, "invalid_choice", 0.0005,
               "event type outside the contract's set (viewed)", None,
               lambda ctx, rows: ["viewed"] * len(rows)),
    DefectKind("ragged_long", "events", "", REJECT, "ragged_row", 0.0005, "a row with one cell too many"),
)
