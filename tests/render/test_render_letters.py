"""Letters: the fast HTML-subset layout, its line breaking, its fallback and its determinism."""

from __future__ import annotations

import datetime as dt
import re
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st

from billcx.render import RenderSettings, init_templates, letter_layout, render
from billcx.render.letter_layout import Paragraph, Style, Table, Writer, parse_letter_html
from billcx.render.letters import LetterFontError, LetterParts, build_pdf
from billcx.render.pdf_canvas import CorePdf, DocInfo, FpdfCanvas
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
    return Writer(CorePdf(), bottom=277)


def _fpdf_writer() -> tuple[FPDF, Writer]:
    pdf = FPDF(format="A4", unit="mm")
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    return pdf, Writer(FpdfCanvas(pdf, "helvetica", "core"), bottom=277)


def _placed(pdf: bytes) -> list[tuple[str, str, str]]:
    """(x, y, text) of every text operator, whatever else surrounds it."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            content = zlib.decompress(m.group(1)).decode("latin-1")
        except zlib.error:
            continue
        out += re.findall(r"([\d.]+) ([\d.]+) Td \((.*?)(?<!\\)\) Tj", content)
    return out


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
    pdf, _ = _fpdf_writer()
    pdf.set_font("helvetica", size=BODY)
    text = "".join(part[1] for part in lines[0])
    assert sum(part[2] for part in lines[0]) == pytest.approx(pdf.get_string_width(text))


def test_wrap_cuts_a_word_longer_than_the_line_and_honours_line_breaks() -> None:
    w = _writer()
    lines = w.wrap([(Style("", BODY), "https://pay.example.com/" + "x" * 200 + "\nnext")], 50)
    assert len(lines) >= 4
    assert all(sum(p[2] for p in line) <= 50 + 1e-6 for line in lines)
    assert "".join(p[1] for p in lines[-1]) == "next"


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(["a", "W", "é", "€", " ", "  ", "\xa0", "longword", "x" * 30]),
                     max_size=40).map("".join),
       width=st.sampled_from([5.0, 20.0, 50.0, 170.0]), bold=st.booleans())
def test_one_run_fast_wrap_equals_the_general_wrap(text: str, width: float, bold: bool) -> None:
    """The one-run path gives the general path's lines, texts and float widths exactly (or declines)."""
    w = _writer()
    style = Style("B" if bold else "", BODY)
    fast = w._wrap_plain(style, text, width + 1e-6)
    general = w._wrap_runs([(style, text)], width)
    if fast is None:  # a word wider than the line: only the general path cuts words
        assert any(w.width(style, word) > width + 1e-6 for word in text.split(" "))
    else:
        assert fast == general


def _parts(body: str) -> LetterParts:
    return LetterParts(sender=("Acme Ltd", "1 Example Street"),
                       recipient=("Ann Smith", "2 Road", "10001 Town", ""),
                       date_line="3 November 2026", subject="Reminder", body_html=body,
                       created=dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC), author="Acme Ltd", language="en",
                       reference="m-1")


def test_long_letters_continue_on_new_pages_in_order() -> None:
    body = "".join(f"<p>Paragraph {i} with some words to fill the line.</p>" for i in range(120))
    pdf = build_pdf(_parts(body))
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) >= 3
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


def _blocks() -> list[Paragraph | Table]:
    body = ("<p>Dear <b>Zoë</b> (müller) \\ co,<br>your balance of 1\xa0234,56\xa0€ is due – "
            + "please pay soon. " * 30 + "</p><table><tr><th width='30%'>Invoice</th><th>Due</th>"
            "<th align='right'>Remaining</th></tr><tr><td>I-1</td><td>1 October 2026</td>"
            "<td align='right'><i>12,00 €</i></td></tr></table>" + "<p>More text.</p>" * 40)
    blocks = parse_letter_html(body, size=BODY, clean=_ident)
    assert blocks is not None
    return blocks


def _draw(writer: Writer) -> None:
    y = 20.0
    for block in _blocks():
        if isinstance(block, Table):
            y = writer.table(block, 20, y, 170, size=BODY) + 2
        else:
            y = writer.paragraph(block, 20, y, 170, size=BODY) + 2


def test_direct_core_pdf_places_text_exactly_as_fpdf2_does() -> None:
    core_writer = _writer()
    _draw(core_writer)
    assert isinstance(core_writer.canvas, CorePdf)
    info = DocInfo(title="Rappel : 12,00 €", author="Acme", subject="m-1", creator="billcx", language="fr-FR",
                   created=dt.datetime(2026, 11, 3, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    core = core_writer.canvas.output(info)
    pdf, fpdf_writer = _fpdf_writer()
    _draw(fpdf_writer)
    reference = bytes(pdf.output())
    placed = _placed(core)
    assert len(placed) > 40 and placed == _placed(reference)
    assert len(re.findall(rb"/Type /Page\b(?!s)", core)) == len(re.findall(rb"/Type /Page\b(?!s)", reference))
    assert b"/CreationDate (D:20261103090000Z)" in core and b"/Lang (fr-FR)" in core


def test_direct_core_pdf_has_a_consistent_cross_reference_table() -> None:
    writer = _writer()
    _draw(writer)
    assert isinstance(writer.canvas, CorePdf)
    pdf = writer.canvas.output(DocInfo(title="t", author="a", subject="s", creator="c", language="",
                                       created=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[startxref:].startswith(b"xref\n0 ")
    header, *entries = pdf[startxref:].split(b"trailer")[0].split(b"\n")[1:-1]
    count = int(header.split()[1])
    assert len(entries) == count and entries[0] == b"0000000000 65535 f "
    for number, entry in enumerate(entries[1:], 1):
        offset = int(entry[:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    assert re.search(rb"/Size %d /Root 1 0 R /Info %d 0 R" % (count, count - 1), pdf)
    for m in re.finditer(rb"<< /Length (\d+) /Filter /FlateDecode >>\nstream\n", pdf):
        data = pdf[m.end():m.end() + int(m.group(1))]
        assert pdf[m.end() + len(data):].startswith(b"\nendstream")
        zlib.decompress(data)
