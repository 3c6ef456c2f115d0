"""Shared generated data for the sample tests (generated once per session: they only read it)."""

from __future__ import annotations

import pytest

from billcx.sample import SampleData, SampleSettings, generate


@pytest.fixture(scope="session")
def data() -> SampleData:
    """The committed sample's settings: 300 customers, seed 7."""
    return generate(SampleSettings(customers=300, seed=7))


@pytest.fixture(scope="session")
def larger() -> SampleData:
    """Enough customers for statistical checks, still well under a second."""
    return generate(SampleSettings(customers=2000, seed=11))
