"""The closed set of reject codes ``billcx ingest`` writes to ``rejects.csv``.

Each code has one severity and one message template.  Templates use three fields only:
``{column}`` (the input column, as named in the file), ``{value}`` (the value as read) and
``{detail}`` (what was expected or what it conflicts with, computed per row).  The README's
reject-code table is generated from :data:`CODES` (a test fails when they disagree).

Severities
----------
* ``rejected``: the whole row is left out of the clean tables and counted in ``rows_rejected``.
* ``nulled``: an optional contact field could not be used; the field is emptied, the row is kept.
* ``replaced``: an unusable value was replaced by one derived from other fields, the row is kept.
* ``collapsed``: the row repeats another one exactly; it is kept once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """What happened to the row an issue was found in."""

    REJECTED = "rejected"
    NULLED = "nulled"
    REPLACED = "replaced"
    COLLAPSED = "collapsed"


@dataclass(frozen=True)
class Code:
    """One reject code.

    Attributes:
        name: the stable code written to ``rejects.csv``.
        severity: what happens to the row.
        template: message with ``{column}``, ``{value}``, ``{detail}`` placeholders.
        summary: one line for the documentation table.
    """

    name: str
    severity: Severity
    template: str
    summary: str

    def message(self, *, column: str = "", value: str = "", detail: str = "") -> str:
        """The message for one occurrence (the vectorised path in issues.py renders the same text)."""
        return self.template.format(column=column, value=value, detail=detail)


_R, _N, _P, _C = Severity.REJECTED, Severity.NULLED, Severity.REPLACED, Severity.COLLAPSED

CODES: tuple[Code, ...] = (
    # -- the shape of the file --------------------------------------------------------------------
    Code("ragged_row", _R, "expected {detail}", "The line has more or fewer fields than the header."),
    Code(
        "duplicate_header",
        _R,
        "expected data, found a repeat of the header line",
        "A copy of the header line in the middle of the data (files glued together).",
    ),
    # -- single cells -----------------------------------------------------------------------------
    Code(
        "missing_value",
        _R,
        "{column}: expected a value ({detail}), found an empty cell",
        "A required cell is empty.",
    ),
    Code(
        "invalid_id",
        _R,
        "{column}: expected an identifier on one line, found {detail}",
        "An identifier holds a line break or control characters.",
    ),
    Code(
        "invalid_date",
        _R,
        "{column}: expected a date as {detail}, found '{value}'",
        "Not a date in any of the accepted formats.",
    ),
    Code(
        "ambiguous_date",
        _R,
        "{column}: expected one reading of the date, found '{value}' which reads as "
        "{detail}; set dayfirst in the mapping",
        "Day and month could be swapped (03/04/2024) and no setting decides.",
    ),
    Code(
        "invalid_instant",
        _R,
        "{column}: expected a timestamp as {detail}, found '{value}'",
        "Not a timestamp (ISO 8601 with offset, or a configured format).",
    ),
    Code(
        "invalid_amount",
        _R,
        "{column}: expected an amount such as {detail}, found '{value}'",
        "Not an amount (after removing currency symbols, separators, parentheses).",
    ),
    Code(
        "amount_precision",
        _R,
        "{column}: expected {detail}, found '{value}'",
        "More decimals than the currency has (12.345 USD), or too large.",
    ),
    Code(
        "unknown_currency",
        _R,
        "{column}: expected an ISO 4217 currency code, found '{value}'",
        "Currency code not in ISO 4217.",
    ),
    Code(
        "invalid_bool",
        _R,
        "{column}: expected {detail}, found '{value}'",
        "Not a yes/no value (or not in the mapping's value map).",
    ),
    Code(
        "invalid_choice",
        _R,
        "{column}: expected one of {detail}, found '{value}'",
        "Not one of the allowed values.",
    ),
    # -- keys -------------------------------------------------------------------------------------
    Code(
        "duplicate_conflicting",
        _R,
        "{column}: '{value}' also appears on {detail} with different values; every copy is rejected",
        "The same id on several rows that differ: all copies are rejected.",
    ),
    Code(
        "duplicate_identical",
        _C,
        "expected one row per id, found an exact copy of {detail} (id '{value}'); kept once",
        "An exact copy of another row: kept once and counted.",
    ),
    # -- rules within a row -----------------------------------------------------------------------
    Code(
        "due_before_issue",
        _R,
        "{column}: expected a date on or after issue_date {detail}, found '{value}'",
        "The due date is before the issue date.",
    ),
    Code(
        "paid_before_issue",
        _R,
        "{column}: expected a date on or after issue_date {detail}, found '{value}'",
        "The invoice was paid before it was issued.",
    ),
    # -- references between tables ----------------------------------------------------------------
    Code(
        "unknown_customer",
        _R,
        "{column}: expected a customer of the customers table, found '{value}'",
        "The customer is not in the customers table.",
    ),
    Code(
        "unknown_invoice",
        _R,
        "{column}: expected an invoice of the invoices table (or an empty cell "
        "for an unapplied payment), found '{value}'",
        "A payment names an invoice that is not in the invoices table.",
    ),
    Code(
        "parent_rejected",
        _R,
        "{column}: '{value}' refers to a {detail} that was rejected",
        "The customer or invoice this row refers to was itself rejected.",
    ),
    Code(
        "customer_mismatch",
        _R,
        "{column}: expected the invoice's customer {detail}, found '{value}'",
        "A payment's customer differs from the customer of its invoice.",
    ),
    Code(
        "currency_mismatch",
        _R,
        "{column}: expected the invoice's currency {detail}, found '{value}'",
        "A payment's currency differs from its invoice's currency.",
    ),
    # -- contact details (optional fields: emptied, row kept) -------------------------------------
    Code(
        "invalid_email",
        _N,
        "{column}: expected an email address, found '{value}' ({detail}); field emptied, row kept",
        "Not a usable email address (after trimming and lower-casing the domain).",
    ),
    Code(
        "invalid_phone",
        _N,
        "{column}: expected a phone number valid for {detail}, found '{value}'; field emptied, row kept",
        "Not a valid number, even read in the national format of the customer's country.",
    ),
    Code(
        "invalid_country",
        _N,
        "{column}: expected an ISO 3166-1 country, found '{value}'; field emptied, row kept",
        "Not a country code or English country name.",
    ),
    Code(
        "unknown_timezone",
        _N,
        "{column}: expected an IANA time zone, found '{value}' ({detail}); field emptied, row kept",
        "Not an IANA zone, and the country does not decide one.",
    ),
    Code(
        "timezone_derived",
        _P,
        "{column}: expected an IANA time zone, found '{value}'; replaced by "
        "{detail}, the only zone of the customer's country",
        "Not an IANA zone; replaced by the zone of the customer's country (single-zone countries).",
    ),
    Code(
        "invalid_locale",
        _N,
        "{column}: expected a BCP 47 language tag such as en-US, found '{value}'; field emptied, row kept",
        "Not a language tag CLDR knows.",
    ),
)

BY_NAME: dict[str, Code] = {c.name: c for c in CODES}
CODE_NAMES: tuple[str, ...] = tuple(c.name for c in CODES)
REJECTING: frozenset[str] = frozenset(c.name for c in CODES if c.severity is Severity.REJECTED)


def code(name: str) -> Code:
    """The code called ``name``; ``KeyError`` for a name outside the closed set (a bug)."""
    return BY_NAME[name]


def codes_markdown() -> str:
    """The reject-code table embedded in the README (between the reject-codes markers)."""
    lines = ["| code | row | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.severity.value} | {c.summary} |" for c in CODES]
    return "\n".join(lines) + "\n"
