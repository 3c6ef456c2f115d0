"""RFC 5322 / MIME email files that any sender can relay byte for byte.

The stdlib ``EmailMessage`` makes random boundaries and Message-IDs and folds non-ASCII headers
slowly (~100 us each), so messages are assembled here directly, with the same rules:

* CRLF line ends everywhere; header lines folded to at most 78 characters;
* non-ASCII header text as RFC 2047 ``=?utf-8?b?...?=`` encoded words, display names quoted or
  encoded as RFC 5322 requires, and CR/LF/control characters removed (no header injection);
* ``multipart/alternative`` with a ``text/plain`` part (UTF-8, quoted-printable: readable in the
  raw file) and a ``text/html`` part (UTF-8, base64: HTML is full of ``=``, which quoted-printable
  escapes one by one at 15 times the cost), so no body line exceeds 76 characters;
* ``Date`` is the planned send time in the customer's offset; ``Message-ID`` and the MIME boundary
  derive from the message key (byte-identical reruns).  The boundary starts with ``=_``, which
  neither a quoted-printable nor a base64 body can contain, so it cannot collide with the content.

The result parses back with the stdlib parser (tests do so).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from email.utils import format_datetime
from functools import lru_cache

MAX_LINE = 78
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_ADDRESS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+$")


class AddressError(ValueError):
    """An email address that cannot be put in a header as is."""


@dataclass(frozen=True)
class EmailParts:
    """What one email says, before encoding."""

    message_key: str
    date: dt.datetime  # aware: the planned local send time
    from_name: str
    from_address: str
    to_name: str | None
    to_address: str
    subject: str
    text: str
    html: str
    reply_to: str = ""
    msgid_domain: str = "localhost"
    language: str = ""
    list_unsubscribe: tuple[str, ...] = ()  # URIs without angle brackets: mailto:..., https://...
    one_click: bool = False
    send_at_utc: str = ""


def ascii_address(address: str) -> str:
    """An address usable in a header: IDN domains become punycode; a non-ASCII local part fails.

    Raises:
        AddressError: the address is malformed or needs SMTPUTF8.
    """
    address = address.strip()
    if "@" not in address:
        raise AddressError("email address has no @")
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise AddressError("email address has a non-ASCII local part (needs SMTPUTF8)")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise AddressError("email address domain is not a valid IDN") from None
    out = f"{local}@{domain}"
    if not _ADDRESS.match(out):
        raise AddressError("email address contains characters not allowed in a header")
    return out


def _encoded_words(text: str, first_room: int) -> list[str]:
    """RFC 2047 base64 encoded words, each at most 75 characters, never splitting a character."""
    data = text.encode("utf-8")
    words: list[str] = []
    budget = max(min(first_room, 75) - 12, 4) // 4 * 3  # bytes fitting in the first word
    start = 0
    while start < len(data):
        end = min(start + budget, len(data))
        while end < len(data) and end > start + 1 and (data[end] & 0xC0) == 0x80:
            end -= 1  # do not cut a UTF-8 sequence: back up to the start of the character
        words.append("=?utf-8?b?" + base64.b64encode(data[start:end]).decode("ascii") + "?=")
        start = end
        budget = 45  # 60 base64 characters + 12 of syntax = 72, under 75 with the fold space
    return words


def _fold(name: str, tokens: list[str]) -> str:
    """``Name: tok tok ...`` folded with CRLF + space so lines stay within 78 characters."""
    lines = [f"{name}:"]
    for tok in tokens:
        if len(lines[-1]) + 1 + len(tok) > MAX_LINE and lines[-1] != f"{name}:":
            lines.append(" " + tok)
        else:
            lines[-1] += " " + tok
    return "\r\n".join(lines) + "\r\n"


def header(name: str, value: str) -> str:
    """An unstructured header line (Subject, X-...): folded, RFC 2047-encoded when not ASCII."""
    value = (value if value.isprintable() else _CONTROL.sub(" ", value)).strip()
    if value.isascii() and "=?" not in value:  # "=?" would read as an encoded word: encode it
        if len(name) + 2 + len(value) <= MAX_LINE:
            return f"{name}: {value}\r\n"
        return _fold(name, value.split(" "))
    return _fold(name, _encoded_words(value, MAX_LINE - len(name) - 2))


def address_header(name: str, display: str | None, address: str) -> str:
    """``To: "Name" <addr>`` with the display name quoted or encoded as needed."""
    addr = ascii_address(address)
    display = display or ""
    display = (display if display.isprintable() else _CONTROL.sub(" ", display)).strip()
    if not display:
        return _fold(name, [addr])
    if display.isascii() and "=?" not in display:
        if _SPECIALS.search(display):
            display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return _fold(name, [*display.split(" "), f"<{addr}>"])
    return _fold(name, [*_encoded_words(display, MAX_LINE - len(name) - 2), f"<{addr}>"])


def _b64(text: str) -> bytes:
    """Base64 in 76-character CRLF lines (the HTML part: QP-encoding its many ``=`` costs 15x more)."""
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    raw = binascii.b2a_base64(body.encode("utf-8"), newline=False)
    return b"\r\n".join([raw[i:i + 76] for i in range(0, len(raw), 76)]) + b"\r\n"


def _qp(text: str) -> bytes:
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    return binascii.b2a_qp(body.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def message_id(message_key: str, domain: str) -> str:
    """Deterministic Message-ID for a message key."""
    return f"<{hashlib.sha256(message_key.encode()).hexdigest()[:32]}.billcx@{domain}>"


def boundary(message_key: str) -> str:
    """Deterministic MIME boundary for a message key (``=_`` never occurs in quoted-printable)."""
    return "=_billcx_" + hashlib.sha256(b"boundary\x00" + message_key.encode()).hexdigest()[:32]


def _date_header(when: dt.datetime) -> str:
    # RFC 5322 date-time: 31 printable ASCII characters at most, so never folded or encoded.  Not
    # cached: send times are per customer, and a cache keyed on aware datetimes would mix zones
    # (the same instant in two zones compares equal).
    return f"Date: {format_datetime(when)}\r\n"


@lru_cache(maxsize=16)
def _from_header(name: str, address: str) -> str:
    return address_header("From", name, address)


def build_eml(parts: EmailParts) -> bytes:
    """The complete ``.eml`` file (CRLF, folded headers, quoted-printable parts).

    Raises:
        AddressError: the recipient or sender address cannot be used.
    """
    bnd = boundary(parts.message_key)
    head = [
        _date_header(parts.date),
        _from_header(parts.from_name, parts.from_address),
        address_header("To", parts.to_name, parts.to_address),
    ]
    if parts.reply_to:
        head.append(address_header("Reply-To", None, parts.reply_to))
    head.append(header("Subject", parts.subject))
    head.append(header("Message-ID", message_id(parts.message_key, parts.msgid_domain)))
    head.append(header("X-Billcx-Message-Key", parts.message_key))
    if parts.send_at_utc:
        head.append(header("X-Billcx-Send-At", parts.send_at_utc))
    if parts.list_unsubscribe:
        head.append(_fold("List-Unsubscribe", [f"<{u}>," for u in parts.list_unsubscribe[:-1]]
                          + [f"<{parts.list_unsubscribe[-1]}>"]))
        if parts.one_click:
            head.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
    head.append("Auto-Submitted: auto-generated\r\n")
    if parts.language:
        head.append(header("Content-Language", parts.language))
    head.append("MIME-Version: 1.0\r\n")
    head.append(f'Content-Type: multipart/alternative;\r\n boundary="{bnd}"\r\n')
    out = bytearray("".join(head).encode("ascii"))
    out += b"\r\n"
    for ctype, cte, data in (("text/plain", "quoted-printable", _qp(parts.text)),
                             ("text/html", "base64", _b64(parts.html))):
        out += (f"--{bnd}\r\nContent-Type: {ctype}; charset=\"utf-8\"\r\n"
                f"Content-Transfer-Encoding: {cte}\r\n\r\n").encode("ascii")
        out += data
        out += b"\r\n"  # the CRLF before a boundary belongs to the boundary (RFC 2046 5.1.1)
    out += f"--{bnd}--\r\n".encode("ascii")
    return bytes(out)
