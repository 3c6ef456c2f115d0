"""The README's contract and reject-code sections are generated from the code.

Regenerate after changing billcx/schema.py or billcx/ingest/codes.py:

    BILLCX_UPDATE_README=1 .venv/bin/pytest tests/ingest/test_readme.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from billcx.ingest.codes import codes_markdown
from billcx.schema import contract_markdown

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = {"contract": contract_markdown, "reject-codes": codes_markdown}


def _between(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"<!-- {name}:start -->") + len(f"<!-- {name}:start -->")
    return start, text.index(f"<!-- {name}:end -->")


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_readme_section_matches_the_code(name: str) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = _between(text, name)
    expected = "\n" + SECTIONS[name]().rstrip("\n") + "\n"
    if os.environ.get("BILLCX_UPDATE_README") == "1" and text[start:end] != expected:
        README.write_text(text[:start] + expected + text[end:], encoding="utf-8")
        text = README.read_text(encoding="utf-8")
        start, end = _between(text, name)
    assert text[start:end] == expected, (
        f"README section '{name}' is out of date; regenerate it with "
        "BILLCX_UPDATE_README=1 .venv/bin/pytest tests/ingest/test_readme.py"
    )


def test_every_code_is_documented_in_docs() -> None:
    from billcx.ingest.codes import CODES

    doc = (README.parent / "docs" / "ingest.md").read_text(encoding="utf-8")
    missing = [c.name for c in CODES if not re.search(rf"`{c.name}`", doc)]
    assert not missing, f"docs/ingest.md does not mention {missing}"
