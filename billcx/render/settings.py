"""Render settings: who sends, where customers pay, how they opt out, what letters look like.

Built from the ``[render]`` table of a billcx TOML file with :func:`billcx.config.from_mapping`,
or constructed directly.  URL patterns may use the placeholders in :data:`URL_FIELDS`; values are
percent-encoded when the URL is built.  The defaults use the reserved ``example.com`` domain so a
demo bundle is complete; a real sender replaces them.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path

URL_FIELDS = ("customer_id", "message_key", "invoice_ids", "currency", "amount", "kind")
"""Placeholders a URL pattern may use: ``{customer_id}``, ``{message_key}``, ``{invoice_ids}``
(comma-separated), ``{currency}``, ``{amount}`` (major units, ``1234.50``) and ``{kind}``."""

DEFAULT_SMS_OPT_OUT: dict[str, str] = {
    "en": "Reply STOP to opt out.",
    "es": "Responda STOP para darse de baja.",
    "fr": "Répondez STOP pour vous désabonner.",
    "de": "Antworten Sie STOP zum Abmelden.",
}

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_CHANNELS = ("email", "sms", "letter", "push")


def _pattern_fields(pattern: str, name: str) -> None:
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValueError(f"{name}: invalid pattern {pattern!r} ({exc})") from None
    for _, fname, spec, conv in parsed:
        if fname is None:
            continue
        if fname not in URL_FIELDS or spec or conv:
            raise ValueError(f"{name}: unknown placeholder {{{fname}}}; use one of "
                             + ", ".join(f"{{{f}}}" for f in URL_FIELDS))


@dataclass(frozen=True)
class RenderSettings:
    """Everything the render stage needs besides the schedule, the data and the templates.

    Attributes:
        company_name: shown in greetings, signatures and the SMS prefix.
        from_address: ``From`` address of every email; its domain names the Message-IDs.
        from_name: display name in ``From`` (default: ``company_name``).
        reply_to: ``Reply-To`` address; empty for none.
        pay_url: pattern of the pay link (see :data:`URL_FIELDS`).
        feedback_url: pattern of the feedback survey link used by feedback messages.
        support_email: contact shown to customers.
        support_phone: contact phone shown to customers; empty to omit.
        website: company website shown in footers; empty to omit.
        unsubscribe_mailto: address for ``List-Unsubscribe`` mailto; empty for none.
        unsubscribe_url: HTTPS pattern for one-click ``List-Unsubscribe`` (RFC 8058); empty for none.
        manage_preferences_url: pattern of the page where customers choose channels; empty for none.
        opt_out_channels: channels whose messages must carry an opt-out line (SMS: the STOP wording;
            email: the unsubscribe or manage-preferences link); a message without it fails.
        sms_opt_out: STOP wording per language (``en``, ``fr`` ...); English when a language is absent.
        sms_segment_budget: most segments an SMS may take; longer ones fail lint (render counts them).
        sms_gsm_fallback: fold accented letters outside GSM-7 to their base letter (cheaper, less
            correct spelling).
        letter_sender: sender block printed on letters, one line per item.
        letter_font: a TrueType font for letters (e.g. DejaVuSans.ttf) giving full Unicode; without
            it letters use the PDF core font Helvetica and text is transliterated to Windows-1252.
        default_locale: language used when a customer's locale has no templates.
        template_fallback_to_kind: a schedule template id absent from the pack uses the template
            named after the message kind (recorded in the manifest); otherwise the message fails.
        message_id_domain: right-hand side of Message-IDs (default: the domain of ``from_address``).
    """

    company_name: str = "Example Co"
    from_address: str = "billing@example.com"
    from_name: str = ""
    reply_to: str = ""
    pay_url: str = "https://pay.example.com/c/{customer_id}?ref={message_key}"
    feedback_url: str = "https://example.com/feedback?ref={message_key}"
    support_email: str = "support@example.com"
    support_phone: str = ""
    website: str = "https://example.com"
    unsubscribe_mailto: str = "unsubscribe@example.com"
    unsubscribe_url: str = "https://example.com/unsubscribe/{customer_id}"
    manage_preferences_url: str = "https://example.com/preferences/{customer_id}"
    opt_out_channels: tuple[str, ...] = ("email", "sms")
    sms_opt_out: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SMS_OPT_OUT))
    sms_segment_budget: int = 2
    sms_gsm_fallback: bool = False
    letter_sender: tuple[str, ...] = ("Example Co", "1 Example Street", "12345 Example City")
    letter_font: Path | None = None
    default_locale: str = "en"
    template_fallback_to_kind: bool = True
    message_id_domain: str = ""

    def __post_init__(self) -> None:
        for name in ("from_address", "support_email"):
            if not _ADDRESS.match(getattr(self, name)):
                raise ValueError(f"{name}: expected an email address, found {getattr(self, name)!r}")
        for name in ("reply_to", "unsubscribe_mailto"):
            value = getattr(self, name)
            if value and not _ADDRESS.match(value):
                raise ValueError(f"{name}: expected an email address or empty, found {value!r}")
        for name in ("pay_url", "feedback_url", "unsubscribe_url", "manage_preferences_url"):
            value = getattr(self, name)
            if value:
                if not value.startswith(("https://", "http://")):
                    raise ValueError(f"{name}: expected an http(s) URL pattern, found {value!r}")
                _pattern_fields(value, name)
        if not self.pay_url:
            raise ValueError("pay_url: a pay link pattern is required")
        if self.unsubscribe_url and not self.unsubscribe_url.startswith("https://"):
            raise ValueError("unsubscribe_url: one-click unsubscribe (RFC 8058) needs an https:// URL")
        for ch in self.opt_out_channels:
            if ch not in _CHANNELS:
                raise ValueError(f"opt_out_channels: unknown channel {ch!r}; use {', '.join(_CHANNELS)}")
        if "email" in self.opt_out_channels and not (self.unsubscribe_url or self.manage_preferences_url):
            raise ValueError("opt_out_channels: email needs unsubscribe_url or manage_preferences_url")
        if "sms" in self.opt_out_channels and not self.sms_opt_out.get("en"):
            raise ValueError("sms_opt_out: an English ('en') wording is required as the fallback")
        if self.sms_segment_budget < 1:
            raise ValueError("sms_segment_budget: must be at least 1")
        if any(ch in self.company_name for ch in "\r\n"):
            raise ValueError("company_name: must be one line")

    @property
    def sender_name(self) -> str:
        """Display name used in ``From``."""
        return self.from_name or self.company_name

    @property
    def msgid_domain(self) -> str:
        """Domain used on the right of Message-IDs."""
        return self.message_id_domain or self.from_address.rsplit("@", 1)[1].lower()

    def opt_out_text(self, language: str) -> str:
        """The SMS STOP wording for ``language`` (English when none is configured)."""
        return self.sms_opt_out.get(language) or self.sms_opt_out.get("en", "")
