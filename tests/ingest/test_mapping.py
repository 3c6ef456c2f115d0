"""Mapping files: every mistake is a ConfigError naming the key, with a suggestion where one exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from billcx.errors import ConfigError
from billcx.ingest import load_mapping, mapping_from_dict
from billcx.ingest.mapping import effective

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"defaults": {"date_format": ["%Y"]}},
            "unknown setting 'defaults.date_format' (did you mean 'date_formats'?)",
        ),
        ({"tables": {"invoice": {}}}, "unknown table 'tables.invoice' (did you mean 'invoices'?)"),
        (
            {"tables": {"invoices": {"columns": {"Amt": "amout"}}}},
            "tables.invoices.columns.Amt: unknown invoices column 'amout' (did you mean 'amount'?)",
        ),
        (
            {"tables": {"invoices": {"columns": {"X": "customers.emial"}}}},
            "unknown customer column 'customers.emial' (did you mean 'email'?)",
        ),
        (
            {"defaults": {"date_formats": ["%Y-%M-%d"]}},
            "defaults.date_formats: format '%Y-%M-%d' does not read back",
        ),
        ({"defaults": {"decimal": ";"}}, "defaults.decimal: expected '.' or ',', found ';'"),
        ({"defaults": {"default_currency": "EURO"}}, "defaults.default_currency: expected an ISO 4217 code"),
        (
            {"defaults": {"money_unit": "cents"}},
            "'defaults.money_unit' must be one of 'major', 'minor', found 'cents'",
        ),
        (
            {"tables": {"invoices": {"columns": {"D": {"to": "disputed", "values": {"Y": "yes"}}}}}},
            "tables.invoices.columns.D.values.Y: disputed takes true or false, found 'yes'",
        ),
        (
            {"tables": {"invoices": {"columns": {"S": {"to": "status", "values": {"P": "payed"}}}}}},
            "status takes one of open, paid, void, written_off, found 'payed' (did you mean 'paid'?)",
        ),
        (
            {"files": {"x.csv": {"columns": {"A": "amount"}}}},
            'files."x.csv": columns need `table` in the same section',
        ),
        ({"derive": {"payments": "sometimes"}}, "'derive.payments' must be one of 'auto', 'never'"),
    ],
)
def test_mapping_errors_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        mapping_from_dict(data)
    assert message in info.value.message


def test_layers_merge_file_over_table_over_defaults() -> None:
    m = mapping_from_dict(
        {
            "defaults": {"decimal": ",", "default_currency": "EUR"},
            "tables": {"invoices": {"default_currency": "USD", "columns": {"Amt": "amount"}}},
            "files": {"ar_*.csv": {"table": "invoices", "dayfirst": True, "columns": {"Amt": "amount_paid"}}},
        }
    )
    eff = effective(m, "ar_2024.csv", "invoices")
    assert (eff.parse.decimal, eff.parse.default_currency, eff.parse.dayfirst) == (",", "USD", True)
    assert eff.columns["Amt"].to == "amount_paid"
    assert effective(m, "other.csv", "invoices").columns["Amt"].to == "amount"


def test_shipped_example_mapping_loads() -> None:
    m = load_mapping(ROOT / "examples" / "ibm_receivables" / "mapping.toml")
    assert m.file_spec("WA_Fn-UseC_-Accounts-Receivable.csv") is not None
