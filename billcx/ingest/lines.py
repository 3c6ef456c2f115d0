"""Where each CSV record starts, as an editor numbers lines, found without a Python loop per row.

polars parses the fields; this module finds, in one vectorised pass over the bytes (numpy, 16 MiB
at a time, so memory stays flat), what polars does not tell: which records are blank lines, which
have more or fewer fields than the header, and how many line breaks quoted cells hold, so that
every record gets the line number an editor shows.

Line convention (used everywhere in billcx): the header is line 1 when it is the first line of
the file; in general a record's line is the physical line its first character is on, counting
from 1, with every line break counted -- blank lines, repeated headers, ragged rows and line breaks
inside quoted cells included.

A quote opens a quoted field only at the start of a field and closes it only before a delimiter,
a line end or another quote (RFC 4180).  A stray quote elsewhere makes the file unreadable by
polars too; it is reported with its line so it can be fixed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from billcx.errors import InputError

CHUNK = 16 << 20
_NL, _CR = 10, 13
_BLANK_BYTES = b" \t\r"


@dataclass(frozen=True)
class Header:
    """The header record of a CSV file.

    Attributes:
        fields: column names as written (unquoted, surrounding whitespace kept).
        line: line the header starts on (1 unless blank lines precede it).
        end_line: last physical line of the header (polars skips this many lines).
        end_offset: byte offset just after the header's line break.
    """

    fields: tuple[str, ...]
    line: int
    end_line: int
    end_offset: int


@dataclass(frozen=True)
class RecordMap:
    """Records after the header, indexed 0.. in file order as polars numbers its rows.

    Attributes:
        n_records: data records, blank lines and repeated headers included.
        blank: indices of blank records (not rows: counted, never rejected).
        ragged_idx: indices of non-blank records whose field count differs from the header's.
        ragged_fields: their field counts.
        multiline_idx: indices of records holding line breaks inside quoted cells (sorted).
        multiline_cum: cumulative extra lines up to and including each of those records.
        first_line: line of record 0 (the line after the header).
    """

    n_records: int
    blank: np.ndarray
    ragged_idx: np.ndarray
    ragged_fields: np.ndarray
    multiline_idx: np.ndarray
    multiline_cum: np.ndarray
    first_line: int

    def lines(self, idx: np.ndarray) -> np.ndarray:
        """Editor line numbers of the records ``idx`` (any order)."""
        idx = np.asarray(idx, dtype=np.int64)
        if not self.multiline_idx.size:
            return self.first_line + idx
        pos = np.searchsorted(self.multiline_idx, idx, side="left")
        extra = np.where(pos > 0, self.multiline_cum[np.maximum(pos - 1, 0)], 0)
        return self.first_line + idx + extra


def read_header(data: bytes, *, delimiter: str, quote: str = '"', base_offset: int = 0) -> Header:
    """Find the header record in the first bytes of a UTF-8 file (after any BOM).

    Leading blank lines are skipped; the header may span lines inside quotes.

    Raises:
        InputError: there is no non-blank line (the message says so; the caller adds the file).
    """
    q = quote.encode()
    pos, line = 0, 1
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        if data[pos:end].strip(_BLANK_BYTES):
            break
        pos, line = end + 1, line + 1
    else:
        raise InputError(
            "no header line: the file holds only blank lines",
            hint="give an export with a header line naming its columns",
        )
    start, stop, end_line = pos, pos, line
    while True:
        end = data.find(b"\n", stop)
        if end < 0:
            stop = len(data)
            break
        stop = end + 1
        if data[start:stop].count(q) % 2 == 0:
            break
        end_line += 1
    text = data[start:stop].decode("utf-8", errors="replace").rstrip("\r\n")
    fields = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quote), [])
    return Header(tuple(fields), line, end_line, base_offset + stop)


class _State:
    """What carries over from one chunk to the next."""

    def __init__(self, first_line: int, offset: int) -> None:
        self.parity = 0  # inside a quoted field at the chunk boundary
        self.records = 0  # completed records so far
        self.lines = first_line - 1  # physical line breaks consumed so far (relative to file start)
        self.start = offset  # byte offset where the current record started
        self.start_line = first_line
        self.count = 0  # delimiters seen so far in the current record
        self.prev_byte = _NL  # byte before the chunk (a record start counts as after \n)
        self.extra_total = 0
        self.tail = b""  # last bytes of the previous chunk (blank records across chunks)


def scan_records(
    path: str, header: Header, *, delimiter: str, quote: str = '"', chunk: int = CHUNK
) -> RecordMap:
    """Map the data records of UTF-8 file ``path`` after ``header`` (see :class:`RecordMap`).

    Raises:
        InputError: a quote that never closes, or a stray quote inside an unquoted field.
    """
    expected = len(header.fields) - 1
    dl_byte, q_byte = ord(delimiter), ord(quote)
    st = _State(header.end_line + 1, header.end_offset)
    blank: list[np.ndarray] = []
    ragged_i: list[np.ndarray] = []
    ragged_n: list[np.ndarray] = []
    multi_i: list[np.ndarray] = []
    multi_c: list[np.ndarray] = []
    with open(path, "rb") as fh:
        fh.seek(header.end_offset)
        base = header.end_offset
        while data := fh.read(chunk):
            b = np.frombuffer(data, dtype=np.uint8)
            out = _scan_chunk(b, data, base, st, expected, dl_byte, q_byte, path)
            for acc, arr in zip((blank, ragged_i, ragged_n, multi_i, multi_c), out, strict=True):
                if arr.size:
                    acc.append(arr)
            base += len(data)
        tail = _finish(fh, st, base, expected, path)
    if tail is not None:
        kind, value = tail
        if kind == "blank":
            blank.append(np.array([st.records - 1]))
        elif kind == "ragged":
            ragged_i.append(np.array([st.records - 1]))
            ragged_n.append(np.array([value]))
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)  # noqa: E731
    return RecordMap(
        st.records, cat(blank), cat(ragged_i), cat(ragged_n), cat(multi_i), cat(multi_c), header.end_line + 1
    )


def _scan_chunk(
    b: np.ndarray, data: bytes, base: int, st: _State, expected: int, dl_byte: int, q_byte: int, path: str
) -> tuple[np.ndarray, ...]:
    quoted = st.parity or data.find(bytes((q_byte,))) >= 0
    nl = np.flatnonzero(b == _NL)
    is_dl = b == dl_byte
    if quoted:
        isq = b == q_byte
        # Parity of the running quote count: 1 inside a quoted field.  uint8 wraps, parity survives.
        par = (np.cumsum(isq, dtype=np.uint8) & 1) ^ np.uint8(st.parity)
        _check_quotes(b, isq, par, st, base, q_byte, dl_byte, path)
        term_k = np.flatnonzero(par[nl] == 0)  # which line breaks end a record
        is_dl &= par == 0
        last_parity = int(par[-1])
    else:  # no quote in this chunk: every line break ends a record, every delimiter counts
        term_k = np.arange(nl.size)
        last_parity = 0
    term = nl[term_k]
    counts = _counts(is_dl, term, expected, st.count, b.size)
    m = term.size
    empty = np.zeros(0, dtype=np.int64)
    if m == 0:
        st.count += int(counts[0])
        st.lines += nl.size
        st.parity = last_parity if b.size else st.parity
        st.prev_byte = int(b[-1]) if b.size else st.prev_byte
        st.tail = (st.tail + data)[-257:]
        return empty, empty, empty, empty, empty
    rec_counts = counts[:m].copy()
    rec_counts[0] += st.count
    idx = st.records + np.arange(m, dtype=np.int64)
    end_lines = st.lines + term_k + 1  # line each record ends on
    start_lines = np.concatenate(([st.start_line], end_lines[:-1] + 1))
    extra = end_lines - start_lines
    starts = np.concatenate(([st.start - base], term[:-1] + 1))  # relative to this chunk (may be < 0)
    ragged = rec_counts != expected
    blank_mask = np.zeros(m, dtype=bool)
    for j in np.flatnonzero(ragged & (rec_counts == 0)):
        blank_mask[j] = _is_blank(data, int(starts[j]), int(term[j]), st, base)
    ragged &= ~blank_mask
    has_extra = extra > 0
    cum = st.extra_total + np.cumsum(extra[has_extra])
    if has_extra.any():
        st.extra_total = int(cum[-1])
    st.records += m
    st.lines += nl.size
    st.start = base + int(term[-1]) + 1
    st.start_line = int(end_lines[-1]) + 1
    st.count = int(counts[m])
    st.parity = last_parity
    st.prev_byte = int(b[-1])
    st.tail = data[-257:]
    return idx[blank_mask], idx[ragged], rec_counts[ragged] + 1, idx[has_extra], cum


def _counts(is_dl: np.ndarray, term: np.ndarray, expected: int, carried: int, size: int) -> np.ndarray:
    """Delimiters per record ending in this chunk (the first minus ``carried``), plus the trailing
    partial record's.

    Well-formed chunks are recognised without summing per record: the delimiter positions, cut
    into groups of ``expected``, must each fall between consecutive record ends.  Otherwise (a
    ragged or blank record) the per-record sums are computed.
    """
    m = term.size
    dl = np.flatnonzero(is_dl)
    first = expected - carried
    middle = (m - 1) * expected if m else 0
    if m and first >= 0 and dl.size >= first + middle:
        ok = (first == 0 or dl[first - 1] < term[0]) and (dl.size == first or dl[first] > term[0])
        if ok and m > 1:
            block = dl[first : first + middle].reshape(m - 1, expected) if expected else None
            if block is not None:
                ok = bool(np.all(block[:, 0] > term[:-1]) and np.all(block[:, -1] < term[1:]))
            ok = ok and (dl.size == first + middle or dl[first + middle] > term[-1])
        if ok:
            counts = np.full(m + 1, expected, dtype=np.int64)
            counts[0] = first
            counts[m] = dl.size - first - middle
            return counts
    # Delimiters per record: sums of the delimiter mask between consecutive record ends.
    bounds = np.concatenate(([0], term + 1))
    counts = np.add.reduceat(is_dl, bounds[bounds < size]).astype(np.int64) if size else np.zeros(1, np.int64)
    if counts.size < m + 1:  # the chunk ends exactly on a record end: nothing carried over
        counts = np.concatenate((counts, np.zeros(m + 1 - counts.size, dtype=np.int64)))
    return counts


def _is_blank(data: bytes, start: int, end: int, st: _State, base: int) -> bool:
    if start < 0:  # the record began in an earlier chunk; a blank one is short
        if end - start > 256 or -start > len(st.tail):
            return False
        return not (st.tail[start:] + data[:end]).strip(_BLANK_BYTES)
    return not data[start:end].strip(_BLANK_BYTES)


def _check_quotes(
    b: np.ndarray,
    isq: np.ndarray,
    par: np.ndarray,
    st: _State,
    base: int,
    q_byte: int,
    dl_byte: int,
    path: str,
) -> None:
    q = np.flatnonzero(isq)
    if not q.size:
        return
    prev = np.where(q > 0, b[np.maximum(q - 1, 0)].astype(np.int16), np.int16(st.prev_byte))
    opening = par[q] == 1
    ok_open = (prev == dl_byte) | (prev == _NL) | (prev == q_byte)
    # -1: the quote ends the chunk; what follows is not known here (accepted).
    nxt = np.where(q + 1 < b.size, b[np.minimum(q + 1, b.size - 1)].astype(np.int16), np.int16(-1))
    ok_close = (nxt == dl_byte) | (nxt == _NL) | (nxt == _CR) | (nxt == q_byte) | (nxt == -1)
    bad = np.flatnonzero((opening & ~ok_open) | (~opening & ~ok_close))
    if bad.size:
        at = int(q[bad[0]])
        line = st.lines + 1 + int(np.count_nonzero(b[:at] == _NL))
        raise InputError(
            f"line {line}: a quote inside an unquoted field (byte {base + at})",
            hint='quote the whole field and double the inner quote: "5"" screen"',
        )


def _finish(fh: object, st: _State, end: int, expected: int, path: str) -> tuple[str, int] | None:
    if st.parity:
        raise InputError(
            f"line {st.start_line}: a quoted field opened here is never closed",
            hint="the export was cut short, or a quote inside a field is not doubled",
        )
    if st.start >= end:
        return None
    st.records += 1
    with open(path, "rb") as f:
        f.seek(st.start)
        rest = f.read(min(end - st.start, 257))
    if st.count == 0 and len(rest) <= 256 and not rest.strip(_BLANK_BYTES):
        return "blank", 0
    if st.count != expected:
        return "ragged", st.count + 1
    return None
