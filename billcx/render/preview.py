"""``preview``: render one customer's planned messages for reading in a terminal, without writing."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from billcx.errors import UsageError
from billcx.render.pipeline import render
from billcx.render.settings import RenderSettings
from billcx.store import CleanData


@dataclass(frozen=True)
class PreviewMessage:
    """One message as a person would read it.

    Attributes:
        message_key: key from the schedule.
        channel: email, sms, letter, push or task.
        kind: message kind.
        send_at_local: planned local send time.
        template: template used (``fr/overdue``), or the schedule's id when it failed.
        subject: subject or title (None for SMS and tasks).
        text: the readable content: the email's plain-text part, the SMS or push text, the letter's
            subject (its PDF is not shown), the task summary, or the error of a failed message.
        failed: the message could not be rendered (``text`` says why).
        arm: treatment or holdout (holdout messages are listed but never rendered).
    """

    message_key: str
    channel: str
    kind: str
    send_at_local: str
    template: str
    subject: str | None
    text: str
    failed: bool = False
    arm: str = "treatment"


def _email_text(data: bytes) -> str:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content()).replace("\r\n", "\n") if part is not None else ""


def preview(schedule: pl.DataFrame, data: CleanData, customer_id: str, *,
            settings: RenderSettings | None = None, templates: Path | None = None) -> list[PreviewMessage]:
    """Render the messages planned for one customer, in send order.

    Args:
        schedule: the plan's schedule.
        data: the clean tables.
        customer_id: the customer to show.
        settings: render settings.
        templates: a template pack folder; None for the default pack.

    Returns:
        The customer's messages (holdout rows listed as not sent), sorted by send time and key.

    Raises:
        UsageError: the schedule has no message for ``customer_id``.
    """
    rows = schedule.filter(pl.col("customer_id") == customer_id).sort("send_at_utc", "message_key")
    if rows.is_empty():
        raise UsageError(f"no planned messages for customer {customer_id}",
                         hint="check the id, or run `billcx plan` for the date you expect")
    result = render(rows.filter(pl.col("arm") != "holdout"), data, settings=settings, templates=templates)
    manifest = {r["message_key"]: r for r in result.manifest.iter_rows(named=True)}
    failures = {r["message_key"]: r for r in result.failures.iter_rows(named=True)}
    sms = {r["message_key"]: r["text"] for r in result.sms.iter_rows(named=True)}
    push = {r["message_key"]: r["body"] for r in result.push.iter_rows(named=True)}
    tasks = {r["message_key"]: r["summary"] for r in result.tasks.iter_rows(named=True)}
    out: list[PreviewMessage] = []
    for r in rows.iter_rows(named=True):
        key = r["message_key"]
        base = {"message_key": key, "channel": r["channel"], "kind": r["kind"],
                "send_at_local": r["send_at_local"], "arm": r["arm"]}
        if r["arm"] == "holdout":
            out.append(PreviewMessage(**base, template=r["template"], subject=None,
                                      text="(holdout: not sent, kept as the experiment's control)"))
        elif key in failures:
            f = failures[key]
            out.append(PreviewMessage(**base, template=f["template"], subject=None, failed=True,
                                      text=f"{f['code']}: {f['error']}"))
        else:
            m = manifest[key]
            if r["channel"] == "email":
                text = _email_text(result.bodies.get(m["path"]))
            elif r["channel"] == "letter":
                text = f"(PDF letter to {m['recipient']}: {m['subject']})"
            else:
                text = sms.get(key) or push.get(key) or tasks.get(key) or ""
            out.append(PreviewMessage(**base, template=m["template"], subject=m["subject"], text=text))
    return out
