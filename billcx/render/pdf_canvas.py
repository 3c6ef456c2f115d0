"""Where letter lines are drawn: fpdf2 (any font) or a direct PDF writer for the core fonts.

:class:`FpdfCanvas` draws through fpdf2 and is used with a TrueType ``letter_font`` (fpdf2 embeds
and subsets it) and for layouts outside the fast HTML subset.  :class:`CorePdf` writes the PDF
itself for the default case, the standard Helvetica fonts: a letter then costs a few string
operations instead of fpdf2's per-call bookkeeping and object serialisation (~0.4 ms per letter).
What it writes is the PDF 1.4 subset every reader handles: one Pages tree, Type1 standard fonts in
WinAnsiEncoding (Windows-1252, what the text was transliterated to), Flate-compressed content
streams, an Info dictionary and a cross-reference table.  Output is deterministic: the creation
date is given, the file identifier is a digest of the content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fpdf import FPDF
from fpdf.fonts import CORE_FONTS_CHARWIDTHS

MM = 72 / 25.4  # points per millimetre
A4 = (210.0, 297.0)
_BASE_FONT = {"": "Helvetica", "B": "Helvetica-Bold", "I": "Helvetica-Oblique", "BI": "Helvetica-BoldOblique"}
_ESCAPE = {ord("\\"): "\\\\", ord("("): "\\(", ord(")"): "\\)", ord("\r"): "\\r"}


@dataclass(frozen=True)
class DocInfo:
    """Document information: Info dictionary entries and the catalog's language."""

    title: str
    author: str
    subject: str
    creator: str
    language: str  # BCP 47 tag, "" for none
    created: dt.datetime


class Canvas(Protocol):
    """What the letter layout needs from a PDF: fonts, text at a baseline, rules and pages."""

    font_id: str  # glyph widths are cached per font id and style
    top: float  # where text continues on a new page (mm)

    def widths(self, style: str) -> tuple[Mapping[Any, Any], bool]:
        """The font's width table (1/1000 em) and whether it is keyed by cp1252 character (core)."""

    def set_font(self, style: str, size: float) -> None:
        """Select font style (``""``, ``B``, ``I``, ``BI``) and size in points."""

    def set_gray(self, level: int) -> None:
        """Text colour as a gray level 0 (black) to 255."""

    def text(self, x: float, y: float, text: str) -> None:
        """Print ``text`` with its baseline origin at (x, y) mm from the top left."""

    def rule(self, x1: float, y: float, x2: float) -> None:
        """A thin horizontal line."""

    def add_page(self) -> None:
        """Continue on a new page."""


class FpdfCanvas:
    """A :class:`Canvas` over an :class:`fpdf.FPDF` document whose page is already added."""

    def __init__(self, pdf: FPDF, family: str, font_id: str) -> None:
        self.pdf = pdf
        self.family = family
        self.font_id = font_id
        self.top = pdf.t_margin

    def widths(self, style: str) -> tuple[Mapping[Any, Any], bool]:  # noqa: D102
        key = self.family + style
        if key in CORE_FONTS_CHARWIDTHS:
            return CORE_FONTS_CHARWIDTHS[key], True
        return self.pdf.fonts[key].cw, False  # type: ignore[union-attr]

    def set_font(self, style: str, size: float) -> None:  # noqa: D102
        self.pdf.set_font(self.family, style, size)

    def set_gray(self, level: int) -> None:  # noqa: D102
        self.pdf.set_text_color(level, level, level)

    def text(self, x: float, y: float, text: str) -> None:  # noqa: D102
        self.pdf.text(x, y, text)

    def rule(self, x1: float, y: float, x2: float) -> None:  # noqa: D102
        self.pdf.set_line_width(0.2)
        self.pdf.line(x1, y, x2, y)

    def add_page(self) -> None:  # noqa: D102
        self.pdf.add_page()


def _text_string(value: str) -> bytes:
    """A PDF text string: literal when ASCII, else UTF-16BE with a byte-order mark (hex)."""
    if value.isascii() and value.isprintable():
        return b"(" + value.translate(_ESCAPE).encode("ascii") + b")"
    return b"<feff" + value.encode("utf-16-be").hex().encode("ascii") + b">"


