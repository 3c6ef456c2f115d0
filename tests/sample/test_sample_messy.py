"""messify(): every catalogued defect is present, where defects.json says, and nothing else changes."""

from __future__ import annotations

import csv
import importlib
import json
from pathlib import Path

import pytest

from billcx.errors import InputError
from billcx.sample import CATALOGUE, MessyExport, SampleData, messify, write_exports, write_messy
from billcx.sample.writer import csv_bytes, export_text, tables
from billcx.schema import INPUT_TABLES


@pytest.fixture(scope="module")
def messy(data: SampleData) -> MessyExport:
    return messify(data, seed=7)


def _lines(content: bytes) -> list[str]:
    text = content.decode("utf-8-sig")
    return text.split("\r\n" if "\r\n" in text else "\n")[:-1]


def _cells(line: str) -> list[str]:
    return next(csv.reader([line]))


def test_every_defect_kind_is_present(messy: MessyExport) -> None:
    counts = messy.counts()
    for kind in CATALOGUE:
        assert counts.get((kind.file, kind.kind), 0) >= 1, (kind.file, kind.kind)
    assert sum(counts.values()) == len(messy.defects)


def test_each_defect_is_on_the_line_defects_json_names(messy: MessyExport) -> None:
    files = {f.name: _lines(f.content) for f in messy.files}
    for d in messy.defects:
        lines = files[d.file]
        header = _cells(lines[0])
        line = lines[d.line - 1]
        if d.kind == "blank_line":
            assert line == ""
        elif d.kind == "header_repeated":
            assert line == lines[0] and d.line > 1
        elif d.kind == "ragged_short":
            assert len(_cells(line)) == len(header) - 2
        elif d.kind == "ragged_long":
            assert len(_cells(line)) == len(header) + 1
        elif d.kind == "duplicate_identical":
            assert lines.count(line) == 2 and _cells(line)[0] == d.value
        elif d.kind == "duplicate_conflicting":
            same_id = [x for x in lines[1:] if x and _cells(x)[0] == d.value]
            assert len(same_id) == 2 and same_id[0] != same_id[1]
        else:
            assert dict(zip(header, _cells(line), strict=True))[d.column] == d.value, d


def test_every_other_line_is_unchanged(data: SampleData, messy: MessyExport) -> None:
    clean = {f"{name}.csv": set(csv_bytes(export_text(frame, INPUT_TABLES[name])).decode().splitlines())
             for name, frame in tables(data).items()}
    for file in messy.files:
        flagged = {d.line for d in messy.defects if d.file == file.name}
        for number, line in enumerate(_lines(file.content), start=1):
            if number not in flagged:
                assert line in clean[file.name], (file.name, number)


def test_defects_are_a_small_minority_of_rows(messy: MessyExport) -> None:
    rows = {f.name: f.data_rows for f in messy.files}
    total = sum(len({d.line for d in messy.defects if d.file == name}) for name in rows)
    assert 0.01 < total / sum(rows.values()) < 0.05
    for name, count in rows.items():
        assert len({d.line for d in messy.defects if d.file == name}) / count < 0.05, name


def test_encoding_details_of_real_exports(messy: MessyExport) -> None:
    files = {f.name: f.content for f in messy.files}
    assert files["customers.csv"].startswith(b"\xef\xbb\xbf")
    assert files["invoices.csv"].count(b"\r\n") == files["invoices.csv"].count(b"\n")
    assert b"\r\n" not in files["payments.csv"]


def test_rejects_do_not_cascade_into_other_tables(data: SampleData, messy: MessyExport) -> None:
    """Invoices a strict reader rejects have no payments; customers rejected whole have no invoices."""
    rejected = {d.value for d in messy.defects if d.expect == "reject" and d.file == "invoices.csv"
                and d.column in ("invoice_id", "")}
    assert rejected
    assert not data.payments["invoice_id"].is_in(list(rejected)).any()
    customers = {d.value for d in messy.defects if d.file == "customers.csv" and d.expect == "reject"}
    assert not data.invoices["customer_id"].is_in(list(customers)).any()


def test_same_seed_same_bytes_other_seed_other_rows(data: SampleData, messy: MessyExport) -> None:
    again = messify(data, seed=7)
    assert [f.content for f in again.files] == [f.content for f in messy.files]
    other = messify(data, seed=8)
    assert [d.line for d in other.defects] != [d.line for d in messy.defects]


def test_messify_reads_a_folder_of_clean_exports_alike(data: SampleData, messy: MessyExport,
                                                       tmp_path: Path) -> None:
    write_exports(data, tmp_path)
    from_files = messify(tmp_path, seed=7)
    assert [f.content for f in from_files.files] == [f.content for f in messy.files]
    assert from_files.defects == messy.defects


def test_a_folder_without_the_exports_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"customers.csv: missing; expected the customers export here"):
        messify(tmp_path, seed=1)


def test_write_messy_writes_files_and_defect_list(messy: MessyExport, tmp_path: Path) -> None:
    paths = write_messy(messy, tmp_path)
    assert [p.name for p in paths] == ["customers.csv", "invoices.csv", "payments.csv", "events.csv",
                                       "defects.json"]
    listed = json.loads((tmp_path / "defects.json").read_text(encoding="utf-8"))
    assert len(listed["defects"]) == len(messy.defects)
    assert listed["defects"][0].keys() == {"file", "line", "column", "kind", "expect", "code", "value"}
    assert listed["files"]["invoices.csv"]["data_rows"] == messy.files[1].data_rows


def test_ingest_codes_named_in_the_catalogue_exist() -> None:
    try:
        codes = importlib.import_module("billcx.ingest.codes")
    except ModuleNotFoundError:
        pytest.skip("billcx.ingest.codes not present yet")
    for kind in CATALOGUE:
        if kind.code:
            assert kind.code in codes.CODE_NAMES, kind.code
