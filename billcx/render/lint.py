"""``templates lint``: check a template pack before it reaches a customer.

Checks, each a :class:`Finding` with a stable code:

* ``syntax`` (error): a file does not compile;
* ``undefined-name`` (error): a template uses a variable no message provides (static check, so
  branches the samples do not take are covered too);
* render failures on sample data (error), with the renderer's codes: ``undefined``, ``none-value``,
  ``opt-out``, ``empty``, ``missing-macro``, ``formula``, ``template``, ``sandbox``, ``font`` ...;
* ``sms-budget`` (error): an SMS takes more segments than ``settings.sms_segment_budget``;
* ``sms-ucs2`` (warning): an SMS needs UCS-2 (names the characters that force it);
* ``html`` (error): email or letter HTML with unbalanced or mis-nested tags;
* ``language-tag`` (error): a folder name that is not a BCP 47 language tag;
* ``missing-template`` (warning): a language lacks a message template the default language has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

from jinja2 import TemplateSyntaxError, meta

from billcx.errors import UsageError
from billcx.render import sms as smslib
from billcx.render.context import prepare
from billcx.render.environment import Pack
from billcx.render.locales import canonical_tag
from billcx.render.renderer import Failure, Renderer
from billcx.render.samples import sample_inputs
from billcx.render.settings import RenderSettings

Severity = Literal["error", "warning"]
_LOCATED = re.compile(r"^(?P<file>[^\s:]+\.j2):(?P<line>\d+): (?P<msg>.*)$", re.S)
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                   "source", "track", "wbr"})
# Variables every message sees (see build_context) plus what layouts receive and Jinja's globals.
KNOWN_NAMES = frozenset({
    "locale", "language", "company", "customer", "message", "kind", "tone", "reasons", "send_date",
    "send_date_short", "currency", "amount_due", "amount_due_minor", "due_date", "due_date_short",
    "days_overdue", "late_fee", "late_fee_minor", "invoices", "invoice_count", "invoice_list",
    "show_lines", "totals", "offer",
    "is_payment_request", "pay_url", "feedback_url", "manage_url", "unsubscribe_url", "opt_out",
    "subject", "body", "range", "dict", "lipsum", "cycler", "joiner", "namespace",
})


@dataclass(frozen=True)
class Finding:
    """One problem found in a template pack.

    Attributes:
        template: file relative to the pack (``fr/overdue.j2``), or the message's template name.
        line: line in that file when known.
        code: stable finding code (see the module docstring).
        severity: ``error`` (the pack must not be used) or ``warning``.
        message: what is wrong and, where it helps, the sample message key.
    """

    template: str
    line: int | None
    code: str
    severity: Severity
    message: str


class _TagBalance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.stack.append((tag, self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            opened = f"<{self.stack[-1][0]}> from line {self.stack[-1][1]}" if self.stack else "nothing"
            self.problems.append(f"line {self.getpos()[0]}: </{tag}> closes {opened}")
            if any(t == tag for t, _ in self.stack):
                while self.stack and self.stack[-1][0] != tag:
                    self.stack.pop()
                self.stack.pop()
            return
        self.stack.pop()


def html_problems(html: str) -> list[str]:
    """Unbalanced or mis-nested tags in ``html`` (void elements such as ``<br>`` need no end tag)."""
    parser = _TagBalance()
    parser.feed(html)
    parser.close()
    return parser.problems + [f"<{t}> from line {n} is never closed" for t, n in parser.stack]


def _static(pack: Pack) -> list[Finding]:
    out: list[Finding] = []
    for name in sorted(pack.names):
        lang = name.split("/", 1)[0]
        if "/" not in name:
            out.append(Finding(name, None, "layout", "error", "templates live in a language folder "
                               "(en/, fr/ ...)"))
            continue
        if canonical_tag(lang) is None:
            out.append(Finding(name, None, "language-tag", "error",
                               f"folder '{lang}' is not a BCP 47 language tag (en, fr, fr-CA ...)"))
        try:
            ast = pack.env.parse(pack.source(name), name=name, filename=name)
        except TemplateSyntaxError as exc:
            out.append(Finding(name, exc.lineno, "syntax", "error", exc.message or "syntax error"))
            continue
        unknown = sorted(meta.find_undeclared_variables(ast) - KNOWN_NAMES)
        for var in unknown:
            line = next((i for i, text in enumerate(pack.source(name).splitlines(), 1)
                         if re.search(rf"\b{re.escape(var)}\b", text)), None)
            out.append(Finding(name, line, "undefined-name", "error",
                               f"'{var}' is not a template variable (see docs/render.md)"))
    return out


def _failure_finding(f: Failure) -> Finding:
    m = _LOCATED.match(f.error)
    if m:
        return Finding(m["file"], int(m["line"]), f.code, "error", f"{m['msg']} (sample {f.message_key})")
    return Finding(f"{f.template}.j2", None, f.code, "error", f"{f.error} (sample {f.message_key})")


def lint_templates(folder: str | Path | None = None, *,
                   settings: RenderSettings | None = None) -> list[Finding]:
    """Check every template of a pack against sample messages in every channel and tone.

    Args:
        folder: the pack; None for the default pack.
        settings: render settings (SMS budget, opt-out rules, company name as the samples use).

    Returns:
        Findings sorted by file, line and code; empty when the pack is clean.

    Raises:
        UsageError: ``folder`` is not a folder.
    """
    settings = settings or RenderSettings()
    if folder is not None and not Path(folder).is_dir():
        raise UsageError(f"{folder}: no such template folder", hint="create one with `billcx templates init`")
    pack = Pack(Path(folder) if folder is not None else None)
    findings = _static(pack)
    broken = {f.template for f in findings if f.code == "syntax"}
    languages = [lang for lang in pack.languages() if canonical_tag(lang)]
    default_ids = set(pack.message_ids(settings.default_locale))
    items: list[tuple[str, str]] = []
    for lang in languages:
        ids = pack.message_ids(lang)
        for missing in sorted(default_ids - set(ids)):
            findings.append(Finding(f"{lang}/{missing}.j2", None, "missing-template", "warning",
                                    f"no '{missing}' template in {lang}/: customers fall back to "
                                    f"{settings.default_locale}/"))
        items.extend((lang, t) for t in ids if f"{lang}/{t}.j2" not in broken)
    if not items:
        return _collapse(findings)
    schedule, data = sample_inputs(items)
    strict = RenderSettings(**{**settings.__dict__, "template_fallback_to_kind": False})
    renderer = Renderer(strict, pack.folder, keep_html=True, log_failures=False, letters_pdf=False)
    renderer.pack = pack
    prepared = prepare(schedule, data.customers, data.invoices)
    for row in prepared.iter_rows(named=True):
        out = renderer.render_row(row)
        if isinstance(out, Failure):
            if not any(layout in out.error for layout in broken):
                findings.append(_failure_finding(out))
            continue
        where = f"{out.manifest['template']}.j2"
        key = row["message_key"]
        if out.sms is not None:
            text, segs = str(out.sms["text"]), int(out.sms["segments"])
            if segs > settings.sms_segment_budget:
                findings.append(Finding(where, None, "sms-budget", "error",
                                        f"SMS takes {segs} segments ({out.sms['encoding']}, {len(text)} "
                                        f"characters), budget {settings.sms_segment_budget} (sample {key})"))
            if out.sms["encoding"] == "UCS-2":
                chars = " ".join(repr(c) for c in smslib.non_gsm_characters(text)[:8])
                findings.append(Finding(where, None, "sms-ucs2", "warning",
                                        f"SMS needs UCS-2 (70/67 characters per segment) because of {chars} "
                                        f"(sample {key})"))
        if out.html is not None:
            layout = "_email.html.j2" if row["channel"] == "email" else "_letter.html.j2"
            for problem in html_problems(out.html):
                findings.append(Finding(f"{out.manifest['template'].split('/')[0]}/{layout}", None, "html",
                                        "error", f"rendered HTML {problem} (sample {key})"))
    return _collapse(findings)


def _collapse(findings: list[Finding]) -> list[Finding]:
    """One finding per (file, line, code): the first sample's message, with how many more hit it."""
    groups: dict[tuple[str, int | None, str], list[Finding]] = {}
    for f in sorted(set(findings), key=lambda f: (f.template, f.line or 0, f.code, f.message)):
        groups.setdefault((f.template, f.line, f.code), []).append(f)
    out = []
    for same in groups.values():
        first = same[0]
        if len(same) > 1:
            first = Finding(first.template, first.line, first.code, first.severity,
                            f"{first.message} and {len(same) - 1} more sample(s)")
        out.append(first)
    return out
