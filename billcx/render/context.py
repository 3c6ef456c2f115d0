"""Template variables per message: one polars join for everything, then a lean dict per row.

:func:`prepare` joins the schedule with the customers and the invoices it names (vectorised, once);
:func:`build_context` turns one joined row into the variables a template sees.  Every formatted
amount and date is written for the message's locale; integer minor units stay available beside the
text (``amount_due_minor``) for templates that compare amounts.  The variables are documented in
docs/render.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import string
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import polars as pl

from billcx.money import exponent, is_currency, to_major
from billcx.render.locales import formatter
from billcx.render.settings import RenderSettings
from billcx.schema import CUSTOMERS, INVOICES, SCHEDULE

CUSTOMER_FIELDS = ("name", "email", "phone", "locale", "country", "address_line1", "address_line2",
                   "postal_code", "city")
LINE_FIELDS = ("invoice_id", "issue_date", "due_date", "amount", "amount_paid", "currency", "status")
NO_PAYMENT_KINDS = frozenset({"thank_you", "feedback"})
_CLOSED = frozenset({"void", "written_off"})
_C = "c_"  # prefix of customer columns in the joined frame (schedule has its own customer_id)


class ContextError(ValueError):
    """The data for a message is inconsistent (unknown customer, bad offer ...): it must fail."""


def prepare(schedule: pl.DataFrame, customers: pl.LazyFrame, invoices: pl.LazyFrame) -> pl.DataFrame:
    """Join each schedule row with its customer and its invoices (as a list of structs).

    Args:
        schedule: rows of the SCHEDULE contract to render (already filtered to what is rendered).
        customers: the clean customers table.
        invoices: the clean invoices table.

    Returns:
        The schedule columns in their order, then ``c_<field>`` customer columns (null when the
        customer is unknown), ``c_found``, ``lines`` (invoices found, sorted by due date and id) and
        ``missing_invoices``.
    """
    ids = schedule.select(SCHEDULE.key, "customer_id")
    cust = (customers.select(CUSTOMERS.key, *CUSTOMER_FIELDS)
            .join(ids.lazy().select("customer_id").unique(), on="customer_id", how="semi")
            .rename({f: _C + f for f in CUSTOMER_FIELDS})
            .with_columns(pl.lit(True).alias(_C + "found")))
    wanted = schedule.select(SCHEDULE.key, pl.col("invoice_ids")).explode("invoice_ids") \
        .rename({"invoice_ids": "invoice_id"}).drop_nulls("invoice_id")
    inv = invoices.select(INVOICES.key, *LINE_FIELDS[1:]).join(
        wanted.lazy().select("invoice_id").unique(), on="invoice_id", how="semi")
    found = pl.col("currency").is_not_null()
    lines = (wanted.lazy().join(inv, on="invoice_id", how="left")
             .sort(SCHEDULE.key, "due_date", "invoice_id", nulls_last=True)
             .group_by(SCHEDULE.key, maintain_order=True)
             .agg(pl.struct(*LINE_FIELDS).filter(found).alias("lines"),
                  pl.col("invoice_id").filter(~found).alias("missing_invoices")))
    return (schedule.lazy()
            .join(cust, on="customer_id", how="left")
            .join(lines, on=SCHEDULE.key, how="left")
            .with_columns(pl.col(_C + "found").fill_null(False))
            .sort(SCHEDULE.key)
            .collect())


def rows_of(prepared: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of :func:`prepare`'s frame as dicts, as ``iter_rows(named=True)`` gives them.

    Converted column by column, and the invoice lines through one flat frame: polars turns a
    list of structs into Python dicts row by row at about 10 us per message, three times the cost
    of building the same dicts from flat columns here.
    """
    names = [n for n in prepared.columns if n != "lines"]
    columns = [prepared.get_column(n).to_list() for n in names]
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    if "lines" not in prepared.columns:
        return rows
    for r in rows:
        r["lines"] = None
    flat = (prepared.select(pl.col("lines")).with_row_index("_row").explode("lines")
            .drop_nulls("lines").unnest("lines"))
    fields = [n for n in flat.columns if n != "_row"]
    index = flat.get_column("_row").to_list()
    values = zip(*(flat.get_column(n).to_list() for n in fields), strict=True)
    for i, vals in zip(index, values, strict=True):
        line = dict(zip(fields, vals, strict=True))
        target = rows[i]["lines"]
        if target is None:
            rows[i]["lines"] = [line]
        else:
            target.append(line)
    empty = prepared.get_column("lines").list.len() == 0
    for i in empty.arg_true().to_list():  # an empty list stays empty, a null stays None
        rows[i]["lines"] = []
    return rows


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


