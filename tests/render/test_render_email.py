"""The .eml files: RFC 5322 / MIME structure, parsed back with the stdlib parser."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from billcx.render import RenderSettings, render
from billcx.render.email import EmailParts, address_header, build_eml, header
from billcx.store import CleanData

from .builders import SEND, row, schedule


def _eml(
    data: CleanData, rows: list[dict[str, object]], key: str, settings: RenderSettings | None = None
) -> bytes:
    result = render(schedule(rows), data, settings=settings)
    assert result.failures.is_empty(), result.failures.to_dicts()
    return result.body(key)


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_eml_headers_parts_and_crlf(data: CleanData) -> None:
    raw = _eml(data, [row("k1", "C1", ["F-1", "F-2"], "CAD", 123_456, "overdue", "email")], "k1")
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    msg = _parse(raw)
    assert msg["Date"] == "Tue, 03 Nov 2026 10:30:00 +0100"  # planned local send time
    assert msg["From"] == "Example Co <billing@example.com>"
    assert msg["To"].addresses[0].addr_spec == "jean@example.fr"
    assert msg["X-Billcx-Message-Key"] == "k1"
    assert msg["X-Billcx-Send-At"] == "2026-11-03T09:30:00Z"
    assert msg["MIME-Version"] == "1.0"
    assert msg["Message-ID"].endswith(".billcx@example.com>")
    assert msg["List-Unsubscribe"] == (
        "<mailto:unsubscribe@example.com?subject=unsubscribe%20C1>, <https://example.com/unsubscribe/C1>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "1 234,56 $" in text.replace("\xa0", " ").replace("\u202f", " ")  # fr-CA formatting
    assert "https://pay.example.com/c/C1?ref=k1" in text
    assert msg["Subject"].startswith("Rappel : ")


def test_eml_is_deterministic_and_ids_derive_from_the_key(data: CleanData) -> None:
    rows = [
        row("k1", "C1", ["F-1"], "CAD", 100_000, "pre_due", "email"),
        row("k2", "C1", ["F-1"], "CAD", 100_000, "pre_due", "email"),
    ]
    first = render(schedule(rows), data)
    second = render(schedule(rows), data)
    assert first.body("k1") == second.body("k1")
    ids = {_parse(first.body(k))["Message-ID"] for k in ("k1", "k2")}
    assert len(ids) == 2


def test_no_list_unsubscribe_without_configuration(data: CleanData) -> None:
    settings = RenderSettings(unsubscribe_mailto="", unsubscribe_url="")
    raw = _eml(data, [row("k1", "C4", ["U-1"], "USD", 9_999, "due", "email")], "k1", settings)
    msg = _parse(raw)
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None
    assert "https://example.com/preferences/C4" in msg.get_body(preferencelist=("plain",)).get_content()


def test_non_ascii_and_hostile_header_values_round_trip_safely() -> None:
    assert (
        header("Subject", "Rappel : échéance dépassée depuis le 1er octobre 2026, merci de régler").count(
            "=?utf-8?b?"
        )
        >= 2
    )
    line = address_header("To", 'Dupont, Jean "JD"\r\nBcc: evil@example.com', "jean@example.fr")
    assert "\r\nBcc" not in line and line.count("\r\n") == 1
    parts = EmailParts(
        message_key="k",
        date=SEND,
        from_name="Café Crème",
        from_address="billing@example.com",
        to_name="Zoë Ångström",
        to_address="zoe@exämple.com",
        subject="Ihre Rechnung über 12,00 €",
        text="Grüße\n",
        html="<p>Grüße</p>\n",
    )
    msg = _parse(build_eml(parts))
    assert msg["Subject"] == "Ihre Rechnung über 12,00 €"
    assert msg["To"].addresses[0].display_name == "Zoë Ångström"
    assert msg["To"].addresses[0].domain == "xn--exmple-cua.com"
    assert msg["From"].addresses[0].display_name == "Café Crème"
    assert msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n") == "Grüße\n"


def test_email_without_address_fails_that_message_only(data: CleanData) -> None:
    cust = data.customers.with_columns(
        pl.when(pl.col("customer_id") == "C2").then(None).otherwise(pl.col("email")).alias("email")
    )
    data = CleanData(cust, data.invoices, data.payments)
    result = render(
        schedule(
            [
                row("ok", "C1", ["F-1"], "CAD", 100_000, "due", "email"),
                row("bad", "C2", ["E-1"], "EUR", 4_000, "due", "email"),
            ]
        ),
        data,
    )
    assert result.counts.rendered == 1 and result.counts.failed == 1
    assert result.failures.select("message_key", "code").to_dicts() == [
        {"message_key": "bad", "code": "recipient"}
    ]


_HEADER_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"),
    max_size=200,
)


@given(_HEADER_TEXT)
def test_any_subject_round_trips_through_the_stdlib_parser(subject: str) -> None:
    raw = header("Subject", subject) + "\r\n"
    for line in raw.split("\r\n"):
        words = line.removeprefix("Subject:").split()
        assert len(line) <= 78 or len(words) == 1  # only an unbreakable word may overflow
    parsed = email.message_from_string(raw, policy=email.policy.default)["Subject"]
    assert " ".join(parsed.split()) == " ".join(subject.split())


@given(_HEADER_TEXT)
def test_any_display_name_round_trips(name: str) -> None:
    raw = address_header("To", name, "someone@example.com") + "\r\n"
    addr = email.message_from_string(raw, policy=email.policy.default)["To"].addresses[0]
    assert addr.addr_spec == "someone@example.com"
    # RFC 2047 6.2: whitespace between encoded words is ignored; the stdlib's address parser keeps
    # it (it does so for its own output too), so compare without whitespace.
    assert "".join(addr.display_name.split()) == "".join(name.split())


def test_date_header_keeps_each_zone_offset_for_the_same_instant() -> None:
    """Same instant, two zones: each message's Date header shows its own offset.

    A cache keyed on the datetime once mixed them up (aware datetimes of one instant compare equal),
    so an .eml's bytes depended on which message a process had rendered before.
    """
    from zoneinfo import ZoneInfo

    from billcx.render.email import _date_header

    tokyo = dt.datetime(2026, 11, 2, 10, 56, tzinfo=ZoneInfo("Asia/Tokyo"))
    utc = tokyo.astimezone(dt.UTC)
    assert tokyo == utc
    assert "+0900" in _date_header(tokyo)
    assert "+0000" in _date_header(utc)


@given(
    when=st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_date_header_is_the_folded_rfc_5322_date(when: dt.datetime, offset_minutes: int) -> None:
    """The Date line equals the general header builder's, for any instant and offset."""
    from email.utils import format_datetime

    from billcx.render.email import _date_header

    aware = when.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset_minutes)))
    reread = dt.datetime.fromisoformat(aware.isoformat())
    assert _date_header(aware) == header("Date", format_datetime(reread))
