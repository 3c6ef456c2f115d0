"""Editor line numbers of CSV records, found in bulk, agree with Python's csv module and polars."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billcx.errors import InputError
from billcx.ingest.lines import read_header, scan_records

FIELDS = ["a", "", "b c", '"q,x"', '"m\nl"', '"m\r\nl2\nl3"', '"d""q"', "12"]


@st.composite
def csv_text(draw: st.DrawFn) -> tuple[str, int]:
    ncol = draw(st.integers(2, 4))
    lines = [draw(st.sampled_from(["", "  "])) for _ in range(draw(st.integers(0, 2)))]
    lines.append(",".join(f"h{i}" for i in range(ncol)))
    for _ in range(draw(st.integers(0, 15))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(st.sampled_from(["", " \t"])))
            continue
        width = ncol if kind < 8 else draw(st.integers(1, ncol + 2))
        lines.append(",".join(draw(st.sampled_from(FIELDS)) for _ in range(width)))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return eol.join(lines) + (eol if draw(st.booleans()) else ""), ncol


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(csv_text(), st.sampled_from([5, 16, 64, 1 << 20]))
def test_records_lines_blanks_and_ragged_rows_match_csv_module(
    tmp_path: Path, case: tuple[str, int], chunk: int
) -> None:
    text, ncol = case
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    header = read_header(path.read_bytes(), delimiter=",")
    rmap = scan_records(str(path), header, delimiter=",", chunk=chunk)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, line = [], 1
    for row in reader:
        rows.append((row, line))
        line = reader.line_num + 1
    first = next(i for i, (row, _) in enumerate(rows) if any(x.strip() for x in row) or len(row) > 1)
    data = rows[first + 1 :]
    blank = [i for i, (row, _) in enumerate(data) if not row or (len(row) == 1 and not row[0].strip(" \t\r"))]
    ragged = [i for i, (row, _) in enumerate(data) if i not in blank and len(row) != ncol]
    assert header.line == rows[first][1]
    assert rmap.n_records == len(data)
    assert rmap.lines(np.arange(rmap.n_records)).tolist() == [ln for _, ln in data]
    assert (rmap.blank.tolist(), rmap.ragged_idx.tolist()) == (blank, ragged)
    if rmap.n_records:  # polars numbers the same records
        schema = {f"c{i}": pl.String() for i in range(ncol)}
        frame = pl.read_csv(
            path,
            has_header=False,
            skip_lines=header.end_line,
            schema=schema,
            truncate_ragged_lines=True,
            missing_columns="insert",
            extra_columns="ignore",
        )
        assert frame.height == rmap.n_records


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('a,b\n1,"open\n2,3\n', "line 2: a quoted field opened here is never closed"),
        ('a,b\n1,5" screen\n', "line 2: a quote inside an unquoted field (byte 7)"),
    ],
)
def test_bad_quoting_is_reported_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(text)
    header = read_header(path.read_bytes(), delimiter=",")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        scan_records(str(path), header, delimiter=",")
