"""Text encodings: what a file is written in, and turning it into UTF-8 for the CSV reader.

polars reads UTF-8 only.  Files in UTF-8 (with or without a byte-order mark) are read in place;
UTF-16/32 (recognised by their BOM, or by the NUL pattern of UTF-16 without one) and single-byte
files (cp1252, latin-1, or any codec named with ``--encoding``) are transcoded to a temporary
UTF-8 file in 4 MiB steps, so memory does not grow with the file.

Nothing is assumed silently: :class:`EncodingInfo` says which encoding was used and why
(``flag``, ``mapping``, ``BOM``, ``detected``, ``default``), and the report repeats it.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from billcx.errors import InputError, UsageError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Bytes cp1252 leaves undefined: a file holding them is latin-1 (C1 controls), not cp1252.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
STEP = 4 << 20


@dataclass(frozen=True)
class EncodingInfo:
    """The encoding a text file was read with.

    Attributes:
        name: Python codec name (``utf-8``, ``utf-16-le``, ``cp1252`` ...).
        by: how it was decided: ``flag``, ``mapping``, ``BOM``, ``detected`` or ``default``.
        bom: length in bytes of the byte-order mark at the start of the file (0 when none).
        note: one plain sentence for the report when something was detected.
    """

    name: str
    by: str
    bom: int = 0
    note: str = ""

    @property
    def is_utf8(self) -> bool:
        """Whether polars can read the file as it is."""
        return self.name == "utf-8"


def canonical_codec(name: str, *, where: str) -> str:
    """Python's canonical name for codec ``name``; a UsageError naming ``where`` when unknown."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        raise UsageError(
            f"{where}: unknown encoding {name!r}",
            hint="use a Python codec name such as utf-8, utf-16, cp1252 or latin-1",
        ) from None
    return {"utf-8-sig": "utf-8", "iso8859-1": "latin-1"}.get(canonical, canonical)


def sniff_encoding(path: Path, *, forced: str | None = None, forced_by: str = "flag") -> EncodingInfo:
    """Decide the encoding of ``path`` from a flag, its byte-order mark or its first bytes.

    A file without a BOM and not forced is taken as UTF-8 here; :func:`check_utf8` later confirms
    it over the whole file and falls back to a single-byte encoding, reporting it.

    Raises:
        InputError: the file is empty or holds binary data (NUL bytes outside UTF-16/32).
        UsageError: ``forced`` names no codec.
    """
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if not head:
        raise InputError(
            "the file is empty; expected a header line and data rows",
            hint="check the export finished and the right file was given",
        )
    bom_name, bom_len = next(((n, len(b)) for b, n in _BOMS if head.startswith(b)), ("", 0))
    if forced is not None:
        name = canonical_codec(forced, where="--encoding" if forced_by == "flag" else "mapping encoding")
        if bom_name and name.split("-")[:2] == bom_name.split("-")[:2]:
            return EncodingInfo(bom_name, forced_by, bom_len)
        return EncodingInfo(name, forced_by, bom_len if name.startswith("utf") else 0)
    if bom_name:
        return EncodingInfo(bom_name, "BOM", bom_len, f"{bom_name.upper()} byte-order mark found")
    utf16 = _utf16_without_bom(head)
    if utf16:
        return EncodingInfo(utf16, "detected", 0, f"{utf16.upper()} without byte-order mark (NUL pattern)")
    nul = head.find(b"\x00")
    if nul >= 0 or _mostly_control(head):
        where = f"byte {nul}" if nul >= 0 else "the first bytes"
        raise InputError(
            f"not a text table: binary data at {where}",
            hint="give a CSV, Parquet or XLSX export; compressed files must be unpacked first",
        )
    return EncodingInfo("utf-8", "default")


def _utf16_without_bom(head: bytes) -> str:
    sample = head[: len(head) - len(head) % 2][:4096]
    if len(sample) < 8:
        return ""
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return ""


def _mostly_control(head: bytes) -> bool:
    controls = sum(1 for b in head[:4096] if b < 32 and b not in (9, 10, 13))
    return controls > 0.05 * min(len(head), 4096)


def single_byte_fallback(path: Path, offset: int) -> EncodingInfo:
    """The encoding for a file that is not valid UTF-8 (first bad byte at ``offset``).

    cp1252 unless the file holds bytes cp1252 leaves undefined, then latin-1.
    """
    with open(path, "rb") as fh:
        while chunk := fh.read(STEP):
            if chunk.translate(None, _DEFINED_IN_CP1252):
                return EncodingInfo(
                    "latin-1",
                    "detected",
                    0,
                    f"not UTF-8 (byte {offset}); C1 control bytes, so read as latin-1",
                )
    return EncodingInfo("cp1252", "detected", 0, f"not UTF-8 (byte {offset}); read as cp1252")


# Every byte except the five cp1252 leaves undefined: deleting them leaves only those five.
_DEFINED_IN_CP1252 = bytes(b for b in range(256) if b not in _CP1252_UNDEFINED)


def first_invalid_utf8(path: Path, *, skip: int = 0) -> int | None:
    """Byte offset of the first byte that is not valid UTF-8, or None when the file is clean.

    The offset is where the bad sequence starts, also when it began in an earlier step.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    pos = skip
    with open(path, "rb") as fh:
        fh.seek(skip)
        while chunk := fh.read(STEP):
            # Bytes of a character the previous step left open: the decoder reads them first.
            pending = len(decoder.getstate()[0])
            # An ASCII step after a complete character needs no decoded copy (~5x faster).
            if chunk.isascii() and not pending:
                pos += len(chunk)
                continue
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return pos - pending + exc.start
            pos += len(chunk)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return pos - pending + exc.start
    return None


def transcode_to_utf8(path: Path, info: EncodingInfo, target: Path) -> Path:
    """Write ``path`` decoded with ``info`` as UTF-8 (without BOM) to ``target``, in steps.

    Raises:
        InputError: the bytes are not valid in that encoding (the offset says where).
    """
    decoder = codecs.getincrementaldecoder(info.name)()
    pos = info.bom
    with open(path, "rb") as src, open(target, "wb") as dst:
        src.seek(info.bom)
        while chunk := src.read(STEP):
            try:
                dst.write(decoder.decode(chunk).encode("utf-8"))
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"byte {pos + exc.start} is not valid {info.name}",
                    hint="pass the right --encoding (utf-8, utf-16, cp1252, latin-1)",
                ) from None
            pos += len(chunk)
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    return target
