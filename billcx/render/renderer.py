"""Rendering one prepared schedule row into a file, an SMS row or a push row (or a failure).

A :class:`Renderer` holds the compiled template pack and the settings; it is built once per process
and renders rows one by one.  Every failure (template error, missing variable, bad data, unusable
address) becomes a :class:`Failure` naming the template and the message key; nothing is written for
that message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, UndefinedError
from jinja2.sandbox import SecurityError

from billcx.export import FORMULA_TRIGGERS
from billcx.render import sms as smslib
from billcx.render.context import _C, ContextError, build_context
from billcx.render.email import AddressError, EmailParts, build_eml
from billcx.render.environment import (
    REQUIRED_MACROS,
    MessageModule,
    MissingValueError,
    Pack,
    Resolved,
    TemplateNotFound,
    describe_error,
    raised_in_template,
    render_shared,
)
from billcx.render.letters import LetterFontError, LetterParts, build_pdf, check_font, to_cp1252
from billcx.render.locales import babel_locale, fallback_chain, format_locale
from billcx.render.settings import RenderSettings

logger = logging.getLogger(__name__)

# Variables the renderer itself reads besides what the templates use (headers, push links).
_CHANNEL_NAMES = {"email": frozenset({"manage_url", "unsubscribe_url"}), "push": frozenset({"pay_url"})}
SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")


_CODES: dict[type, str] = {TemplateNotFound: "not-found", ContextError: "data", AddressError: "recipient",
                            LetterFontError: "font"}


class MessageError(ValueError):
    """A rendered message that must not be sent (empty, missing opt-out, unusable recipient)."""

    def __init__(self, message: str, *, code: str = "message") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Rendered:
    """One rendered message: its manifest row and, for files, the body."""

    manifest: dict[str, Any]
    body: bytes | None = None
    sms: dict[str, Any] | None = None
    push: dict[str, Any] | None = None
    fell_back: bool = False
    lines_hidden: bool = False
    html: str | None = None  # rendered HTML, kept only for lint


@dataclass
class Failure:
    """A message that could not be rendered."""

    message_key: str
    customer_id: str
    channel: str
    template: str
    code: str
    error: str


@dataclass
class ChunkOutput:
    """What rendering a run of rows produced, in row order."""

    rendered: list[Rendered] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def clean_text(text: str) -> str:
    """Template output tidied: no trailing blanks, at most one empty line in a row, trimmed."""
    text = str(text)
    if "\r" not in text and " \n" not in text and "\t\n" not in text and "\n\n\n" not in text:
        return text.strip()  # already tidy (most messages): four scans instead of two regex passes
    return _BLANK_RUNS.sub("\n\n", _TRAILING.sub("\n", text.replace("\r\n", "\n"))).strip()


def one_line(text: str) -> str:
    """Template output as a single line (subjects, titles)."""
    return " ".join(str(text).split())


def file_sha(data: bytes) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


class Renderer:
    """Renders prepared rows with one template pack and one settings object."""

    def __init__(self, settings: RenderSettings, templates: Path | None = None, *,
                 keep_html: bool = False, log_failures: bool = True, letters_pdf: bool = True) -> None:
        self.settings = settings
        self.letters_pdf = letters_pdf
        self.keep_html = keep_html
        self.log_failures = log_failures
        self.pack = Pack.cached(templates)
        self._chains: dict[str | None, tuple[str, ...]] = {}
        self._locales: dict[tuple[str | None, str], str] = {}

    def chain(self, locale: str | None) -> tuple[str, ...]:
        """Template languages tried for a customer locale."""
        hit = self._chains.get(locale)
        if hit is None:
            hit = self._chains[locale] = tuple(fallback_chain(locale, self.settings.default_locale))
        return hit

    def format_locale(self, locale: str | None, language: str) -> str:
        """Locale used for amounts and dates (cached)."""
        key = (locale, language)
        hit = self._locales.get(key)
        if hit is None:
            hit = self._locales[key] = format_locale(locale, language)
        return hit

    def render_rows(self, rows: list[dict[str, Any]]) -> ChunkOutput:
        """Render rows in order."""
        out = ChunkOutput()
        for row in rows:
            result = self.render_row(row)
            if isinstance(result, Failure):
                out.failures.append(result)
            else:
                out.rendered.append(result)
        return out

    def render_row(self, row: dict[str, Any]) -> Rendered | Failure:
        """Render one prepared row (see :func:`billcx.render.context.prepare`)."""
        key, channel = row["message_key"], row["channel"]
        template: str = row["template"]
        resolved: Resolved | None = None
        try:
            if not SAFE_KEY.match(key):
                raise MessageError("message_key must be 1-128 letters, digits, '.', '_' or '-' "
                                   "(it names the message's file)", code="key")
            resolved = self.pack.resolve(template, row["kind"], channel, self.chain(row[_C + "locale"]),
                                         fallback_to_kind=self.settings.template_fallback_to_kind)
            template = resolved.name
            locale = self.format_locale(row[_C + "locale"], resolved.language)
            ctx = build_context(row, settings=self.settings, locale=locale, language=resolved.language,
                                opt_out_required=channel in self.settings.opt_out_channels,
                                names=resolved.names | _CHANNEL_NAMES.get(channel, frozenset()))
            if channel == "email":
                rendered = self._email(row, ctx, resolved)
            elif channel == "sms":
                rendered = self._sms(row, ctx, resolved)
            elif channel == "letter":
                rendered = self._letter(row, ctx, resolved)
            elif channel == "push":
                rendered = self._push(row, ctx, resolved)
            else:
                raise MessageError(f"channel {channel!r} cannot be rendered", code="channel")
        except MessageError as exc:
            return self._fail(row, template, exc.code, str(exc))
        except (TemplateNotFound, ContextError, AddressError, LetterFontError) as exc:
            return self._fail(row, template, _CODES[type(exc)], str(exc))
        except UndefinedError as exc:
            return self._fail(row, template, "undefined", describe_error(exc, self.pack))
        except MissingValueError as exc:
            return self._fail(row, template, "none-value", describe_error(exc, self.pack))
        except SecurityError as exc:
            return self._fail(row, template, "sandbox", describe_error(exc, self.pack))
        except TemplateError as exc:
            return self._fail(row, template, "template", describe_error(exc, self.pack))
        except Exception as exc:
            # Template code can raise anything (1/0, a filter given bad arguments): that fails the
            # message.  An exception raised outside any template is a bug in billcx: let it surface.
            if not raised_in_template(exc, self.pack):
                raise
            return self._fail(row, template, "template",
                              f"{type(exc).__name__}: {describe_error(exc, self.pack)}")
        rendered.fell_back = resolved.fell_back_to_kind
        rendered.lines_hidden = bool(ctx["invoice_count"]) and ctx["is_payment_request"] \
            and not ctx["show_lines"]
        return rendered

    def _fail(self, row: dict[str, Any], template: str, code: str, error: str) -> Failure:
        if self.log_failures:
            logger.debug("message %s (template %s) failed: %s", row["message_key"], template, error)
        return Failure(row["message_key"], row["customer_id"], row["channel"], template, code, error)

    def _module(self, resolved: Resolved, ctx: dict[str, Any]) -> MessageModule:
        ctx.update(self.pack.env.globals)
        module = MessageModule(resolved.message, ctx)
        for name in REQUIRED_MACROS:
            if not module.has(name):
                raise MessageError(f"{resolved.name}.j2: no macro '{name}' (every message template "
                                   f"defines {', '.join(REQUIRED_MACROS)})", code="missing-macro")
        return module

    def _manifest(self, row: dict[str, Any], ctx: dict[str, Any], resolved: Resolved, *, recipient: str,
                  subject: str | None, path: str, sha256: str, size: int, enc: str | None = None,
                  segments: int | None = None) -> dict[str, Any]:
        return {"message_key": row["message_key"], "customer_id": row["customer_id"],
                "channel": row["channel"], "kind": row["kind"], "send_at_utc": row["send_at_utc"],
                "send_at_local": row["send_at_local"], "timezone": row["timezone"], "recipient": recipient,
                "subject": subject, "path": path, "sha256": sha256, "bytes": size, "sms_encoding": enc,
                "sms_segments": segments, "locale": ctx["locale"], "template": resolved.name,
                "template_sha256": resolved.sha256}

    def _email(self, row: dict[str, Any], ctx: dict[str, Any], resolved: Resolved) -> Rendered:
        address = row[_C + "email"]
        if not address:
            raise MessageError("customer has no email address", code="recipient")
        module = self._module(resolved, ctx)
        subject = one_line(module.part("subject"))
        body = clean_text(module.part("body"))
        if not subject or not body:
            raise MessageError(f"{resolved.name}: the {'subject' if not subject else 'body'} is empty",
                               code="empty")
        text_tpl, html_tpl = resolved.layouts
        ctx["subject"], ctx["body"] = subject, body
        text = clean_text(render_shared(text_tpl, ctx)) + "\n"
        html = render_shared(html_tpl, ctx).strip() + "\n"
        if row["channel"] in self.settings.opt_out_channels:
            links = [u for u in (ctx["manage_url"], ctx["unsubscribe_url"]) if u]
            for part, content in (("text", text), ("HTML", html.replace("&amp;", "&"))):
                if not any(u in content for u in links):
                    raise MessageError(f"{resolved.name}: the {part} part has no unsubscribe or "
                                       "manage-preferences link (required for email)", code="opt-out")
        s = self.settings
        unsub: list[str] = []
        if s.unsubscribe_mailto:
            unsub.append(f"mailto:{s.unsubscribe_mailto}?subject=unsubscribe%20{row['customer_id']}")
        if ctx["unsubscribe_url"]:
            unsub.append(ctx["unsubscribe_url"])
        data = build_eml(EmailParts(
            message_key=row["message_key"], date=_send_time(row), from_name=s.sender_name,
            from_address=s.from_address, to_name=ctx["customer"]["name"], to_address=address,
            subject=subject, text=text, html=html, reply_to=s.reply_to, msgid_domain=s.msgid_domain,
            language=ctx["locale"], list_unsubscribe=tuple(unsub), one_click=bool(ctx["unsubscribe_url"]),
            send_at_utc=row["send_at_utc"].strftime("%Y-%m-%dT%H:%M:%SZ")))
        path = f"email/{row['message_key']}.eml"
        return Rendered(self._manifest(row, ctx, resolved, recipient=address, subject=subject, path=path,
                                       sha256=file_sha(data), size=len(data)), body=data,
                        html=html if self.keep_html else None)

    def _sms(self, row: dict[str, Any], ctx: dict[str, Any], resolved: Resolved) -> Rendered:
        phone = row[_C + "phone"]
        if not phone or not E164.match(phone):
            raise MessageError("customer has no mobile number in E.164 (+ and 7-15 digits)",
                               code="recipient")
        module = self._module(resolved, ctx)
        msg = smslib.prepare(module.part("sms"), fallback_to_gsm=self.settings.sms_gsm_fallback)
        if not msg.text:
            raise MessageError(f"{resolved.name}: the SMS text is empty", code="empty")
        if msg.text.startswith(FORMULA_TRIGGERS):
            raise MessageError(f"{resolved.name}: the SMS text starts with {msg.text[0]!r}, which "
                               "spreadsheets run as a formula; start it with a word", code="formula")
        if ctx["opt_out"] and smslib.normalise(ctx["opt_out"]) not in msg.text:
            raise MessageError(f"{resolved.name}: the SMS has no opt-out wording (required); "
                               "add {{ opt_out }}", code="opt-out")
        data = msg.text.encode("utf-8")
        manifest = self._manifest(row, ctx, resolved, recipient=phone, subject=None, path="sms.csv",
                                  sha256=file_sha(data), size=len(data), enc=msg.encoding,
                                  segments=msg.segments)
        return Rendered(manifest, sms={"message_key": row["message_key"], "to": phone, "text": msg.text,
                                       "encoding": msg.encoding, "segments": msg.segments,
                                       "send_at_utc": row["send_at_utc"],
                                       "send_at_local": row["send_at_local"],
                                       "customer_id": row["customer_id"]})

    def _push(self, row: dict[str, Any], ctx: dict[str, Any], resolved: Resolved) -> Rendered:
        module = self._module(resolved, ctx)
        title = one_line(module.part("subject"))
        body = smslib.normalise(module.part("push" if module.has("push") else "sms"))
        if not title or not body:
            raise MessageError(f"{resolved.name}: the push title or text is empty", code="empty")
        url = ctx["pay_url"] if ctx["is_payment_request"] else None
        data = f"{title}\n{body}".encode()
        manifest = self._manifest(row, ctx, resolved, recipient=row["customer_id"], subject=title,
                                  path="push.csv", sha256=file_sha(data), size=len(data))
        return Rendered(manifest, push={"message_key": row["message_key"], "customer_id": row["customer_id"],
                                        "title": title, "body": body, "url": url,
                                        "send_at_utc": row["send_at_utc"],
                                        "send_at_local": row["send_at_local"]})

    def _letter(self, row: dict[str, Any], ctx: dict[str, Any], resolved: Resolved) -> Rendered:
        name = ctx["customer"]["name"]
        line1 = _one(row[_C + "address_line1"])
        town = " ".join(p for p in (_one(row[_C + "postal_code"]), _one(row[_C + "city"])) if p)
        if not name or not line1 or not town:
            raise MessageError("customer has no complete postal address (name, address_line1, "
                               "postal_code or city)", code="recipient")
        country = row[_C + "country"]
        country_name = babel_locale(ctx["locale"]).territories.get(country, country) if country else None
        recipient = (name, line1, _one(row[_C + "address_line2"]) or "", town,
                     country_name.upper() if country_name else "")
        module = self._module(resolved, ctx)
        subject = one_line(module.part("subject"))
        body = clean_text(module.part("body"))
        if not subject or not body:
            raise MessageError(f"{resolved.name}: the letter subject or body is empty", code="empty")
        ctx["subject"], ctx["body"] = subject, body
        html = render_shared(resolved.layouts[0], ctx)
        if not self.letters_pdf:  # lint: check printability without laying out a PDF
            if self.settings.letter_font is None:
                to_cp1252("\n".join((*recipient, subject, html)))
            else:
                check_font("\n".join((*recipient, subject, html)), self.settings.letter_font)
            return Rendered(self._manifest(row, ctx, resolved, recipient=name, subject=subject, path="",
                                           sha256="", size=0), html=html)
        data = build_pdf(LetterParts(
            sender=self.settings.letter_sender, recipient=recipient, date_line=ctx["send_date"],
            subject=subject, body_html=html, created=row["send_at_utc"], author=self.settings.company_name,
            language=ctx["locale"], reference=row["message_key"]), font=self.settings.letter_font)
        path = f"letters/{row['message_key']}.pdf"
        return Rendered(self._manifest(row, ctx, resolved, recipient=name, subject=subject, path=path,
                                       sha256=file_sha(data), size=len(data)), body=data,
                        html=html if self.keep_html else None)


def _one(value: Any) -> str | None:
    if value is None:
        return None
    return " ".join(str(value).split()) or None


def _send_time(row: dict[str, Any]) -> dt.datetime:
    try:
        local = dt.datetime.fromisoformat(row["send_at_local"])
    except ValueError:
        local = None
    if local is None or local.tzinfo is None:
        utc: dt.datetime = row["send_at_utc"]
        return utc if utc.tzinfo else utc.replace(tzinfo=dt.UTC)
    return local
