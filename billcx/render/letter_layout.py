"""Fast letter body layout: the letter HTML subset parsed once, wrapped with cached glyph widths.

fpdf2's ``write_html`` and ``multi_cell`` break lines character by character through several
layers of objects (about 8 ms per letter, 80% of it in ``line_break``).  Letters use a small HTML
subset, so this module parses it with one regular expression into paragraphs and tables of styled
runs, wraps them greedily with word widths summed from the font's width table (cached per font and
word for the whole process), and places each line on a canvas (fpdf2, or the direct core-font
writer of :mod:`billcx.render.pdf_canvas`).  Output is deterministic: no
clock, no randomness, widths from the font file.

Tags outside :data:`INLINE` and :data:`BLOCK` make :func:`parse_letter_html` return None, and the
caller falls back to fpdf2's ``write_html`` (custom layouts keep working, only slower).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from billcx.render.pdf_canvas import Canvas

MM_PER_PT = 25.4 / 72
INLINE = frozenset({"b", "strong", "i", "em", "font", "span", "br"})
BLOCK = frozenset({"p", "table", "thead", "tbody", "tr", "th", "td"})
_TOKEN = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9]*)([^>]*)>|([^<]+)", re.S)
_ATTR = re.compile(r"""([A-Za-z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_SPACES = re.compile(r"[ \t\r\n\f]+")  # HTML white space; no-break spaces stay (they glue amounts)
_WORD_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class Style:
    """How a run of text is printed: font style (``""``, ``B``, ``I``, ``BI``) and size in points."""

    font: str
    size: float


@dataclass
class Paragraph:
    """Styled runs (``\\n`` in a run is a forced line break) and an alignment (``L``, ``R``, ``C``)."""

    runs: list[tuple[Style, str]] = field(default_factory=list)
    align: str = "L"


@dataclass
class Table:
    """Rows of cells (each a :class:`Paragraph`); ``header`` rows are those made of ``th`` cells."""

    widths: list[float | None] = field(default_factory=list)  # fraction of the text width per column
    rows: list[list[Paragraph]] = field(default_factory=list)
    header: list[bool] = field(default_factory=list)


Block = Paragraph | Table
Fragment = tuple[Style, str, float]  # text and its width in mm


def _attrs(raw: str) -> dict[str, str]:
    return {m[1].lower(): m[2] if m[2] is not None else m[3] if m[3] is not None else m[4]
            for m in _ATTR.finditer(raw)}


def _align(attrs: dict[str, str]) -> str:
    return {"right": "R", "center": "C"}.get(attrs.get("align", "").lower(), "L")


def parse_letter_html(source: str, *, size: float, clean: Callable[[str], str]) -> list[Block] | None:
    """Paragraphs and tables of a letter body, or None when it uses HTML outside the fast subset.

    Args:
        source: the rendered ``_letter.html.j2`` (already passed through ``clean``).
        size: the body font size in points.
        clean: makes unescaped entity text printable with the letter font (may raise).

    Returns:
        The blocks in order; None for tags or attributes this layout does not handle.
    """
    blocks: list[Block] = []
    styles = [Style("", size)]
    para: Paragraph | None = None
    table: Table | None = None
    row: list[Paragraph] | None = None
    cell_header = False

    def current() -> Paragraph:
        nonlocal para
        if para is None:
            para = Paragraph()
            if table is None:
                blocks.append(para)
        return para

    for m in _TOKEN.finditer(source):
        closing, tag, raw_attrs, text = m.groups()
        if text is not None:
            if "&" in text:
                text = clean(html.unescape(text))
            if "\n" in text or "  " in text or "\t" in text or "\r" in text or "\f" in text:
                text = _SPACES.sub(" ", text)  # most runs hold single spaces only: no regex pass
            if text.strip() or (para is not None and text):
                if table is not None and para is None:
                    return None  # text between table rows or cells
                current().runs.append((styles[-1], text))
            continue
        if tag is None:
            continue  # comment
        tag = tag.lower()
        if tag not in INLINE and tag not in BLOCK:
            return None
        attrs = _attrs(raw_attrs) if raw_attrs.strip(" /") else {}
        if tag == "br":
            current().runs.append((styles[-1], "\n"))
        elif tag in ("b", "strong", "i", "em", "font", "span"):
            if closing:
                if len(styles) == 1:
                    return None
                styles.pop()
                continue
            top = styles[-1]
            font, pt = top.font, top.size
            if tag in ("b", "strong") and "B" not in font:
                font = "B" + font
            elif tag in ("i", "em") and "I" not in font:
                font += "I"
            elif tag == "font" and "size" in attrs:
                try:
                    pt = float(attrs["size"])
                except ValueError:
                    return None
            styles.append(Style(font, pt))
        elif tag == "p":
            if table is not None:
                return None
            para = None
            if not closing:
                para = Paragraph(align=_align(attrs))
                blocks.append(para)
        elif tag == "table":
            if closing:
                table = None
            elif table is not None:
                return None  # nested tables
            else:
                table = Table()
                blocks.append(table)
            para = None
        elif tag in ("thead", "tbody"):
            continue
        elif tag == "tr":
            if table is None:
                return None
            row = None if closing else []
            if row is not None:
                table.rows.append(row)
                table.header.append(False)
        elif tag in ("td", "th"):
            if row is None or table is None:
                return None
            if closing:
                para = None
                if cell_header:
                    styles.pop()
                continue
            para = Paragraph(align=_align(attrs))
            row.append(para)
            cell_header = tag == "th"
            if cell_header:
                table.header[-1] = True
                styles.append(Style("B" + styles[-1].font.replace("B", ""), styles[-1].size))
            col = len(row) - 1
            width = attrs.get("width", "")
            while len(table.widths) <= col:
                table.widths.append(None)
            if width.endswith("%") and table.widths[col] is None:
                try:
                    table.widths[col] = float(width[:-1]) / 100
                except ValueError:
                    return None
    if table is not None or len(styles) != 1:
        return None  # unclosed table or inline tag
    return blocks


class Metrics:
    """Glyph widths of one font (1/1000 em), with a per-word cache shared by every letter."""

    def __init__(self, widths: Mapping[str, int] | Mapping[int, float], *, core: bool) -> None:
        self._core = core
        self._cw: Any = widths
        self._chars: dict[str, float] = {}
        self._words: dict[str, float] = {}

    def _char(self, c: str) -> float:
        if self._core:  # core fonts index widths by the cp1252 byte read as latin-1
            return float(self._cw[c.encode("cp1252").decode("latin-1")])
        return float(self._cw[ord(c)])

    def units(self, text: str) -> float:
        """Width of ``text`` in 1/1000 em."""
        hit = self._words.get(text)
        if hit is not None:
            return hit
        chars = self._chars
        total = 0.0
        for c in text:
            w = chars.get(c)
            if w is None:
                w = chars[c] = self._char(c)
            total += w
        if len(self._words) < _WORD_CACHE_LIMIT:
            self._words[text] = total
        return total


_METRICS: dict[tuple[str, str], Metrics] = {}


class Writer:
    """Places wrapped lines on a :class:`~billcx.render.pdf_canvas.Canvas`, adding pages as needed."""

    def __init__(self, canvas: Canvas, *, bottom: float) -> None:
        self.canvas = canvas
        self.bottom = bottom
        self._style: Style | None = None
        self._metrics: dict[str, Metrics] = {}

    def _set(self, style: Style) -> None:
        if style != self._style:
            self.canvas.set_font(style.font, style.size)
            self._style = style

    def _new_page(self) -> float:
        self.canvas.add_page()
        self._style = None
        return self.canvas.top

    def metrics(self, style: Style) -> Metrics:
        """The width table for a style, shared per font for the whole process."""
        m = self._metrics.get(style.font)
        if m is None:
            key = (self.canvas.font_id, style.font)
            m = _METRICS.get(key)
            if m is None:
                # Read from the width tables, never via set_font: selecting a font writes to the page
                # and registers the font, which would make a process's first letter differ.
                widths, core = self.canvas.widths(style.font)
                m = _METRICS[key] = Metrics(widths, core=core)
            self._metrics[style.font] = m
        return m

    def width(self, style: Style, text: str) -> float:
        """Width of ``text`` in mm."""
        return self.metrics(style).units(text) * style.size * MM_PER_PT / 1000

    def _units(self, runs: list[tuple[Style, str]]) -> list[tuple[bool, float, list[Fragment], float] | None]:
        """Unbreakable units (words glued across style changes, as in ``<b>Total</b>:``) as
        ``(space before, space width, fragments, width)``; None is a forced line break."""
        units: list[tuple[bool, float, list[Fragment], float] | None] = []
        frags: list[Fragment] = []
        unit_w = space_w = 0.0
        space = pending = False
        for style, text in runs:
            measure = self.metrics(style).units
            k = style.size * MM_PER_PT / 1000
            for i, hard in enumerate(text.split("\n")):
                if i:
                    if frags:
                        units.append((space, space_w, frags, unit_w))
                        frags, unit_w = [], 0.0
                    units.append(None)
                    pending = False
                for j, word in enumerate(hard.split(" ")):
                    if j:
                        if frags:
                            units.append((space, space_w, frags, unit_w))
                            frags, unit_w = [], 0.0
                        pending = True
                    if word:
                        if not frags:
                            space, space_w = pending, measure(" ") * k
                        w = measure(word) * k
                        frags.append((style, word, w))
                        unit_w += w
                        pending = False
        if frags:
            units.append((space, space_w, frags, unit_w))
        return units

    def wrap(self, runs: list[tuple[Style, str]], width: float) -> list[list[Fragment]]:
        """Greedy line breaking at spaces (and ``\\n``); a word wider than a line is cut.

        Adjacent fragments of one style are merged, so each line is a few ``(style, text, width)``.
        """
        limit = width + 1e-6
        if len(runs) == 1 and "\n" not in runs[0][1]:
            plain = self._wrap_plain(runs[0][0], runs[0][1], limit)
            if plain is not None:
                return plain
        return self._wrap_runs(runs, width)

    def _wrap_runs(self, runs: list[tuple[Style, str]], width: float) -> list[list[Fragment]]:
        """The general :meth:`wrap`: any runs, forced breaks, words cut when wider than a line."""
        limit = width + 1e-6
        lines: list[list[Fragment]] = []
        line: list[Fragment] = []
        used = 0.0
        for unit in self._units(runs):
            if unit is None:
                lines.append(line)
                line, used = [], 0.0
                continue
            space, space_w, frags, unit_w = unit
            if not (space and line):
                space_w = 0.0
            if line and used + space_w + unit_w > limit:
                lines.append(line)
                line, used, space_w = [], 0.0, 0.0
            if not line and unit_w > limit:
                for piece in self._cut(frags, width):
                    if line:
                        lines.append(line)
                    line = piece
                used = sum(p[2] for p in line)
                continue
            if space_w:
                frags = [(frags[0][0], " " + frags[0][1], frags[0][2] + space_w), *frags[1:]]
            for style, text, w in frags:
                if line and line[-1][0] == style:
                    last = line[-1]
                    line[-1] = (style, last[1] + text, last[2] + w)
                else:
                    line.append((style, text, w))
            used += space_w + unit_w
        if line:
            lines.append(line)
        return lines

    def _wrap_plain(self, style: Style, text: str, limit: float) -> list[list[Fragment]] | None:
        """:meth:`wrap` of one run without line breaks (most paragraphs and cells), in one pass.

        The same lines, texts and widths as the general path -- the sums are made in its order --
        or None when a word is wider than a line (the general path cuts it).
        """
        measure = self.metrics(style).units
        k = style.size * MM_PER_PT / 1000
        space_w = measure(" ") * k
        lines: list[list[Fragment]] = []
        words: list[str] = []
        frag_w = used = 0.0
        for word in text.split(" "):
            if not word:
                continue
            w = measure(word) * k
            if w > limit:
                return None
            if words and used + space_w + w > limit:
                lines.append([(style, " ".join(words), frag_w)])
                words, frag_w, used = [], 0.0, 0.0
            if words:
                frag_w = frag_w + (w + space_w)
                used += space_w + w
            else:
                frag_w = used = w  # the general path's 0.0 + (0.0 + w): exactly w
            words.append(word)
        if words:
            lines.append([(style, " ".join(words), frag_w)])
        return lines

    def _cut(self, unit: list[Fragment], width: float) -> list[list[Fragment]]:
        out: list[list[Fragment]] = [[]]
        used = 0.0
        for style, text, _ in unit:
            for c in text:
                w = self.width(style, c)
                if out[-1] and used + w > width + 1e-6:
                    out.append([])
                    used = 0.0
                if out[-1] and out[-1][-1][0] == style:
                    last = out[-1][-1]
                    out[-1][-1] = (style, last[1] + c, last[2] + w)
                else:
                    out[-1].append((style, c, w))
                used += w
        return out

    def emit(self, line: list[Fragment], x: float, baseline: float, width: float, align: str) -> None:
        """Print one wrapped line, one text operator per style change."""
        if align != "L":
            total = sum(f[2] for f in line)
            x += width - total if align == "R" else (width - total) / 2
        for style, text, w in line:
            if text.strip():
                self._set(style)
                self.canvas.text(x, baseline, text)
            x += w

    def line_height(self, line: list[Fragment], default: float) -> float:
        """Height of a line: 1.35 times its largest font size, in mm."""
        size = max((s.size for s, _, _ in line), default=default)
        return size * 1.35 * MM_PER_PT

    def paragraph(self, para: Paragraph, x: float, y: float, width: float, *, size: float) -> float:
        """Lay a paragraph out from ``y`` (top); returns the y below it.  Adds pages when full."""
        for line in self.wrap(para.runs, width) or [[]]:
            h = self.line_height(line, size)
            if y + h > self.bottom:
                y = self._new_page()
            if line:
                top_size = max(s.size for s, _, _ in line) * MM_PER_PT
                self.emit(line, x, y + h / 2 + 0.3 * top_size, width, para.align)
            y += h
        return y

    def table(self, table: Table, x: float, y: float, width: float, *, size: float) -> float:
        """Lay a table out (bold header rows ruled below, cells wrapped in their column)."""
        cols = max((len(r) for r in table.rows), default=0)
        if not cols:
            return y
        set_widths = [table.widths[i] if i < len(table.widths) else None for i in range(cols)]
        given = [w for w in set_widths if w is not None]
        # Columns without a width share what is left (at least an equal share, then all are scaled).
        rest = max(1.0 - sum(given), 1.0 / cols) / max(cols - len(given), 1)
        fracs = [w if w is not None else rest for w in set_widths]
        scale = 1.0 / sum(fracs) if sum(fracs) > 1.0 else 1.0
        widths = [f * scale * width for f in fracs]
        pad = 1.0
        for row, is_header in zip(table.rows, table.header, strict=True):
            wrapped = [self.wrap(cell.runs, widths[i] - 2 * pad) for i, cell in enumerate(row)]
            heights = [sum(self.line_height(ln, size) for ln in cell) for cell in wrapped]
            row_h = max(heights, default=0.0) + 1.2
            if y + row_h > self.bottom:
                y = self._new_page()
            cx = x
            for i, lines in enumerate(wrapped):
                ly = y + 0.6
                for line in lines:
                    h = self.line_height(line, size)
                    if line:
                        top_size = max(s.size for s, _, _ in line) * MM_PER_PT
                        self.emit(line, cx + pad, ly + h / 2 + 0.3 * top_size, widths[i] - 2 * pad,
                                  row[i].align)
                    ly += h
                cx += widths[i]
            y += row_h
            if is_header:
                self.canvas.rule(x, y, x + width)
        return y
