"""Letters: the fast HTML-subset layout, its line breaking, its fallback and its determinism."""

from __future__ import annotations

import datetime as dt
import re
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF

from billcx.render import RenderSettings, init_templates, letter_layout, render
from billcx.render.letter_layout import Paragraph, Style, Table, Writer, parse_letter_html
from billcx.render.letters import LetterFontError, LetterParts, build_pdf
from billcx.store import CleanData

from .builders import row, schedule

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
BODY = 10.5


def _ident(text: str) -> str:
    return text


def _page_text(pdf: bytes) -> list[str]:
    """The strings of every text operator, in drawing order (content streams are deflated)."""
    out: list[str] = []
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            content = zlib.decompress(m.group(1)).decode("latin-1")
        except zlib.error:
            continue
        found = re.findall(r"\((.*?)(?<!\\)\) Tj", content)
        out += [s.replace("\\(", "(").replace("\\)", ")") for s in found]
    return out


def _writer() -> Writer:
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_page()
    return Writer(pdf, "helvetica", "core", bottom=277)


def test_parse_keeps_paragraphs_styles_and_tables() -> None:
    blocks = parse_letter_html(
        '<p>Dear <b>Ann</b>,<br>\n  thanks &amp; more</p>\n<table><thead><tr><th width="30%">Id</th>'
        '<th align="right">Sum</th></tr></thead><tbody><tr><td>I-1</td><td align="right">1\xa0€</td>'
        '</tr></tbody></table><p><font size="8">Ref</font></p>', size=BODY, clean=_ident)
    assert blocks is not None
    first, table, last = blocks
    assert isinstance(first, Paragraph) and isinstance(table, Table) and isinstance(last, Paragraph)
    assert first.runs == [(Style("", BODY), "Dear "), (Style("B", BODY), "Ann"), (Style("", BODY), ","),
                          (Style("", BODY), "\n"), (Style("", BODY), " thanks & more")]
    assert table.widths == [0.3, None] and table.header == [True, False]
    assert [c.align for c in table.rows[1]] == ["L", "R"]
    assert table.rows[0][0].runs == [(Style("B", BODY), "Id")]
    assert last.runs == [(Style("", 8.0), "Ref")]


@pytest.mark.parametrize("source", ["<h1>Title</h1>", "<p>a <img src='x.png'></p>", "<p><b>open</p>",
                                    "<table><tr><td><table></table></td></tr></table>", "<p>x</b></p>"])
def test_parse_declines_html_outside_the_subset(source: str) -> None:
    assert parse_letter_html(source, size=BODY, clean=_ident) is None


def test_wrap_fits_the_width_and_keeps_no_break_spaces_together() -> None:
    w = _writer()
    words = "word " * 60 + "1\xa0234,56\xa0€ end"
    lines = w.wrap([(Style("", BODY), words)], 80)
    assert len(lines) > 3
    for line in lines:
        assert sum(part[2] for part in line) <= 80 + 1e-6
        assert not line[0][1].startswith(" ")  # no line starts with the space it broke at
    texts = ["".join(part[1] for part in line) for line in lines]
    assert any("1\xa0234,56\xa0€" in t for t in texts)
    assert " ".join(texts) == words.strip()
    # the widths agree with fpdf2's own measure
    w.pdf.set_font("helvetica", size=BODY)
    text = "".join(part[1] for part in lines[0])
    assert sum(part[2] for part in lines[0]) == pytest.approx(w.pdf.get_string_width(text))


def test_wrap_cuts_a_word_longer_than_the_line_and_honours_line_breaks() -> None:
    w = _writer()
    lines = w.wrap([(Style("", BODY), "https://pay.example.com/" + "x" * 200 + "\nnext")], 50)
    assert len(lines) >= 4
    assert all(sum(p[2] for p in line) <= 50 + 1e-6 for line in lines)
    assert "".join(p[1] for p in lines[-1]) == "next"


