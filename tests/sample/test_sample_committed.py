"""The committed sample_data/ and the defect table in docs/sample.md match what the generator makes.

When the generator changes on purpose, regenerate both with::

    BILLCX_UPDATE_GOLDEN=1 python -m pytest tests/sample/test_sample_committed.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from billcx.atomic import write_text
from billcx.sample import SampleData, defect_markdown, messify, write_exports, write_messy

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
DOCS = ROOT / "docs" / "sample.md"
UPDATE = os.environ.get("BILLCX_UPDATE_GOLDEN") == "1"
_TABLE = re.compile(r"(<!-- defects:start -->\n)(.*?)(<!-- defects:end -->)", re.S)


def test_committed_sample_data_is_what_the_generator_makes(data: SampleData, tmp_path: Path) -> None:
    """`billcx sample --customers 300 --seed 7 --out sample_data` (and `--messy` into sample_data/messy)."""
    if UPDATE:
        write_exports(data, SAMPLE)
        write_messy(messify(data, seed=7), SAMPLE / "messy")
    fresh = write_exports(data, tmp_path / "clean") + write_messy(messify(data, seed=7), tmp_path / "messy")
    for path in fresh:
        committed = SAMPLE / path.relative_to(tmp_path / "clean") if path.parent.name == "clean" \
            else SAMPLE / "messy" / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale; see the module docstring"


def test_docs_list_every_defect_with_its_count(data: SampleData) -> None:
    table = defect_markdown(messify(data, seed=7))
    text = DOCS.read_text(encoding="utf-8")
    match = _TABLE.search(text)
    assert match, "docs/sample.md lacks the defects:start/defects:end markers"
    if UPDATE:
        write_text(DOCS, text[:match.start(2)] + table + text[match.end(2):])
        pytest.skip("docs/sample.md updated")
    assert match.group(2) == table, "docs/sample.md's defect table is stale; see this module's docstring"