_URL_SAFE = re.compile(r"^[A-Za-z0-9_.~-]*$")


def _quote(value: str) -> str:
    return value if _URL_SAFE.match(value) else quote(value, safe="")


@lru_cache(maxsize=64)
def _fields(pattern: str) -> tuple[str, ...]:
    return tuple(f for _, f, _, _ in string.Formatter().parse(pattern) if f)


def build_url(pattern: str, values: Mapping[str, Any]) -> str:
    """Fill a URL pattern, percent-encoding the values it uses (``''`` when the pattern is empty).

    A value may be a zero-argument callable, called only when the pattern uses it.
    """
    if not pattern:
        return ""
    out = {}
    for k in _fields(pattern):
        v = values[k]
        out[k] = _quote(v() if callable(v) else v)
    return pattern.format_map(out)


def _parse_offer(raw: str | None, amount_due: int, currency: str, fmt: Any) -> dict[str, Any] | None:
    if raw is None or not raw.strip():
        return None
    try:
        offer = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ContextError(f"offer is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(offer, dict):
        raise ContextError("offer must be a JSON object")
    kind = offer.get("type")
    if offer.get("currency") not in (None, currency):
        raise ContextError(f"offer currency {offer.get('currency')!r} differs from the message's "
                           f"{currency!r}")
    if offer.get("total") not in (None, amount_due):
        raise ContextError(f"offer total {offer.get('total')!r} differs from amount_due {amount_due}")
    if kind == "payment_plan":
        items = offer.get("instalments")
        if not isinstance(items, list) or not items:
            raise ContextError("payment_plan offer has no instalments")
        out = []
        for n, item in enumerate(items, 1):
            try:
                due = dt.date.fromisoformat(item["due"] if "due" in item else item["due_date"])
                amount = item["amount"]
            except (KeyError, TypeError, ValueError):
                raise ContextError(f"instalment {n}: expected {{\"due\" (or \"due_date\"): \"YYYY-MM-DD\", "
                                   f"\"amount\": minor units}}, found {item!r}") from None
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                raise ContextError(f"instalment {n}: amount must be a positive integer of minor units")
            out.append({"number": n, "due": fmt.date(due), "due_short": fmt.date(due, "medium"),
                        "due_iso": due.isoformat(), "amount": fmt.money(amount, currency),
                        "amount_minor": amount})
        total = sum(i["amount_minor"] for i in out)
        if total != amount_due:
            raise ContextError(f"payment_plan instalments add up to {total}, amount_due is {amount_due} "
                               f"(minor units of {currency})")
        if any(a["due_iso"] > b["due_iso"] for a, b in zip(out, out[1:], strict=False)):
            raise ContextError("payment_plan instalments are not in date order")
        return {"type": kind, "count": len(out), "instalments": out, "total": fmt.money(total, currency),
                "total_minor": total}
    if kind == "extension":
        try:
            new_due = dt.date.fromisoformat(offer["new_due"] if "new_due" in offer else offer["new_due_date"])
        except (KeyError, TypeError, ValueError):
            raise ContextError("extension offer needs \"new_due\" (or \"new_due_date\"): "
                               "\"YYYY-MM-DD\"") from None
        return {"type": kind, "new_due": fmt.date(new_due), "new_due_short": fmt.date(new_due, "medium"),
                "new_due_iso": new_due.isoformat()}
    raise ContextError(f"unknown offer type {kind!r}; expected payment_plan or extension")


@lru_cache(maxsize=16)
def _company_vars(name: str, support_email: str, support_phone: str, website: str) -> dict[str, str]:
    return {"name": name, "support_email": support_email, "support_phone": support_phone, "website": website}


def _company(settings: RenderSettings) -> dict[str, str]:
    """The company variables, one shared dict per settings (the sandbox keeps templates from changing it)."""
    return _company_vars(settings.company_name, settings.support_email, settings.support_phone,
                         settings.website)


def _major(minor: int, currency: str) -> str:
    if not is_currency(currency):
        return str(minor)
    return format(to_major(minor, currency), f".{exponent(currency)}f")


def build_context(row: Mapping[str, Any], *, settings: RenderSettings, locale: str, language: str,
                  opt_out_required: bool, names: frozenset[str] | None = None) -> dict[str, Any]:
    """The template variables of one prepared row.

    Args:
        row: one row of :func:`prepare`'s frame, as a dict.
        settings: render settings (company, URLs, opt-out wording).
        locale: canonical BCP 47 tag to format amounts and dates in.
        language: language folder of the templates used (chooses the opt-out wording).
        opt_out_required: whether this channel must carry an opt-out line.
        names: variables the templates use; the costly ones (formatted invoice lines, links) are
            left empty when unused (None: build everything).

    Returns:
        The variables, documented in docs/render.md.

    Raises:
        ContextError: unknown customer or invoices, a bad offer, or a send time without offset.
    """
    key = row["message_key"]
    if not row[_C + "found"]:
        raise ContextError(f"customer {row['customer_id']} is not in the clean data")
    if row["missing_invoices"]:
        raise ContextError("invoices not in the clean data: " + ", ".join(row["missing_invoices"]))
    fmt = formatter(locale)
    currency = row["currency"] or ""
    amount_due = row["amount_due"] if row["amount_due"] is not None else 0
    late_fee = row.get("late_fee") or 0
    if not currency and (amount_due or row["kind"] not in NO_PAYMENT_KINDS):
        raise ContextError("currency is empty")
    try:
        local = dt.datetime.fromisoformat(row["send_at_local"])
    except ValueError:
        raise ContextError(f"send_at_local is not ISO 8601: {row['send_at_local']!r}") from None
    send_date = local.date()
    lines = row["lines"] or []
    invoices = []
    lines_total = 0
    same_currency = True
    want_lines = names is None or "invoices" in names
    for line in lines:
        remaining = 0 if line["status"] in _CLOSED else line["amount"] - line["amount_paid"]
        cur = line["currency"]
        same_currency = same_currency and cur == currency
        lines_total += remaining
        if not want_lines:
            continue
        invoices.append({
            "id": line["invoice_id"], "issue_date": fmt.date(line["issue_date"]),
            "due_date": fmt.date(line["due_date"]), "due_date_short": fmt.date(line["due_date"], "medium"),
            "amount": fmt.money(line["amount"], cur), "remaining": fmt.money(remaining, cur),
            "remaining_minor": remaining, "currency": cur, "is_credit": line["amount"] < 0,
            "days_overdue": max((send_date - line["due_date"]).days, 0),
        })
    earliest = lines[0]["due_date"] if lines else None
    values = {"customer_id": row["customer_id"], "message_key": key,
              "invoice_ids": lambda: ",".join(row["invoice_ids"] or []), "currency": currency,
              "amount": lambda: _major(amount_due, currency) if currency else "0", "kind": row["kind"]}
    is_payment_request = row["kind"] not in NO_PAYMENT_KINDS
    opt_out = settings.opt_out_text(language) if opt_out_required else ""
    reasons = list(row["reasons"] or [])
    amount_text = fmt.money(amount_due, currency) if currency else None

    def want(name: str) -> bool:
        return names is None or name in names

    return {
        "locale": locale,
        "language": language,
        "company": _company(settings),
        "customer": {"id": row["customer_id"], "name": _text(row[_C + "name"]),
                     "email": row[_C + "email"], "phone": row[_C + "phone"],
                     "country": row[_C + "country"], "city": _text(row[_C + "city"])},
        "message": {"key": key, "kind": row["kind"], "step": row["step"], "ladder": row["ladder"],
                    "channel": row["channel"], "tone": row["tone"], "reasons": reasons},
        "kind": row["kind"],
        "tone": row["tone"],
        "reasons": reasons,
        "send_date": fmt.date(send_date),
        "send_date_short": fmt.date(send_date, "medium"),
        "currency": currency,
        "amount_due": amount_text,
        "amount_due_minor": amount_due,
        "due_date": fmt.date(earliest) if earliest is not None else None,
        "due_date_short": fmt.date(earliest, "medium") if earliest is not None else None,
        "days_overdue": max((send_date - earliest).days, 0) if earliest is not None else 0,
        "invoices": invoices,
        "invoice_count": len(lines),
        "invoice_list": ", ".join(line["invoice_id"] for line in lines),
        "late_fee": fmt.money(late_fee, currency) if late_fee and currency else None,
        "late_fee_minor": late_fee,
        "show_lines": bool(lines) and is_payment_request and same_currency
        and lines_total + late_fee == amount_due,
        "totals": [{"currency": currency, "amount": amount_text, "amount_minor": amount_due}]
        if currency else [],
        "offer": _parse_offer(row["offer"], amount_due, currency, fmt),
        "is_payment_request": is_payment_request,
        "pay_url": build_url(settings.pay_url, values) if want("pay_url") else "",
        "feedback_url": build_url(settings.feedback_url, values) if want("feedback_url") else "",
        "manage_url": build_url(settings.manage_preferences_url, values) if want("manage_url") else "",
        "unsubscribe_url": build_url(settings.unsubscribe_url, values) if want("unsubscribe_url") else "",
        "opt_out": opt_out,
    }
