"""Gamma-Gamma model of spend per transaction (Fader and Hardie), by maximum likelihood.

Fitted on customers with at least one repeat purchase: ``frequency`` (repeat purchases) and
``monetary`` (mean spend of the repeat purchases).  The conditional expected spend of a customer is
a weighted average of their own mean and the population mean ``p * v / (q - 1)``::

    E[spend | x, m] = w * p * v / (q - 1) + (1 - w) * m,   w = (q - 1) / (p * x + q - 1)

Monetary values are scaled by their mean while fitting (``v`` is scaled back), which changes
nothing in the estimates but keeps the optimiser well conditioned for cents or yen.
The model assumes spend and frequency are independent; :func:`fit_gamma_gamma` reports their
correlation so a reader can judge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln

from billcx.segment.fitting import FitError, minimise_log_params


@dataclass(frozen=True)
class GammaGammaParams:
    """Spend ~ Gamma(p, nu) per transaction, nu ~ Gamma(q, v) across customers."""

    p: float
    q: float
    v: float

    @property
    def population_mean(self) -> float | None:
        """Mean spend per transaction in the population; undefined (None) when ``q <= 1``."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else None


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma model.

    Attributes:
        params: the estimates.
        log_likelihood: total log-likelihood.
        subjects: customers fitted (those with repeat purchases and positive spend).
        frequency_spend_correlation: Pearson correlation of frequency and mean spend (the model
            assumes it is near 0).
        iterations: optimiser iterations.
    """

    params: GammaGammaParams
    log_likelihood: float
    subjects: int
    frequency_spend_correlation: float | None
    iterations: int


def _ll_and_grad(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood and its gradient (rows x 3) in (p, q, v)."""
    p, q, v = (float(val) for val in params)
    px = p * x
    log_xmv = np.log(x * m + v)
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m)
          + px * np.log(x) - (px + q) * log_xmv)
    psi = digamma(px + q)
    d_p = x * (psi - digamma(px) + np.log(m) + np.log(x) - log_xmv)
    d_q = psi - digamma(q) + np.log(v) - log_xmv
    d_v = q / v - (px + q) / (x * m + v)
    return ll, np.stack([d_p, d_q, d_v], axis=1)


def log_likelihood(params: GammaGammaParams, frequency: npt.ArrayLike, monetary: npt.ArrayLike) -> np.ndarray:
    """Per-customer log-likelihood of the mean spend ``monetary`` over ``frequency`` transactions."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    return _ll_and_grad(np.array([params.p, params.q, params.v]), x, m)[0]


def fit_gamma_gamma(
    frequency: npt.ArrayLike, monetary: npt.ArrayLike, *, penalizer: float = 0.0
) -> GammaGammaFit:
    """Fit Gamma-Gamma on repeat customers (rows with ``frequency > 0`` and ``monetary > 0``).

    Args:
        frequency: repeat purchases per customer (others are skipped).
        monetary: mean spend of each customer's repeat purchases.
        penalizer: L2 penalty on the (scaled) parameters.

    Returns:
        A :class:`GammaGammaFit`.

    Raises:
        FitError: fewer than 3 usable customers or no convergence.
    """
    x_all = np.asarray(frequency, dtype=np.float64)
    m_all = np.asarray(monetary, dtype=np.float64)
    keep = (x_all > 0) & (m_all > 0) & np.isfinite(m_all)
    x, m = x_all[keep], m_all[keep]
    if x.size < 3:
        raise FitError(f"Gamma-Gamma: needs at least 3 repeat customers with positive spend, found {x.size}")
    scale = float(m.mean())
    keys, weights = np.unique(np.stack([x, m / scale], axis=1), axis=0, return_counts=True)
    w = weights.astype(np.float64)
    total_w = float(w.sum())

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _ll_and_grad(params, keys[:, 0], keys[:, 1])
        value = -float(w @ ll) / total_w + penalizer * float((params ** 2).sum())
        return value, -(w @ grad) / total_w + 2 * penalizer * params

    best = minimise_log_params(
        objective, [(1.0, 1.0, 1.0), (5.0, 3.0, 2.0), (0.5, 2.0, 0.5)], what="Gamma-Gamma"
    )
    p, q, v = (float(val) for val in best.params)
    params = GammaGammaParams(p, q, v * scale)
    total = float(log_likelihood(params, x, m).sum())
    corr = float(np.corrcoef(x, m)[0, 1]) if x.size > 2 and x.std() > 0 and m.std() > 0 else None
    return GammaGammaFit(params, total, int(x.size), corr, best.iterations)


def expected_spend(params: GammaGammaParams, frequency: npt.ArrayLike, monetary: npt.ArrayLike) -> np.ndarray:
    """Conditional expected spend per transaction of each customer.

    Raises:
        FitError: ``q <= 1`` (the population mean spend is undefined).
    """
    mean = params.population_mean
    if mean is None:
        raise FitError(f"Gamma-Gamma: q = {params.q:.3g} <= 1, the population mean spend is undefined")
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    weight = (params.q - 1) / (params.p * x + params.q - 1)
    return weight * mean + (1 - weight) * np.where(x > 0, m, 0.0)


__all__ = [
    "FitError",
    "GammaGammaFit",
    "GammaGammaParams",
    "expected_spend",
    "fit_gamma_gamma",
    "log_likelihood",
]
