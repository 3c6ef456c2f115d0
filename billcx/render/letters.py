"""Print-ready PDF letters with fpdf2.

Why fpdf2: it is pure Python (no system libraries such as Cairo or Pango, unlike WeasyPrint), actively
maintained, MIT/LGPL-licensed, small, embeds and subsets TrueType fonts, renders general HTML for
custom layouts, and lets the creation date be fixed, so the same letter gives the same bytes.  Its
line breaking is slow (character by character), so the common HTML subset is laid out by
:mod:`billcx.render.letter_layout`, and with the core font written by
:class:`billcx.render.pdf_canvas.CorePdf` without fpdf2 at all.

Fonts: the PDF core fonts (Helvetica) need no font file but only cover Windows-1252 (Latin-1 plus
``€ Œ œ Š š Ž ž`` and typographic quotes).  Without ``settings.letter_font`` the text is transliterated
(narrow no-break space -> no-break space, Unicode minus -> hyphen, ``Ł`` -> ``L``, accents outside
cp1252 dropped); a character that still cannot be printed (Cyrillic, CJK ...) fails that letter with
a hint to configure a Unicode TrueType font such as DejaVuSans.ttf.  With a font file, characters the
font has no glyph for (DejaVu has no CJK) fail the letter too, instead of printing as blanks.

Layout (A4, DIN 5008 form B): sender block at the top, recipient address in the window of a C5/DL
envelope (20 mm from the left, 45 mm from the top), date right-aligned, subject in bold, then the
body from the ``_letter.html.j2`` layout (fpdf2's ``write_html`` when it uses HTML outside the subset).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.errors import FPDFUnicodeEncodingException

from billcx.render.letter_layout import MM_PER_PT, Block, Paragraph, Style, Table, Writer, parse_letter_html
from billcx.render.pdf_canvas import CorePdf, DocInfo, FpdfCanvas

_TRANSLIT = str.maketrans({
    "\u202f": "\u00a0", "\u2007": "\u00a0", "\u2009": " ", "\u200a": " ", "\u2212": "-", "\u2010": "-",
    "\u2011": "-", "\u200b": "", "\u200e": "", "\u200f": "", "\u2060": "", "\ufeff": "",
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Ŀ": "L", "ŀ": "l",
    "Ŋ": "N", "ŋ": "n", "Ŧ": "T", "ŧ": "t", "ĸ": "k", "ſ": "s",
})


_BODY_PT = 10.5
_MARGIN = 20.0  # mm
A4_HEIGHT = 297.0  # mm
_PARAGRAPH_GAP = 2.5  # mm between paragraphs and after tables


class LetterFontError(ValueError):
    """Text that the letter font cannot print."""


def to_cp1252(text: str) -> str:
    """Text printable with the PDF core fonts (Windows-1252), transliterating where it is safe.

    Raises:
        LetterFontError: characters without a safe Latin transliteration remain (their code points
            are named, never the text).
    """
    if text.isascii():  # ASCII is Windows-1252 as it is, and nothing in it is transliterated
        return text
    text = text.translate(_TRANSLIT)
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    bad: list[str] = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            base.encode("cp1252")
        except UnicodeEncodeError:
            base = ""
        if base:
            out.append(base)
        else:
            bad.append(f"U+{ord(ch):04X}")
    if bad:
        raise LetterFontError("letter text has characters the core PDF font cannot print ("
                              + ", ".join(sorted(set(bad))[:5]) + "); set render.letter_font to a Unicode "
                              "TrueType font such as DejaVuSans.ttf")
    return "".join(out)


@dataclass(frozen=True)
class LetterParts:
    """What one letter says."""

    sender: tuple[str, ...]
    recipient: tuple[str, ...]  # name, address lines, postal code + city, country
    date_line: str
    subject: str
    body_html: str
    created: dt.datetime  # fixed creation date (the planned send instant)
    author: str
    language: str
    reference: str


@lru_cache(maxsize=8)
def _font_files(path: str) -> dict[str, str]:
    """Regular / bold / italic files for a TrueType font, bold found as ``<stem>-Bold.ttf`` if present."""
    regular = Path(path)
    if not regular.is_file():
        raise LetterFontError(f"render.letter_font: {path} is not a file")
    files = {"": str(regular)}
    for style, suffixes in (("B", ("-Bold", "Bold", "-bold")), ("I", ("-Oblique", "-Italic")),
                            ("BI", ("-BoldOblique", "-BoldItalic"))):
        for suf in suffixes:
            cand = regular.with_name(regular.stem + suf + regular.suffix)
            if cand.is_file():
                files[style] = str(cand)
                break
        else:
            files[style] = files.get("B" if style == "BI" else "", str(regular))
    return files


@lru_cache(maxsize=8)
def _coverage(path: str) -> frozenset[int]:
    """Code points a TrueType font has glyphs for (its best cmap)."""
    from fontTools.ttLib import TTFont  # fpdf2's own dependency; only needed with a font file

    with TTFont(path, lazy=True) as tt:
        return frozenset(tt.getBestCmap() or {})


def check_font(text: str, font: Path) -> None:
    """Fail when ``font`` lacks glyphs for characters of ``text`` (they would print as blanks).

    Raises:
        LetterFontError: naming the missing code points (never the text).
    """
    covered = _coverage(str(font))
    missing = sorted({f"U+{ord(c):04X}" for c in text if ord(c) not in covered and c not in "\n\r\t"})
    if missing:
        raise LetterFontError(f"letter font {font.name} has no glyphs for " + ", ".join(missing[:5])
                              + "; choose a font that covers your customers' scripts")


def build_pdf(parts: LetterParts, *, font: Path | None = None) -> bytes:
    """The letter as PDF bytes (deterministic for the same parts and font).

    With the core font and a layout inside the fast HTML subset the PDF is written directly
    (:class:`~billcx.render.pdf_canvas.CorePdf`); otherwise through fpdf2.

    Raises:
        LetterFontError: the text cannot be printed with the chosen font.
    """
    if font is not None:
        check_font("".join((*parts.sender, *parts.recipient, parts.date_line, parts.subject,
                            parts.body_html, parts.author)), font)
        clean: Callable[[str], str] = _same
    else:
        clean = to_cp1252
    body = clean(parts.body_html)
    blocks = parse_letter_html(body, size=_BODY_PT, clean=clean)
    info = DocInfo(title=clean(parts.subject), author=clean(parts.author), subject=clean(parts.reference),
                   creator="billcx", language=parts.language, created=parts.created)
    if font is None and blocks is not None:
        core = CorePdf(top=_MARGIN)
        _draw(Writer(core, bottom=A4_HEIGHT - _MARGIN), parts, info.title, blocks, clean)
        return core.output(info)
    pdf = _fpdf(font, info)
    family = "helvetica" if font is None else "letter"
    writer = Writer(FpdfCanvas(pdf, family, "core" if font is None else str(font)),
                    bottom=pdf.h - pdf.b_margin)
    y = _draw(writer, parts, info.title, blocks or [], clean)
    if blocks is None:
        # HTML outside the fast subset (a custom layout): fpdf2's own renderer, slower but general.
        pdf.set_font(family, size=_BODY_PT)
        pdf.set_xy(_MARGIN, y)
        try:
            pdf.write_html(body)
        except FPDFUnicodeEncodingException:
            # fpdf2 adds characters of its own (list bullets) that the cp1252 core font lacks
            raise LetterFontError("the letter layout uses HTML (such as lists) that the core PDF font "
                                  "cannot print; set render.letter_font to a Unicode TrueType font such "
                                  "as DejaVuSans.ttf") from None
    return bytes(pdf.output())


def _same(text: str) -> str:
    return text


def _fpdf(font: Path | None, info: DocInfo) -> FPDF:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(info.created)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=_MARGIN)
    if font is not None:
        for style, file in _font_files(str(font)).items():
            pdf.add_font("letter", style, file)
    else:
        pdf.core_fonts_encoding = "cp1252"
    pdf.set_title(info.title)
    pdf.set_author(info.author)
    pdf.set_creator(info.creator)
    pdf.set_subject(info.subject)
    if info.language:
        pdf.set_lang(info.language)
    pdf.add_page()
    return pdf


def _draw(writer: Writer, parts: LetterParts, subject: str, blocks: list[Block],
          clean: Callable[[str], str]) -> float:
    """Sender, window address, date, subject and body; returns the y below the last block (mm)."""
    canvas = writer.canvas
    canvas.set_gray(80)
    writer.paragraph(Paragraph([(Style("", 9), clean("\n".join(parts.sender)))]), 20, 15, 120, size=9)
    canvas.set_gray(0)
    # The return address above the window is one line: what does not fit is cut, never wrapped.
    return_line = writer.wrap([(Style("", 7), clean(" · ".join(parts.sender)))], 85)
    if return_line:
        writer.emit(return_line[0], 20, 45 + 2 + 0.3 * 7 * MM_PER_PT, 85, "L")
    address = clean("\n".join(line for line in parts.recipient if line))
    writer.paragraph(Paragraph([(Style("", _BODY_PT), address)]), 20, 51, 85, size=_BODY_PT)
    writer.paragraph(Paragraph([(Style("", _BODY_PT), clean(parts.date_line))], align="R"), 20, 97, 170,
                     size=_BODY_PT)
    y = writer.paragraph(Paragraph([(Style("B", 12), subject)]), 20, 107, 170, size=12) + 4
    for block in blocks:
        if isinstance(block, Table):
            y = writer.table(block, 20, y, 170, size=_BODY_PT) + _PARAGRAPH_GAP
        elif block.runs:
            y = writer.paragraph(block, 20, y, 170, size=_BODY_PT) + _PARAGRAPH_GAP
    return y
