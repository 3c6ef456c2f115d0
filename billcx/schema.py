"""The canonical data contract, declared once.

Every table billcx reads or writes is described here: its columns, their polars
types, whether they are required in an input export, nullable, unique, which
values they may take and whether they hold personal data.  Readers, casts,
validators, the README's column tables and the sample generator all derive from
these declarations; no other module defines a table's columns.

Conventions
-----------
* Money is an integer number of minor units of its row's ``currency`` (cents for
  USD, yen for JPY) -- never a float.  Negative invoice amounts are credit notes.
* Dates are calendar dates (``pl.Date``) as the billing system printed them;
  instants (``paid_at``, ``at``, ``send_at_utc``) are ``Datetime("us", "UTC")``.
* Line numbers, wherever they appear, count as an editor does: the header is
  line 1, the first data row is line 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl

UTC_INSTANT = pl.Datetime("us", "UTC")


class Kind(StrEnum):
    """The semantic kind of a column: decides how ingest parses and checks it."""

    ID = "id"
    TEXT = "text"
    DATE = "date"
    INSTANT = "instant"
    MONEY = "money"
    CURRENCY = "currency"
    CHOICE = "choice"
    BOOL = "bool"
    EMAIL = "email"
    PHONE = "phone"
    COUNTRY = "country"
    TIMEZONE = "timezone"
    LOCALE = "locale"
    INT = "int"
    FLOAT = "float"
    LIST = "list"


_DTYPES: dict[Kind, pl.DataType] = {
    Kind.ID: pl.String(),
    Kind.TEXT: pl.String(),
    Kind.DATE: pl.Date(),
    Kind.INSTANT: UTC_INSTANT,
    Kind.MONEY: pl.Int64(),
    Kind.CURRENCY: pl.String(),
    Kind.CHOICE: pl.String(),
    Kind.BOOL: pl.Boolean(),
    Kind.EMAIL: pl.String(),
    Kind.PHONE: pl.String(),
    Kind.COUNTRY: pl.String(),
    Kind.TIMEZONE: pl.String(),
    Kind.LOCALE: pl.String(),
    Kind.INT: pl.Int64(),
    Kind.FLOAT: pl.Float64(),
    Kind.LIST: pl.List(pl.String()),
}


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Attributes:
        name: canonical column name.
        kind: semantic kind; decides parsing, checks and the polars dtype.
        description: one line for the README's contract table.
        required: the column must be present in an input export (after mapping).
        nullable: a present column may hold nulls.
        unique: values must be unique within the table.
        choices: the closed set of allowed values for ``Kind.CHOICE``.
        default: value used when an optional column is absent or a cell is empty.
        aliases: other spellings recognised without a mapping file.
        pii: the column holds personal data (never logged, dropped by pseudonymise).
        dtype_override: a polars dtype other than the kind's default.
    """

    name: str
    kind: Kind
    description: str
    required: bool = False
    nullable: bool = True
    unique: bool = False
    choices: tuple[str, ...] | None = None
    default: object | None = None
    aliases: tuple[str, ...] = ()
    pii: bool = False
    dtype_override: pl.DataType | None = None

    @property
    def dtype(self) -> pl.DataType:
        """The polars dtype of this column in the canonical tables."""
        return self.dtype_override if self.dtype_override is not None else _DTYPES[self.kind]