def _parts(body: str) -> LetterParts:
    return LetterParts(sender=("Acme Ltd", "1 Example Street"),
                       recipient=("Ann Smith", "2 Road", "10001 Town", ""),
                       date_line="3 November 2026", subject="Reminder", body_html=body,
                       created=dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC), author="Acme Ltd", language="en",
                       reference="m-1")


def test_long_letters_continue_on_new_pages_in_order() -> None:
    body = "".join(f"<p>Paragraph {i} with some words to fill the line.</p>" for i in range(120))
    pdf = build_pdf(_parts(body))
    assert pdf.count(b"/Type /Page\n") >= 3
    texts = [t for t in _page_text(pdf) if t.startswith("Paragraph ")]
    assert [int(t.split()[1]) for t in texts] == list(range(120))


def test_custom_layout_outside_the_subset_falls_back_to_fpdf_html() -> None:
    body = "<h2>Heads up</h2><p>Pay <i>soon</i>.</p>"
    pdf = build_pdf(_parts(body))
    assert pdf.startswith(b"%PDF") and pdf == build_pdf(_parts(body))
    assert "Heads up" in _page_text(pdf)


def test_fallback_characters_the_core_font_lacks_fail_the_letter() -> None:
    # fpdf2 draws list bullets with a character the cp1252 core font cannot encode
    with pytest.raises(LetterFontError, match="core PDF font"):
        build_pdf(_parts("<ul><li>one</li></ul>"))


def test_letter_text_reads_in_order_with_the_invoice_table(data: CleanData) -> None:
    result = render(schedule([row("l", "C3", ["D-1", "D-2"], "EUR", 10_000, "final_notice", "letter")]), data)
    assert result.ok
    texts = _page_text(result.body("l"))
    assert texts[texts.index("Max Müller".encode("cp1252").decode("latin-1")) + 1] == \
        "Hauptstraße 5".encode("cp1252").decode("latin-1")
    assert "D-1" in texts and "D-2" in texts and "Referenz: l" in texts


def test_letters_with_a_truetype_font_are_deterministic(data: CleanData, tmp_path: Path) -> None:
    if not DEJAVU.exists():
        pytest.skip("DejaVuSans.ttf not installed (Debian: fonts-dejavu-core)")
    rows = [row("l", "C3", ["D-1", "D-2"], "EUR", 10_000, "final_notice", "letter")]
    settings = RenderSettings(letter_font=DEJAVU)
    first = render(schedule(rows), data, settings=settings)
    second = render(schedule(rows), data, settings=settings)
    assert first.ok and first.body("l") == second.body("l")
    assert b"/FontFile2" in first.body("l")


def test_template_pack_letters_use_the_fast_layout(tmp_path: Path) -> None:
    """Every shipped letter layout stays inside the subset (else letters silently get 5x slower)."""
    folder = tmp_path / "pack"
    init_templates(folder)
    for layout in sorted(folder.glob("*/_letter.html.j2")):
        tags = set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", layout.read_text()))
        assert tags <= {"p", "br", "b", "strong", "i", "em", "font", "span", "table", "thead", "tbody",
                        "tr", "th", "td"}, layout


@pytest.mark.parametrize("font", [None, DEJAVU])
def test_a_process_first_letter_equals_later_ones(font: Path | None) -> None:
    """Width tables are cached per process; filling the cache must not change the PDF."""
    if font is not None and not font.exists():
        pytest.skip("DejaVuSans.ttf not installed (Debian: fonts-dejavu-core)")
    # an italic run that is measured but prints nothing, then styles first met inside a table
    body = ('<p>Dear <i> </i>Ann,</p><table><tr><th width="50%">Id</th><th align="right">Due</th></tr>'
            '<tr><td>I-1</td><td align="right"><b>1,00 €</b></td></tr></table>'
            '<p><font size="8">Ref</font></p>')
    letter_layout._METRICS.clear()
    first = build_pdf(_parts(body), font=font)
    assert build_pdf(_parts(body), font=font) == first
