"""Confidence intervals for the arms comparison: Wilson, Newcombe and Welch.

* A proportion gets the Wilson score interval (good coverage for small samples and rates near 0 or 1,
  never outside [0, 1]).
* A difference of two independent proportions gets Newcombe's hybrid score interval (method 10 of
  Newcombe 1998), built from the two Wilson intervals.
* A mean gets the Student t interval, and a difference of two means Welch's interval (unequal
  variances, Welch-Satterthwaite degrees of freedom).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval ``[low, high]``."""

    low: float
    high: float

    def includes(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (bounds included)."""
        return self.low <= value <= self.high

    def scaled(self, factor: float) -> Interval:
        """The interval multiplied by a positive ``factor``."""
        return Interval(self.low * factor, self.high * factor)


def _student_t() -> Any:
    """scipy's Student t distribution, imported on first use (scipy.stats costs ~0.5 s to import)."""
    from scipy import stats

    return stats.t


def z_value(confidence: float) -> float:
    """The two-sided standard normal quantile, e.g. 1.959964 for 0.95."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, n: int, *, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval of ``successes / n`` (None when ``n`` is 0).

    Raises:
        ValueError: ``successes`` outside ``0..n``.
    """
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n, found {successes} of {n}")
    if n == 0:
        return None
    z = z_value(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At 0 or n successes the bound is exactly 0 or 1; floating point leaves a ~1e-17 residue.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high)


def newcombe(s1: int, n1: int, s2: int, n2: int, *, confidence: float = 0.95) -> Interval | None:
    """Newcombe hybrid score interval of ``s1/n1 - s2/n2`` (None when either sample is empty)."""
    w1, w2 = wilson(s1, n1, confidence=confidence), wilson(s2, n2, confidence=confidence)
    if w1 is None or w2 is None:
        return None
    p1, p2 = s1 / n1, s2 / n2
    d = p1 - p2
    low = d - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = d + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    return Interval(low, high)


def t_interval(values: np.ndarray, *, confidence: float = 0.95) -> Interval | None:
    """Student t interval of the mean of ``values`` (None with fewer than 2 values)."""
    n = values.size
    if n < 2:
        return None
    mean = float(values.mean())
    se = float(values.std(ddof=1)) / math.sqrt(n)
    if se == 0.0:
        return Interval(mean, mean)
    t = float(_student_t().ppf(0.5 + confidence / 2, n - 1))
    return Interval(mean - t * se, mean + t * se)


def welch(x1: np.ndarray, x2: np.ndarray, *, confidence: float = 0.95) -> Interval | None:
    """Welch interval of ``mean(x1) - mean(x2)`` (None when either sample has fewer than 2 values)."""
    n1, n2 = x1.size, x2.size
    if n1 < 2 or n2 < 2:
        return None
    d = float(x1.mean() - x2.mean())
    v1, v2 = float(x1.var(ddof=1)) / n1, float(x2.var(ddof=1)) / n2
    se2 = v1 + v2
    if se2 == 0.0:
        return Interval(d, d)
    df = se2 * se2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    t = float(_student_t().ppf(0.5 + confidence / 2, df))
    half = t * math.sqrt(se2)
    return Interval(d - half, d + half)