@dataclass(frozen=True)
class Table:
    """A table of the contract: an ordered set of columns and a primary key."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: str | None = None
    file_stem: str = ""
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})
        if not self.file_stem:
            object.__setattr__(self, "file_stem", self.name)

    @property
    def names(self) -> list[str]:
        """Column names in contract order."""
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        """Names of columns an input export must provide."""
        return [c.name for c in self.columns if c.required]

    @property
    def pii(self) -> list[str]:
        """Names of columns holding personal data."""
        return [c.name for c in self.columns if c.pii]

    @property
    def schema(self) -> pl.Schema:
        """The polars schema of the canonical table."""
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def __getitem__(self, name: str) -> Column:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def empty(self) -> pl.DataFrame:
        """An empty frame with this table's schema."""
        return pl.DataFrame(schema=self.schema)

    def conform(self, frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
        """Select and cast ``frame``'s columns into contract order and types.

        Columns missing from ``frame`` are filled with their default (or null).
        Raises ``KeyError`` for nothing: extra columns are dropped.
        """
        lf = frame.lazy()
        present = set(lf.collect_schema().names())
        exprs = []
        for c in self.columns:
            if c.name in present:
                exprs.append(pl.col(c.name).cast(c.dtype))
            else:
                exprs.append(pl.lit(c.default, dtype=c.dtype).alias(c.name))
        return lf.select(exprs).collect()


CHANNELS = ("email", "sms", "letter", "push")
INVOICE_STATUSES = ("open", "paid", "void", "written_off")
PAYMENT_STATUSES = ("succeeded", "failed", "refunded")
EVENT_TYPES = ("delivered", "opened", "clicked", "bounced", "complained", "unsubscribed", "replied")
PAYMENT_METHODS = ("card", "bank_transfer", "direct_debit", "check", "cash", "wallet", "other")

CUSTOMERS = Table(
    name="customers",
    description="One row per customer: contact details, consent and preferences.",
    key="customer_id",
    columns=(
        Column("customer_id", Kind.ID, "Stable customer identifier.", required=True,
               nullable=False, unique=True,
               aliases=("customerid", "customer", "client_id", "account_id", "cust_id", "customer_number")),
        Column("name", Kind.TEXT, "Name used in salutations.", pii=True,
               aliases=("customer_name", "full_name", "client_name", "company")),
        Column("email", Kind.EMAIL, "Email address, normalised (domain lower-cased).", pii=True,
               aliases=("email_address", "e_mail", "mail")),
        Column("phone", Kind.PHONE, "Mobile number in E.164 (+14155550100).", pii=True,
               aliases=("phone_number", "mobile", "msisdn", "telephone", "tel")),
        Column("country", Kind.COUNTRY, "ISO 3166-1 alpha-2 country code.",
               aliases=("country_code", "countrycode", "nation")),
        Column("region", Kind.TEXT, "Subdivision (ISO 3166-2 suffix, e.g. CA, BY) for holidays.",
               aliases=("state", "province", "subdivision")),
        Column("timezone", Kind.TIMEZONE, "IANA time zone (Europe/Paris).", aliases=("tz", "time_zone")),
        Column("locale", Kind.LOCALE, "BCP 47 language tag (en-US, fr-FR).", default="en",
               aliases=("language", "lang")),
        Column("preferred_channel", Kind.CHOICE, "Channel the customer prefers.", choices=CHANNELS,
               aliases=("channel", "preferred_contact")),
        Column("consent_email", Kind.BOOL, "May be contacted by email.", default=False),
        Column("consent_sms", Kind.BOOL, "May be contacted by SMS.", default=False),
        Column("consent_letter", Kind.BOOL, "May be sent letters.", default=True),
        Column("consent_push", Kind.BOOL, "May receive push notifications.", default=False),
        Column("do_not_contact", Kind.BOOL, "Never contact (overrides every consent).", default=False,
               nullable=False),
        Column("address_line1", Kind.TEXT, "Postal address, first line.", pii=True,
               aliases=("address", "street", "address1")),
        Column("address_line2", Kind.TEXT, "Postal address, second line.", pii=True,
               aliases=("address2",)),
        Column("postal_code", Kind.TEXT, "Postal code.", pii=True, aliases=("zip", "zip_code", "postcode")),
        Column("city", Kind.TEXT, "City.", pii=True, aliases=("town",)),
        Column("signup_date", Kind.DATE, "Date the customer relationship began.",
               aliases=("created", "created_at", "customer_since", "start_date")),
        Column("autopay", Kind.BOOL, "Invoices are charged automatically.", default=False,
               nullable=False, aliases=("auto_pay", "auto_collection")),
        Column("payment_method", Kind.CHOICE, "Usual payment method.", choices=PAYMENT_METHODS,
               aliases=("default_payment_method",)),
    ),
)

INVOICES = Table(
    name="invoices",
    description="One row per invoice or credit note (negative amount).",
    key="invoice_id",
    columns=(
        Column("invoice_id", Kind.ID, "Stable invoice identifier.", required=True, nullable=False,
               unique=True, aliases=("invoicenumber", "invoice_number", "invoice_no", "invoice", "number")),
        Column("customer_id", Kind.ID, "Customer billed.", required=True, nullable=False,
               aliases=("customerid", "customer", "client_id", "account_id", "cust_id")),
        Column("issue_date", Kind.DATE, "Date the invoice was issued.", required=True, nullable=False,
               aliases=("invoicedate", "invoice_date", "date", "issued", "created")),
        Column("due_date", Kind.DATE, "Date payment is due (on or after issue_date).", required=True,
               nullable=False, aliases=("duedate", "due", "payment_due")),
        Column("amount", Kind.MONEY, "Total in minor units; negative for credit notes.", required=True,
               nullable=False, aliases=("invoiceamount", "invoice_amount", "total", "amount_due")),
        Column("currency", Kind.CURRENCY, "ISO 4217 code.", required=True, nullable=False,
               aliases=("currency_code", "ccy")),
        Column("amount_paid", Kind.MONEY, "Amount already paid, minor units.", default=0, nullable=False,
               aliases=("paid_amount", "amountpaid")),
        Column("paid_date", Kind.DATE, "Date the invoice was settled in full.",
               aliases=("settleddate", "settled_date", "paid_on", "date_paid")),
        Column("status", Kind.CHOICE, "Invoice status.", choices=INVOICE_STATUSES, default="open",
               nullable=False, aliases=("invoice_status", "state")),
        Column("disputed", Kind.BOOL, "The customer disputes the invoice.", default=False, nullable=False,
               aliases=("dispute", "in_dispute")),
        Column("hold_until", Kind.DATE, "Promise to pay / pause: no reminders before this date.",
               aliases=("promise_to_pay", "paused_until")),
        Column("payment_method", Kind.CHOICE, "Method expected for this invoice.", choices=PAYMENT_METHODS),
    ),
)

PAYMENTS = Table(
    name="payments",
    description="One row per payment attempt, refund or unapplied receipt.",
    key="payment_id",
    columns=(
        Column("payment_id", Kind.ID, "Stable payment identifier.", required=True, nullable=False,
               unique=True, aliases=("transaction_id", "receipt_id", "payment")),
        Column("customer_id", Kind.ID, "Paying customer.", required=True, nullable=False,
               aliases=("customerid", "customer", "client_id", "account_id", "cust_id")),
        Column("invoice_id", Kind.ID, "Invoice paid; empty for an unapplied payment.",
               aliases=("invoicenumber", "invoice_number", "invoice_no", "invoice")),
        Column("paid_at", Kind.INSTANT, "When the payment happened (UTC).", required=True, nullable=False,
               aliases=("payment_date", "paid_on", "date", "timestamp", "created")),
        Column("amount", Kind.MONEY, "Amount in minor units.", required=True, nullable=False,
               aliases=("payment_amount",)),
        Column("currency", Kind.CURRENCY, "ISO 4217 code.", required=True, nullable=False,
               aliases=("currency_code", "ccy")),
        Column("method", Kind.CHOICE, "Payment method.", choices=PAYMENT_METHODS,
               aliases=("payment_method",)),
        Column("status", Kind.CHOICE, "Outcome of the attempt.", choices=PAYMENT_STATUSES,
               default="succeeded", nullable=False, aliases=("payment_status",)),
        Column("failure_code", Kind.TEXT, "Processor decline code for failed attempts.",
               aliases=("decline_code", "error_code")),
    ),
)

EVENTS = Table(
    name="events",
    description="Optional message engagement: deliveries, clicks, bounces, opt-outs.",
    columns=(
        Column("customer_id", Kind.ID, "Customer concerned.", required=True, nullable=False,
               aliases=("customerid", "customer", "client_id", "account_id")),
        Column("channel", Kind.CHOICE, "Channel of the message.", choices=CHANNELS, required=True,
               nullable=False),
        Column("event", Kind.CHOICE, "What happened.", choices=EVENT_TYPES, required=True, nullable=False,
               aliases=("event_type", "type")),
        Column("at", Kind.INSTANT, "When it happened (UTC).", required=True, nullable=False,
               aliases=("timestamp", "time", "occurred_at")),
    ),
)

INPUT_TABLES: dict[str, Table] = {t.name: t for t in (CUSTOMERS, INVOICES, PAYMENTS, EVENTS)}

REJECTS = Table(
    name="rejects",
    description="Every input cell or row that ingest could not accept.",
    columns=(
        Column("file", Kind.TEXT, "Input file name as given."),
        Column("table", Kind.TEXT, "Contract table the file feeds."),
        Column("line", Kind.INT, "Line in the file as an editor shows it (header = 1)."),
        Column("column", Kind.TEXT, "Input column name, empty for whole-row problems."),
        Column("value", Kind.TEXT, "The offending value, as read (neutralised in CSV exports)."),
        Column("code", Kind.TEXT, "Reject code from the closed set in billcx.ingest.codes."),
        Column("message", Kind.TEXT, "What was expected and what was found."),
    ),
)

# --- Stage outputs that later stages read ------------------------------------------------------

VALUE_TIERS = ("high", "medium", "low")
RISK_TIERS = ("low", "medium", "high")
TREATMENTS = ("reliable", "valued_slipping", "chronic_late", "new", "dormant", "credit_or_no_balance",
              "standard")
RFM_SEGMENTS = ("Champions", "Loyal", "Potential loyalist", "New", "Promising", "Need attention",
                "About to sleep", "At risk", "Can't lose", "Hibernating", "Lost")

SEGMENTS = Table(
    name="segments",
    file_stem="customers",
    description="segment output: one row per customer (more columns follow these).",
    key="customer_id",
    columns=(
        Column("customer_id", Kind.ID, "Customer.", nullable=False, unique=True),
        Column("rfm_segment", Kind.CHOICE, "Named RFM segment.", choices=RFM_SEGMENTS),
        Column("value_tier", Kind.CHOICE, "Value tier.", choices=VALUE_TIERS, nullable=False),
        Column("risk_tier", Kind.CHOICE, "Late-payment risk tier.", choices=RISK_TIERS, nullable=False),
        Column("late_probability", Kind.FLOAT, "Calibrated probability the next/open invoice is paid late."),
        Column("treatment", Kind.CHOICE, "Treatment segment the plan uses to pick a ladder.",
               choices=TREATMENTS, nullable=False),
    ),
)

INVOICE_RISK = Table(
    name="invoice_risk",
    description="segment output: one row per invoice open at the as-of date.",
    key="invoice_id",
    columns=(
        Column("invoice_id", Kind.ID, "Invoice.", nullable=False, unique=True),
        Column("customer_id", Kind.ID, "Customer.", nullable=False),
        Column("late_probability", Kind.FLOAT, "Calibrated probability of late payment."),
        Column("reasons", Kind.LIST, "Top reasons, in words."),
    ),
)

ARMS = ("treatment", "holdout")
MESSAGE_KINDS = ("pre_due", "due", "overdue", "final_notice", "payment_plan_offer", "extension_offer",
                 "failed_payment", "thank_you", "feedback")
SCHEDULE_CHANNELS = (*CHANNELS, "task")

SCHEDULE = Table(
    name="schedule",
    description="plan output: one row per planned message (or hand-over task).",
    key="message_key",
    columns=(
        Column("message_key", Kind.ID, "Stable key from customer, invoices and step.", nullable=False,
               unique=True),
        Column("customer_id", Kind.ID, "Customer.", nullable=False),
        Column("invoice_ids", Kind.LIST, "Invoices the message covers, sorted."),
        Column("currency", Kind.CURRENCY, "Currency of amount_due."),
        Column("amount_due", Kind.MONEY, "Remaining balance covered, minor units."),
        Column("kind", Kind.CHOICE, "Message kind.", choices=MESSAGE_KINDS, nullable=False),
        Column("step", Kind.TEXT, "Step name within the ladder.", nullable=False),
        Column("ladder", Kind.TEXT, "Ladder (policy) that produced the step.", nullable=False),
        Column("channel", Kind.CHOICE, "Channel, or task for a human hand-over.",
               choices=SCHEDULE_CHANNELS, nullable=False),
        Column("send_at_utc", Kind.INSTANT, "Planned send instant.", nullable=False),
        Column("send_at_local", Kind.TEXT, "Send time in the customer's zone, ISO 8601 with offset.",
               nullable=False),
        Column("timezone", Kind.TIMEZONE, "Customer's IANA zone used.", nullable=False),
        Column("template", Kind.TEXT, "Template id.", nullable=False),
        Column("tone", Kind.TEXT, "Tone (friendly, neutral, firm).", nullable=False),
        Column("offer", Kind.TEXT, "JSON offer (payment plan with instalments, extension) or empty."),
        Column("arm", Kind.CHOICE, "Experiment arm; holdout rows are not sent.", choices=ARMS,
               nullable=False),
        Column("reasons", Kind.LIST, "Codes with words: moved:holiday, merged:3-invoices, ..."),
        Column("late_fee", Kind.MONEY, "Late fee included in amount_due, minor units (0 when none).",
               default=0),
    ),
)

MANIFEST = Table(
    name="manifest",
    description="render output: one row per rendered message.",
    key="message_key",
    columns=(
        Column("message_key", Kind.ID, "Idempotency key (from the schedule).", nullable=False, unique=True),
        Column("customer_id", Kind.ID, "Customer.", nullable=False),
        Column("channel", Kind.CHOICE, "Channel.", choices=SCHEDULE_CHANNELS, nullable=False),
        Column("kind", Kind.CHOICE, "Message kind.", choices=MESSAGE_KINDS, nullable=False),
        Column("send_at_utc", Kind.INSTANT, "Planned send instant.", nullable=False),
        Column("send_at_local", Kind.TEXT, "Local send time, ISO 8601 with offset.", nullable=False),
        Column("timezone", Kind.TIMEZONE, "IANA zone.", nullable=False),
        Column("recipient", Kind.TEXT, "Email address, E.164 number or postal name.", pii=True),
        Column("subject", Kind.TEXT, "Email subject or letter title."),
        Column("path", Kind.TEXT, "File path relative to the bundle."),
        Column("sha256", Kind.TEXT, "SHA-256 of the file (or SMS text)."),
        Column("bytes", Kind.INT, "Size in bytes."),
        Column("sms_encoding", Kind.TEXT, "GSM-7 or UCS-2 for SMS."),
        Column("sms_segments", Kind.INT, "SMS segments billed."),
        Column("locale", Kind.LOCALE, "Locale the message was written in."),
        Column("template", Kind.TEXT, "Template name."),
        Column("template_sha256", Kind.TEXT, "SHA-256 of the template source."),
    ),
)

ALL_TABLES: dict[str, Table] = {
    t.name: t for t in (CUSTOMERS, INVOICES, PAYMENTS, EVENTS, REJECTS, SEGMENTS, INVOICE_RISK, SCHEDULE,
                        MANIFEST)
}


def contract_markdown(tables: tuple[Table, ...] = (CUSTOMERS, INVOICES, PAYMENTS, EVENTS)) -> str:
    """Render the contract as Markdown tables (the README embeds this text verbatim)."""
    out: list[str] = []
    for t in tables:
        out.append(f"#### `{t.name}`\n\n{t.description}\n")
        out.append("| column | type | required | nullable | rules | description |")
        out.append("|---|---|---|---|---|---|")
        for c in t.columns:
            rules = []
            if c.unique:
                rules.append("unique")
            if c.choices:
                rules.append(" \\| ".join(c.choices))
            if c.default is not None:
                rules.append(f"default `{c.default}`")
            if c.pii:
                rules.append("personal data")
            out.append(
                f"| `{c.name}` | {c.kind.value} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {'; '.join(rules)} | {c.description} |"
            )
        out.append("")
    return "\n".join(out)
