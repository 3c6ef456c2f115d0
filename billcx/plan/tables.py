"""Tables the plan stage reads or writes besides the shared contract (declared once, here).

``SKIPPED`` is plan's second output: everything that was not planned, and why.  ``HOLDS`` and
``SENT`` are the optional control files a person or a sender supplies.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from billcx.errors import InputError, UsageError
from billcx.schema import Column, Kind, Table

SKIPPED = Table(
    name="skipped",
    description="plan output: one row per step, message or invoice that was not planned, with why.",
    columns=(
        Column("customer_id", Kind.ID, "Customer.", nullable=False),
        Column("invoice_ids", Kind.LIST, "Invoices concerned, sorted."),
        Column("currency", Kind.CURRENCY, "Currency of the invoices."),
        Column("ladder", Kind.TEXT, "Ladder or trigger, empty when none was chosen."),
        Column("step", Kind.TEXT, "Step, empty when the whole invoice was skipped."),
        Column("date", Kind.DATE, "Local date the step was planned for, empty when none."),
        Column(
            "code",
            Kind.TEXT,
            "Reason code (do-not-contact, no-channel, held, capped:frequency ...).",
            nullable=False,
        ),
        Column("reason", Kind.TEXT, "The reason in words.", nullable=False),
    ),
)

HOLDS = Table(
    name="holds",
    description="Optional holds file: no reminders for an invoice or a customer before a date.",
    columns=(
        Column("invoice_id", Kind.ID, "Invoice on hold (or empty when customer_id is given)."),
        Column("customer_id", Kind.ID, "Customer on hold (all invoices), or empty."),
        Column(
            "until",
            Kind.DATE,
            "No reminders before this date (reminders resume on it).",
            required=True,
            nullable=False,
        ),
        Column("reason", Kind.TEXT, "Why (promise to pay, dispute, bereavement ...).", default=""),
    ),
)

SENT = Table(
    name="sent",
    description="Optional sent log: what a sender confirmed (schedule rows plus sent_at).",
    columns=(
        Column("customer_id", Kind.ID, "Customer.", required=True, nullable=False),
        Column(
            "invoice_ids", Kind.LIST, "Invoices the message covered (';' separated in CSV).", required=True
        ),
        Column("step", Kind.TEXT, "Step (or trigger) name from the schedule.", required=True, nullable=False),
        Column(
            "sent_at",
            Kind.INSTANT,
            "When it was sent (ISO 8601; no offset means UTC).",
            required=True,
            nullable=False,
        ),
        Column("ladder", Kind.TEXT, "Ladder from the schedule; empty matches any ladder."),
        Column("message_key", Kind.ID, "Key from the schedule."),
        Column("channel", Kind.TEXT, "Channel it went by; task rows are not messages and do not count."),
    ),
)


def read_control_csv(path: Path, table: Table) -> pl.DataFrame:
    """Read a small control CSV (holds, sent log) as text with editor line numbers in ``_line``.

    Column names are matched case-insensitively after trimming; unknown columns are ignored.

    Raises:
        UsageError: the file does not exist.
        InputError: it cannot be read as CSV or lacks a required column.
    """
    if not path.is_file():
        raise UsageError(f"{path}: no such file", hint=f"give the {table.name} CSV file")
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{path}: cannot read as CSV: {exc}") from None
    rename = {c: c.strip().lower() for c in raw.columns}
    raw = raw.rename(rename)
    missing = [c for c in table.required if c not in raw.columns]
    if missing:
        raise InputError(
            f"{path}: missing column {', '.join(missing)} of the {table.name} file",
            hint=f"columns: {', '.join(table.names)}",
        )
    keep = [c for c in table.names if c in raw.columns]
    return (
        raw.select(keep)
        .with_columns([pl.col(c).str.strip_chars().replace("", None) for c in keep])
        .with_row_index("_line", offset=2)
    )


def bad_value(path: Path, frame: pl.DataFrame, mask: pl.Expr, column: str, expected: str) -> None:
    """Raise an InputError naming the first line of ``frame`` where ``mask`` holds, if any."""
    hit = frame.filter(mask).head(1)
    if hit.height:
        line = hit["_line"][0]
        value = hit[column][0] if column in hit.columns else None
        raise InputError(
            f"{path}:{line}, column {column}: expected {expected}, found {value!r}",
            hint="fix the line and rerun; nothing was written",
        )
