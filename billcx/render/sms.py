"""SMS text: normalisation, GSM-7 / UCS-2 detection and segment counting.

An SMS is billed per segment.  A text made only of GSM 03.38 characters travels as 7-bit GSM:
160 septets in one segment, 153 per segment once it is split (the rest is the concatenation
header).  The extension table's characters (``€ [ ] { } \\ ^ ~ |`` and form feed) take an escape
septet plus their own, so they count twice and an escape pair is never split across segments.  One
character outside GSM-7 switches the whole text to UCS-2: 70 UTF-16 code units in one segment, 67
per segment when split (a character outside the BMP takes two units, never split).

Locale formatting (Babel / CLDR) inserts no-break and narrow no-break spaces, the typographic
apostrophe as a Swiss group separator and the Unicode minus sign: invisible to a reader, they force
UCS-2 and double the price.  :func:`normalise` replaces them before counting.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

SmsEncoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# Characters locale formatting and word processors produce that look like ASCII but are not GSM-7.
_REPLACEMENTS: dict[int, str] = {
    **{cp: " " for cp in (0x00A0, 0x202F, 0x2007, 0x2009, 0x200A, 0x2002, 0x2003, 0x2004, 0x2005,
                          0x2006, 0x2008, 0x205F, 0x3000)},
    **{cp: "" for cp in (0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x061C, 0x2060, 0xFEFF, 0x00AD)},
    0x2212: "-", 0x2010: "-", 0x2011: "-", 0x2013: "-", 0x2014: "-",
    0x2018: "'", 0x2019: "'", 0x201A: "'", 0x2032: "'",
    0x201C: '"', 0x201D: '"', 0x201E: '"', 0x00AB: '"', 0x00BB: '"',
    0x2026: "...",
}
_WHITESPACE = re.compile(r"\s+")
# A regex scan in C finds the few characters to replace; str.translate with a dict looks up every one.
_SPECIAL = re.compile("[" + "".join(re.escape(chr(cp)) for cp in _REPLACEMENTS) + "]")


def _replace(match: re.Match[str]) -> str:
    return _REPLACEMENTS[ord(match.group())]


def normalise(text: str) -> str:
    """SMS-ready text: one line, ASCII look-alikes for invisible or typographic characters.

    No-break and narrow no-break spaces (Babel output), zero-width marks, the Unicode minus,
    typographic apostrophes, quotes, dashes and the ellipsis are replaced; runs of whitespace
    (including line breaks from template layout) become one space; the ends are trimmed.

    Args:
        text: rendered template output.

    Returns:
        The normalised text.
    """
    if _SPECIAL.search(text):
        text = _SPECIAL.sub(_replace, text)
    return _WHITESPACE.sub(" ", text).strip()


def gsm_fallback(text: str) -> str:
    """Replace accented letters outside GSM-7 by their unaccented GSM-7 base (``á`` -> ``a``).

    Only used when the settings ask for it (it changes spelling to halve the cost); characters
    without a GSM-7 base are kept, so the text may still need UCS-2.
    """
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(c in GSM7_BASIC for c in base) else ch)
    return "".join(out)


def encoding(text: str) -> SmsEncoding:
    """``GSM-7`` when every character is in the GSM 03.38 basic or extension table, else ``UCS-2``."""
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            return "UCS-2"
    return "GSM-7"


def _units(text: str, enc: SmsEncoding) -> list[int]:
    if enc == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _pack(units: list[int], size: int) -> int:
    """Segments needed when units are packed greedily and no character is split."""
    segments, used = 1, 0
    for u in units:
        if used + u > size:
            segments += 1
            used = 0
        used += u
    return segments


def segments(text: str, enc: SmsEncoding | None = None) -> int:
    """Number of segments the text is billed as (an empty text still costs one).

    Args:
        text: the exact text sent (normalise it first).
        enc: its encoding; detected when omitted.

    Returns:
        Segments: 1 up to 160 septets (GSM-7) or 70 code units (UCS-2); beyond, segments of 153 / 67.
    """
    enc = enc or encoding(text)
    units = _units(text, enc)
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if enc == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)
    if sum(units) <= single:
        return 1
    return _pack(units, multi)


@dataclass(frozen=True)
class SmsText:
    """A rendered SMS: the exact text with its encoding and segment count."""

    text: str
    encoding: SmsEncoding
    segments: int


def prepare(raw: str, *, fallback_to_gsm: bool = False) -> SmsText:
    """Normalise ``raw`` (and optionally fold accents to GSM-7), then measure it."""
    text = normalise(raw)
    if fallback_to_gsm:
        text = gsm_fallback(text)
    enc = encoding(text)
    return SmsText(text, enc, segments(text, enc))


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters that force UCS-2, in order of first appearance (for lint hints)."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            seen.setdefault(ch, None)
    return list(seen)