class CorePdf:
    """A :class:`Canvas` writing an A4 PDF with the standard Helvetica fonts directly."""

    font_id = "core"

    def __init__(self, *, top: float = 20.0) -> None:
        self.top = top
        self._pages: list[list[bytes]] = []
        self._fonts: dict[str, int] = {}  # style -> resource number, in order of first use
        self._font = b""
        self._gray = 0
        self.add_page()

    def widths(self, style: str) -> tuple[Mapping[Any, Any], bool]:  # noqa: D102
        return CORE_FONTS_CHARWIDTHS["helvetica" + style], True

    def set_font(self, style: str, size: float) -> None:  # noqa: D102
        n = self._fonts.setdefault(style, len(self._fonts) + 1)
        self._font = f"/F{n} {size:.2f} Tf".encode("ascii")

    def set_gray(self, level: int) -> None:  # noqa: D102
        self._gray = level
        self._pages[-1].append(f"{level / 255:.3f} g".encode("ascii"))

    def text(self, x: float, y: float, text: str) -> None:  # noqa: D102
        if "\\" in text or "(" in text or ")" in text or "\r" in text:
            text = text.translate(_ESCAPE)
        data = text.encode("cp1252")
        self._pages[-1].append(b"BT %b %.2f %.2f Td (%b) Tj ET"
                               % (self._font, x * MM, (A4[1] - y) * MM, data))

    def rule(self, x1: float, y: float, x2: float) -> None:  # noqa: D102
        yy = (A4[1] - y) * MM
        self._pages[-1].append(b"0.57 w %.2f %.2f m %.2f %.2f l S" % (x1 * MM, yy, x2 * MM, yy))

    def add_page(self) -> None:  # noqa: D102
        self._pages.append([b"%.3f g" % (self._gray / 255)] if self._gray else [])

    def output(self, info: DocInfo) -> bytes:
        """The finished PDF file (the creation instant is written in UTC)."""
        fonts = sorted(self._fonts.items(), key=lambda kv: kv[1]) or [("", 1)]
        n_pages = len(self._pages)
        font_obj = 3  # 1 catalog, 2 pages, then fonts, resources, pages and contents, info
        resources_obj = font_obj + len(fonts)
        first_page = resources_obj + 1
        info_obj = first_page + 2 * n_pages
        objects: list[bytes] = []
        lang = b" /Lang " + _text_string(info.language) if info.language else b""
        objects.append(b"<< /Type /Catalog /Pages 2 0 R" + lang + b" >>")
        kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(n_pages))
        objects.append(b"<< /Type /Pages /Kids [%b] /Count %d /MediaBox [0 0 %.2f %.2f] >>"
                       % (kids, n_pages, A4[0] * MM, A4[1] * MM))
        for style, _ in fonts:
            objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /%b /Encoding /WinAnsiEncoding >>"
                           % _BASE_FONT[style].encode("ascii"))
        font_refs = b" ".join(b"/F%d %d 0 R" % (n, font_obj + i) for i, (_, n) in enumerate(fonts))
        objects.append(b"<< /Font << %b >> /ProcSet [/PDF /Text] >>" % font_refs)
        for i, ops in enumerate(self._pages):
            content = zlib.compress(b"\n".join(ops) + b"\n")
            objects.append(b"<< /Type /Page /Parent 2 0 R /Resources %d 0 R /Contents %d 0 R >>"
                           % (resources_obj, first_page + 2 * i + 1))
            objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n%b\nendstream"
                           % (len(content), content))
        stamp = info.created.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%SZ")
        objects.append(b"<< /Title %b /Author %b /Subject %b /Creator %b /Producer (billcx) "
                       b"/CreationDate (%b) >>" % (_text_string(info.title), _text_string(info.author),
                                                   _text_string(info.subject), _text_string(info.creator),
                                                   stamp.encode("ascii")))
        assert len(objects) == info_obj
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n%b\nendobj\n" % (number, body)
        xref = len(out)
        file_id = hashlib.md5(bytes(out), usedforsecurity=False).hexdigest().upper().encode("ascii")
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
        out += (b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /ID [<%b><%b>] >>\nstartxref\n%d\n%%%%EOF\n"
                % (len(objects) + 1, info_obj, file_id, file_id, xref))
        return bytes(out)
