"""docs/segment.md stays in step with the code: settings defaults, output columns, the grid."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from billcx.config import from_mapping
from billcx.segment.result import COHORTS_OUTPUT, CUSTOMER_OUTPUT, INVOICE_RISK_OUTPUT
from billcx.segment.rfm import GRID
from billcx.segment.settings import SegmentSettings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "segment.md").read_text(encoding="utf-8")


def test_the_documented_settings_are_the_defaults() -> None:
    block = re.search(r"```toml\n(.*?)```", DOC, re.S)
    assert block is not None
    documented = tomllib.loads(block.group(1))["segment"]
    assert from_mapping(SegmentSettings, documented, where="segment") == SegmentSettings()


def test_every_output_column_is_documented() -> None:
    for table in (CUSTOMER_OUTPUT, INVOICE_RISK_OUTPUT, COHORTS_OUTPUT):
        missing = [name for name in table.names if f"`{name}`" not in DOC]
        assert not missing, f"{table.name}: undocumented columns {missing}"


def test_the_documented_grid_is_the_code() -> None:
    for r, row in GRID.items():
        assert f"| {r} | " + " | ".join(row) + " |" in DOC
