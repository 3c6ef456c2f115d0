"""Pseudonymisation: stable keyed ids, personal columns gone."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from billcx.errors import UsageError
from billcx.privacy import PII_COLUMNS, pseudonymize, read_key

KEY = b"0123456789abcdef0123456789abcdef"


def test_pseudonymize_drops_contact_fields_and_hashes_ids() -> None:
    frame = pl.DataFrame({"customer_id": ["c1", "c2", "c1"], "email": ["a@example.com"] * 3,
                          "name": ["A", "B", "A"], "score": [1, 2, 3]})
    out = pseudonymize(frame, KEY)
    assert out.columns == ["customer_id", "score"]
    ids = out["customer_id"].to_list()
    assert ids[0] == ids[2] != ids[1]
    assert all(i.startswith("p_") and len(i) == 22 for i in ids)
    assert "c1" not in ids


def test_pseudonyms_depend_on_the_key() -> None:
    frame = pl.DataFrame({"customer_id": ["c1"]})
    assert pseudonymize(frame, KEY)["customer_id"][0] != pseudonymize(frame, KEY[::-1])["customer_id"][0]


def test_pii_columns_come_from_the_contract() -> None:
    assert {"email", "phone", "name", "address_line1", "recipient"} <= PII_COLUMNS
    assert "customer_id" not in PII_COLUMNS


def test_short_key_file_is_a_usage_error(tmp_path: Path) -> None:
    short_key_file = tmp_path / "short.key"
    short_key_file.write_text("abc")
    with pytest.raises(UsageError, match="holds 3 bytes; need at least 16"):
        read_key(short_key_file)
