"""Sample customers, invoices and schedule rows for linting templates (and for tests).

For each language and message template, every channel and tone is rendered for two customers: one
with a name, several invoices (one of them a credit note), a late fee and long identifiers; one
without a name and with a single invoice (no letter: a letter needs a name for its address).  Offer
kinds get an offer (a three-instalment plan or an extension) for the first customer and none for the
second, as the plan sends them when an amount is too small to split.  Values are deliberately long
(large amounts, long ids) so SMS budgets are checked against realistic text.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from billcx.schema import SCHEDULE, SCHEDULE_CHANNELS
from billcx.store import CleanData

TONES = ("friendly", "neutral", "firm")
CHANNELS = tuple(c for c in SCHEDULE_CHANNELS if c != "task")
_CURRENCY = {"en": "USD"}
_SEND = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC)
_NAMES = {"en": "Alexandra Whitfield-Johnson", "es": "María José Fernández", "fr": "Marie-Hélène Lefèvre",
          "de": "Jürgen Schäfer-Müller"}


def _offer(kind: str, amount: int) -> str | None:
    if kind == "payment_plan_offer":
        first = amount - 2 * (amount // 3)
        return json.dumps({"type": "payment_plan", "instalments": [
            {"due": "2026-11-15", "amount": first}, {"due": "2026-12-15", "amount": amount // 3},
            {"due": "2027-01-15", "amount": amount // 3}]})
    if kind == "extension_offer":
        return json.dumps({"type": "extension", "new_due": "2026-11-30"})
    return None


def sample_inputs(items: list[tuple[str, str]]) -> tuple[pl.DataFrame, CleanData]:
    """A schedule and clean data covering ``items`` = [(language, template id), ...].

    The template id doubles as the kind when it is one (otherwise the kind is ``overdue``).

    Returns:
        (schedule, data); message keys read ``<language>.<template>.<channel>.<tone>.<variant>``.
    """
    from billcx.schema import MESSAGE_KINDS

    customers, invoices, rows = [], [], []
    for lang in sorted({lang for lang, _ in items}):
        currency = _CURRENCY.get(lang, "EUR")
        for variant in ("a", "b"):
            cid = f"CUST-{lang}-{variant}-000012345"
            customers.append({
                "customer_id": cid, "name": _NAMES.get(lang, "Alex Morgan") if variant == "a" else None,
                "email": f"{variant}.{lang}@example.com", "phone": "+15555550123", "locale": lang,
                "country": "US" if lang == "en" else lang.split("-")[0].upper(),
                "address_line1": "1234 Long Example Avenue, Suite 500", "postal_code": "12345",
                "city": "Example City"})
            amounts = [1_234_567, 98_765, -12_345] if variant == "a" else [4_990]
            for n, amount in enumerate(amounts):
                invoices.append({"invoice_id": f"INV-2026-{lang}-{variant}-{n:06d}", "customer_id": cid,
                                 "issue_date": dt.date(2026, 9, 1), "due_date": dt.date(2026, 10, 1 + n),
                                 "amount": amount, "currency": currency, "amount_paid": 0})
    inv_by_cust: dict[str, list[dict[str, object]]] = {}
    for inv in invoices:
        inv_by_cust.setdefault(str(inv["customer_id"]), []).append(inv)
    for lang, template in items:
        kind = template if template in MESSAGE_KINDS else "overdue"
        for variant in ("a", "b"):
            cid = f"CUST-{lang}-{variant}-000012345"
            lines = inv_by_cust[cid]
            due = sum(int(str(i["amount"])) for i in lines)
            paid_kind = kind in ("thank_you", "feedback")
            fee = 2_500 if variant == "a" and kind in ("overdue", "final_notice") else 0
            due += fee
            for channel in CHANNELS:
                if channel == "letter" and variant == "b":
                    continue  # letters need a name for the address block
                for tone in TONES:
                    rows.append({
                        "message_key": f"{lang}.{template}.{channel}.{tone}.{variant}",
                        "customer_id": cid, "invoice_ids": [str(i["invoice_id"]) for i in lines],
                        "currency": str(lines[0]["currency"]), "amount_due": 0 if paid_kind else due,
                        "kind": kind, "step": "lint", "ladder": "lint", "channel": channel,
                        "send_at_utc": _SEND, "send_at_local": "2026-11-03T10:30:00+01:00",
                        "timezone": "Europe/Paris", "template": template, "tone": tone,
                        "late_fee": fee, "offer": _offer(kind, due) if variant == "a" else None,
                        "arm": "treatment",
                        "reasons": ["lint:sample"]})
    schedule = SCHEDULE.conform(pl.DataFrame(rows, infer_schema_length=None))
    payments = pl.DataFrame(schema={"payment_id": pl.String, "customer_id": pl.String,
                                    "paid_at": pl.Datetime("us", "UTC"), "amount": pl.Int64,
                                    "currency": pl.String})
    data = CleanData.from_frames(pl.DataFrame(customers), pl.DataFrame(invoices), payments)
    return schedule, data
