"""Fixtures of the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .builders import write_run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A complete tiny run folder named ``run``."""
    return write_run(tmp_path / "run")
