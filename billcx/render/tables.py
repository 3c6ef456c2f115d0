"""Bundle tables besides the MANIFEST contract (declared once, here, with billcx.schema's classes)."""

from __future__ import annotations

from billcx.schema import MESSAGE_KINDS, SCHEDULE_CHANNELS, Column, Kind, Table

FAILURES = Table(
    name="failures",
    description="render output: one row per message that could not be rendered (nothing was written for it).",
    key="message_key",
    columns=(
        Column("message_key", Kind.ID, "Message key from the schedule.", nullable=False),
        Column("customer_id", Kind.ID, "Customer."),
        Column("channel", Kind.CHOICE, "Channel.", choices=SCHEDULE_CHANNELS),
        Column("template", Kind.TEXT, "Template name (language/id) or the schedule's template id."),
        Column("code", Kind.TEXT, "Failure code: undefined, none-value, template, sandbox, not-found, data, "
               "recipient, opt-out, empty, formula, font, missing-macro, key, duplicate-key."),
        Column("error", Kind.TEXT, "What went wrong, with template file and line when known."),
    ),
)

SMS_OUTBOX = Table(
    name="sms",
    description="render output: one row per SMS, ready for a gateway's CSV upload.",
    key="message_key",
    columns=(
        Column("message_key", Kind.ID, "Idempotency key.", nullable=False),
        Column("to", Kind.PHONE, "Recipient in E.164.", nullable=False, pii=True),
        Column("text", Kind.TEXT, "Exact text to send (normalised).", nullable=False),
        Column("encoding", Kind.TEXT, "GSM-7 or UCS-2.", nullable=False),
        Column("segments", Kind.INT, "Segments billed.", nullable=False),
        Column("send_at_utc", Kind.INSTANT, "Planned send instant.", nullable=False),
        Column("send_at_local", Kind.TEXT, "Local send time with offset.", nullable=False),
        Column("customer_id", Kind.ID, "Customer.", nullable=False),
    ),
)

PUSH_OUTBOX = Table(
    name="push",
    description="render output: one row per push notification (the app maps customer_id to devices).",
    key="message_key",
    columns=(
        Column("message_key", Kind.ID, "Idempotency key.", nullable=False),
        Column("customer_id", Kind.ID, "Customer.", nullable=False),
        Column("title", Kind.TEXT, "Notification title.", nullable=False),
        Column("body", Kind.TEXT, "Notification text.", nullable=False),
        Column("url", Kind.TEXT, "Link opened on tap."),
        Column("send_at_utc", Kind.INSTANT, "Planned send instant.", nullable=False),
        Column("send_at_local", Kind.TEXT, "Local send time with offset.", nullable=False),
    ),
)

TASKS = Table(
    name="tasks",
    description="render output: hand-overs to a person (schedule rows with channel task).",
    key="message_key",
    columns=(
        Column("message_key", Kind.ID, "Key from the schedule.", nullable=False),
        Column("customer_id", Kind.ID, "Customer.", nullable=False),
        Column("name", Kind.TEXT, "Customer name.", pii=True),
        Column("email", Kind.EMAIL, "Customer email.", pii=True),
        Column("phone", Kind.PHONE, "Customer phone.", pii=True),
        Column("kind", Kind.CHOICE, "Message kind of the step.", choices=MESSAGE_KINDS, nullable=False),
        Column("step", Kind.TEXT, "Ladder step.", nullable=False),
        Column("ladder", Kind.TEXT, "Ladder.", nullable=False),
        Column("due_at_utc", Kind.INSTANT, "When the task is due.", nullable=False),
        Column("due_at_local", Kind.TEXT, "When, in the customer's time.", nullable=False),
        Column("timezone", Kind.TIMEZONE, "Customer's zone.", nullable=False),
        Column("invoice_ids", Kind.LIST, "Invoices concerned."),
        Column("currency", Kind.CURRENCY, "Currency."),
        Column("amount_due", Kind.MONEY, "Remaining balance, minor units."),
        Column("reasons", Kind.LIST, "Why the plan made the step."),
        Column("summary", Kind.TEXT, "What to do, in one line.", nullable=False),
    ),
)
