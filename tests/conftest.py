"""Shared fixtures. Real public datasets live in ../shared/datasets beside the clone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(os.environ.get("BILLCX_SHARED", ROOT.parent / "shared")) / "datasets"

os.environ.setdefault("COLUMNS", "100")  # pin console width: no test depends on a terminal's size


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """Path to ../shared/datasets; skips the test with a clear reason when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"real datasets not found at {SHARED} (set BILLCX_SHARED to ../shared)")
    return SHARED
