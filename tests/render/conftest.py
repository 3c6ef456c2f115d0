"""Fixtures for the render tests."""

from __future__ import annotations

import pytest

from billcx.store import CleanData

from .builders import clean_data


@pytest.fixture
def data() -> CleanData:
    """The hand-made clean tables of builders.py."""
    return clean_data()
