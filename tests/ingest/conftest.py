"""Helpers for the ingest tests: fixture files live in tests/data/ingest, named after their defect."""

from __future__ import annotations

from pathlib import Path

import pytest

from billcx.ingest import IngestResult, ingest

INGEST_DATA = Path(__file__).resolve().parent.parent / "data" / "ingest"


@pytest.fixture
def data() -> Path:
    """The folder of ingest fixture files."""
    return INGEST_DATA


def run(*names: str, **kwargs: object) -> IngestResult:
    """Ingest fixture files by name (paths given relative names, as users type them)."""
    return ingest([INGEST_DATA / n for n in names], **kwargs)  # type: ignore[arg-type]


def rejects_of(result: IngestResult, file: str) -> set[tuple[int, str, str]]:
    """(line, column, code) of the rejects of one file."""
    frame = result.rejects.filter(result.rejects["file"].str.ends_with(file))
    return {(int(r["line"]), r["column"], r["code"]) for r in frame.iter_rows(named=True)}
