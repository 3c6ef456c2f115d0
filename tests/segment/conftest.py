"""Fixtures of the segment tests: a small generated ledger and its segment result."""

from __future__ import annotations

import pytest
from segment_synth import synth_clean

from billcx.segment import SegmentResult, segment
from billcx.store import CleanData


@pytest.fixture(scope="session")
def sample_clean() -> CleanData:
    """300 generated customers (about 4,000 invoices), as clean contract frames."""
    return synth_clean(300, seed=5)


@pytest.fixture(scope="session")
def sample_result(sample_clean: CleanData) -> SegmentResult:
    """``segment`` of the sample at its latest date, default settings."""
    return segment(sample_clean)
