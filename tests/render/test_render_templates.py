"""Templates: strict, sandboxed, escaped, localised, and what lint reports."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import polars as pl
import pytest

from billcx.render import RenderSettings, init_templates, lint_templates, render
from billcx.render.result import RenderResult
from billcx.store import CleanData

from .builders import row, schedule


def _text_and_html(result: RenderResult, key: str) -> tuple[str, str]:
    msg = email.message_from_bytes(result.body(key), policy=email.policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    return text, html


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    init_templates(folder)
    return folder


def _edit(pack: Path, name: str, old: str, new: str) -> None:
    path = pack / name
    source = path.read_text()
    assert old in source
    path.write_text(source.replace(old, new))


def test_missing_variable_fails_the_message_naming_template_line_and_key(data: CleanData, pack: Path) -> None:
    _edit(pack, "en/due.j2", "This is a reminder that", "This is a reminder {{ nope }} that")
    result = render(
        schedule(
            [
                row("k-due", "C4", ["U-1"], "USD", 9_999, "due", "email"),
                row("k-ok", "C4", ["U-1"], "USD", 9_999, "pre_due", "email"),
            ]
        ),
        data,
        templates=pack,
    )
    assert result.counts.failed == 1 and result.counts.rendered == 1
    failure = result.failures.row(0, named=True)
    assert failure["message_key"] == "k-due"
    assert failure["template"] == "en/due"
    assert failure["code"] == "undefined"
    assert failure["error"] == "en/due.j2:12: 'nope' is undefined"
    assert "email/k-due.eml" not in result.bodies.paths()


def test_a_none_value_never_prints_as_none(data: CleanData, pack: Path) -> None:
    _edit(
        pack,
        "en/_email.txt.j2",
        "{% if customer.name %}Dear {{ customer.name }},{% else %}Hello,{% endif %}",
        "Dear {{ customer.name }},",
    )
    result = render(schedule([row("k", "C4", ["U-1"], "USD", 9_999, "due", "email")]), data, templates=pack)
    assert result.failures["code"].to_list() == ["none-value"]
    assert result.failures["error"][0].startswith("en/_email.txt.j2:2: a printed value is None")


def test_customer_data_is_escaped_in_html_only(data: CleanData) -> None:
    result = render(schedule([row("k", "C1", ["F-1"], "CAD", 100_000, "due", "email")]), data)
    text, html = _text_and_html(result, "k")
    assert "Jean <script>alert(1)</script> Dupont" in text
    assert "<script>" not in html
    assert "Jean &lt;script&gt;alert(1)&lt;/script&gt; Dupont" in html


@pytest.mark.parametrize(
    "expression", ["customer.__class__", "invoices.append(1)", "customer.name.__class__.__mro__"]
)
def test_sandbox_blocks_unsafe_access(data: CleanData, pack: Path, expression: str) -> None:
    _edit(pack, "en/due.j2", "This is a reminder that", "{{ " + expression + " }} This is a reminder that")
    result = render(schedule([row("k", "C4", ["U-1"], "USD", 9_999, "due", "email")]), data, templates=pack)
    assert result.failures["code"].to_list() == ["sandbox"]


def test_locale_fallback_chooses_templates_and_formatting(data: CleanData, pack: Path) -> None:
    rows = [
        row("fr", "C1", ["F-1"], "CAD", 100_000, "due", "sms"),
        row("ja", "C5", ["J-1"], "JPY", 50_000, "due", "sms"),
    ]
    result = render(schedule(rows), data)
    m = {r["message_key"]: r for r in result.manifest.iter_rows(named=True)}
    assert (m["fr"]["template"], m["fr"]["locale"]) == ("fr/due", "fr-CA")
    assert (m["ja"]["template"], m["ja"]["locale"]) == ("en/due", "en")
    assert result.sms["text"].to_list()[1].startswith("Example Co: ¥50,000 is due today.")
    (pack / "fr-CA").mkdir()
    (pack / "fr-CA" / "due.j2").write_text(
        (pack / "fr" / "due.j2").read_text().replace("Payer :", "Payez ici :")
    )
    local = render(schedule(rows[:1]), data, templates=pack)
    assert local.manifest["template"].to_list() == ["fr-CA/due"]
    assert "Payez ici :" in local.sms["text"][0]


def test_unknown_template_id_falls_back_to_the_kind_or_fails(data: CleanData) -> None:
    rows = [row("k", "C4", ["U-1"], "USD", 9_999, "due", "sms", template="gentle_due")]
    result = render(schedule(rows), data)
    assert result.manifest["template"].to_list() == ["en/due"]
    assert result.counts.template_fallbacks == 1
    strict = render(schedule(rows), data, settings=RenderSettings(template_fallback_to_kind=False))
    assert strict.failures.select("code", "error").row(0) == (
        "not-found",
        "template 'gentle_due' not found (looked in en-US, en)",
    )


def test_payment_plan_shows_exact_instalments(data: CleanData) -> None:
    plan = {
        "type": "payment_plan",
        "instalments": [
            {"due": "2026-11-15", "amount": 3334},
            {"due": "2026-12-15", "amount": 3333},
            {"due": "2027-01-15", "amount": 3332},
        ],
    }
    result = render(
        schedule([row("k", "C4", ["U-1"], "USD", 9_999, "payment_plan_offer", "email", offer=plan)]), data
    )
    text, html = _text_and_html(result, "k")
    for line in (
        "1. November 15, 2026: $33.34",
        "2. December 15, 2026: $33.33",
        "3. January 15, 2027: $33.32",
    ):
        assert line in text
    assert "Payment plan (3 instalments, $99.99 in total)" in text
    assert '<td>January 15, 2027</td><td align="right">$33.32</td>' in html


def test_instalments_that_do_not_add_up_fail_the_message(data: CleanData) -> None:
    plan = {
        "type": "payment_plan",
        "instalments": [{"due": "2026-11-15", "amount": 5000}, {"due": "2026-12-15", "amount": 4000}],
    }
    result = render(
        schedule([row("k", "C4", ["U-1"], "USD", 9_999, "payment_plan_offer", "sms", offer=plan)]), data
    )
    assert result.failures.select("code", "error").row(0) == (
        "data",
        "payment_plan instalments add up to 9000, amount_due is 9999 (minor units of USD)",
    )


def test_lines_that_do_not_add_up_show_only_the_total(data: CleanData) -> None:
    result = render(schedule([row("k", "C1", ["F-1", "F-2"], "CAD", 50_000, "overdue", "email")]), data)
    text, _ = _text_and_html(result, "k")
    assert "500,00 $" in text.replace("\xa0", " ")
    assert "F-1" not in text
    assert result.counts.lines_hidden == 1


def test_sms_without_required_opt_out_fails(data: CleanData, pack: Path) -> None:
    _edit(pack, "en/due.j2", "Pay here: {{ pay_url }} {{ opt_out }}", "Pay here: {{ pay_url }}")
    result = render(schedule([row("k", "C4", ["U-1"], "USD", 9_999, "due", "sms")]), data, templates=pack)
    assert result.failures["code"].to_list() == ["opt-out"]
    no_rule = render(
        schedule([row("k", "C4", ["U-1"], "USD", 9_999, "due", "sms")]),
        data,
        templates=pack,
        settings=RenderSettings(opt_out_channels=("email",)),
    )
    assert no_rule.ok


def test_default_pack_lints_clean() -> None:
    assert [f for f in lint_templates() if f.severity == "error"] == []


def test_lint_reports_each_kind_of_problem(pack: Path) -> None:
    _edit(
        pack,
        "en/due.j2",
        '{% if tone == "firm" %}Payment',
        '{% if tone == "firm" %}{{ amount_due + }}Payment',
    )
    _edit(
        pack,
        "en/overdue.j2",
        "Our records show that",
        "Our {{ customer.nmae }} records {{ balance }} show that",
    )
    _edit(
        pack,
        "en/pre_due.j2",
        "Pay here: {{ pay_url }} {{ opt_out }}",
        "Pay here: {{ pay_url }} " + "Thank you for being a valued customer. " * 6 + "{{ opt_out }}",
    )
    _edit(pack, "en/thank_you.j2", "Thank you! {{ opt_out }}", "Thank you!")
    _edit(
        pack,
        "en/_email.html.j2",
        "<p>Kind regards,<br>{{ company.name }}</p>",
        "<p>Kind regards,<b>{{ company.name }}</p>",
    )
    findings = lint_templates(pack)
    got = {(f.template, f.code) for f in findings}
    assert ("en/due.j2", "syntax") in got
    assert ("en/overdue.j2", "undefined-name") in got  # 'balance', found statically
    assert ("en/overdue.j2", "undefined") in got  # customer.nmae, found on the samples
    assert ("en/pre_due.j2", "sms-budget") in got
    assert ("en/thank_you.j2", "opt-out") in got
    assert ("en/_email.html.j2", "html") in got
    syntax = next(f for f in findings if f.code == "syntax")
    assert (syntax.line, syntax.severity) == (3, "error")


def test_offers_in_the_plan_stages_json_shape(data: CleanData) -> None:
    """billcx plan writes due_date / new_due_date plus currency and total; both spellings work."""
    plan = {
        "type": "payment_plan",
        "currency": "USD",
        "total": 9_999,
        "instalments": [
            {"number": 1, "due_date": "2026-11-15", "amount": 5_000},
            {"number": 2, "due_date": "2026-12-15", "amount": 4_999},
        ],
    }
    ext = {"type": "extension", "currency": "USD", "total": 9_999, "days": 14, "new_due_date": "2026-11-17"}
    rows = [
        row("p", "C4", ["U-1"], "USD", 9_999, "payment_plan_offer", "sms", offer=plan),
        row("e", "C4", ["U-1"], "USD", 9_999, "extension_offer", "sms", offer=ext),
        row("bad", "C4", ["U-1"], "USD", 9_999, "extension_offer", "sms", offer={**ext, "currency": "EUR"}),
    ]
    result = render(schedule(rows), data)
    texts = dict(zip(result.sms["message_key"], result.sms["text"], strict=True))
    assert "pay $99.99 in 2 instalments, first $50.00 by Nov 15, 2026" in texts["p"]
    assert "you can pay $99.99 by Nov 17, 2026" in texts["e"]
    assert result.failures.select("message_key", "code", "error").rows() == [
        ("bad", "data", "offer currency 'EUR' differs from the message's 'USD'")
    ]


def test_offer_kinds_without_an_offer_read_as_a_plain_reminder(data: CleanData) -> None:
    """The plan keeps the kind but drops the offer when an amount is too small to split."""
    rows = [
        row("p", "C4", ["U-1"], "USD", 9_999, "payment_plan_offer", "sms"),
        row("e", "C2", ["E-1"], "EUR", 4_000, "extension_offer", "sms"),
    ]
    result = render(schedule(rows), data)
    assert result.ok, result.failures.to_dicts()
    texts = dict(zip(result.sms["message_key"], result.sms["text"], strict=True))
    assert texts["p"].startswith("Example Co: reminder, $99.99 due Oct 20, 2026. Pay here:")
    assert texts["e"].startswith("Example Co: recordatorio, 40,00 € con vencimiento el 10 nov 2026.")


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def test_letters_fail_on_characters_their_font_cannot_print(data: CleanData) -> None:
    cust = data.customers.with_columns(
        pl.when(pl.col("customer_id") == "C5").then(pl.lit("東京都")).otherwise(pl.col("city")).alias("city")
    )
    data = CleanData(cust, data.invoices, data.payments)
    rows = [row("jp", "C5", ["J-1"], "JPY", 50_000, "due", "letter")]
    core = render(schedule(rows), data)
    assert core.failures.select("code", "error").row(0) == (
        "font",
        "letter text has characters the core PDF font cannot print (U+4EAC, U+6771, U+90FD); set "
        "render.letter_font to a Unicode TrueType font such as DejaVuSans.ttf",
    )
    if not DEJAVU.exists():
        pytest.skip("DejaVuSans.ttf not installed (Debian: fonts-dejavu-core)")
    ttf = render(schedule(rows), data, settings=RenderSettings(letter_font=DEJAVU))
    assert ttf.failures["error"][0].startswith("letter font DejaVuSans.ttf has no glyphs for U+4EAC")


def test_runtime_errors_in_templates_fail_the_message_with_their_line(data: CleanData, pack: Path) -> None:
    _edit(
        pack, "en/due.j2", "This is a reminder that", "This is a reminder {{ 1 // (invoice_count - 1) }} that"
    )
    result = render(schedule([row("k", "C4", ["U-1"], "USD", 9_999, "due", "email")]), data, templates=pack)
    assert result.failures.select("code", "error").row(0) == (
        "template",
        "ZeroDivisionError: en/due.j2:12: integer division or modulo by zero",
    )
