"""Interval formulas against published values (Newcombe 1998) and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from billcx.evaluate.stats import Interval, newcombe, t_interval, welch, wilson, z_value


@pytest.mark.parametrize(("s", "n", "low", "high"), [
    (81, 263, 0.2553, 0.3662),  # Newcombe (1998a), table I, method 3
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (8, 10, 0.4902, 0.9433),
])
def test_wilson_matches_published_values(s: int, n: int, low: float, high: float) -> None:
    ci = wilson(s, n)
    assert ci is not None
    assert (round(ci.low, 4), round(ci.high, 4)) == (low, high)


def test_wilson_edges() -> None:
    assert wilson(0, 0) is None
    assert wilson(0, 10) == Interval(0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson(10, 10).high == 1.0  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson(11, 10)


@pytest.mark.parametrize(("a", "expected"), [
    ((56, 70, 48, 80), (0.0524, 0.3339)),  # Newcombe (1998b), table II, method 10
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0)),
    ((10, 10, 0, 10), (0.6075, 1.0)),
])
def test_newcombe_matches_published_values(a: tuple[int, int, int, int],
                                           expected: tuple[float, float]) -> None:
    ci = newcombe(*a)
    assert ci is not None
    assert (round(ci.low, 4), round(ci.high, 4)) == expected


def test_newcombe_needs_both_samples() -> None:
    assert newcombe(1, 2, 0, 0) is None


def test_welch_matches_scipy() -> None:
    x1 = np.array([1.0, 2.0, 3.0, 4.0])
    x2 = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    ci = welch(x1, x2)
    ref = sps.ttest_ind(x1, x2, equal_var=False).confidence_interval(0.95)
    assert ci is not None
    assert ci.low == pytest.approx(ref.low) and ci.high == pytest.approx(ref.high)


def test_welch_by_hand() -> None:
    # means 2.5 and 5; variances 5/3 and 20/3; se^2 = 5/12 + 20/12 = 25/12; df = 4.4118.
    x1, x2 = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 6.0, 8.0])
    ci = welch(x1, x2)
    se = (25 / 12) ** 0.5
    df = (25 / 12) ** 2 / ((5 / 12) ** 2 / 3 + (20 / 12) ** 2 / 3)
    assert df == pytest.approx(4.4118, abs=1e-4)
    t = sps.t.ppf(0.975, df)
    assert ci == Interval(pytest.approx(-2.5 - t * se), pytest.approx(-2.5 + t * se))


def test_means_degenerate_cases() -> None:
    assert welch(np.array([1.0]), np.array([1.0, 2.0])) is None
    assert welch(np.array([3.0, 3.0]), np.array([1.0, 1.0])) == Interval(2.0, 2.0)
    assert t_interval(np.array([5.0])) is None
    ci = t_interval(np.array([1.0, 2.0, 3.0]))
    assert ci == Interval(pytest.approx(2 - 4.302653 / 3 ** 0.5, abs=1e-6),
                          pytest.approx(2 + 4.302653 / 3 ** 0.5, abs=1e-6))


def test_z_value() -> None:
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_value(0.9) == pytest.approx(1.644854, abs=1e-6)
