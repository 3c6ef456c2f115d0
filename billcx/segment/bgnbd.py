"""BG/NBD (Fader, Hardie and Lee 2005): repeat purchases and drop-out, by maximum likelihood.

Usable on its own with the output of :func:`billcx.segment.clv.summary_data`::

    fit = fit_bgnbd(s["frequency"], s["recency"], s["T"])
    p = probability_alive(fit.params, s["frequency"], s["recency"], s["T"])

As in lifetimes, times are scaled by ``1 / max(T)`` while fitting (``alpha`` is scaled back), the
negative log-likelihood is minimised over log-parameters, and identical ``(x, t_x, T)`` rows are
fitted once with a weight.  Note the model's own property: a customer with no repeat purchase has
P(alive) = 1 (drop-out can only happen after a purchase); use expected purchases to rank them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln, hyp2f1

from billcx.segment.fitting import FitError, minimise_log_params

ArrayLike = npt.ArrayLike


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate ~ Gamma(r, alpha), drop-out probability ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class BgNbdFit:
    """A fitted BG/NBD model.

    Attributes:
        params: the estimates (``alpha`` in the caller's time unit).
        log_likelihood: total log-likelihood of the data.
        subjects: number of customers fitted.
        iterations: optimiser iterations.
    """

    params: BgNbdParams
    log_likelihood: float
    subjects: int
    iterations: int


def _arrays(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, ...]:  # noqa: N803
    x = np.asarray(frequency, dtype=np.float64)
    tx = np.asarray(recency, dtype=np.float64)
    t = np.asarray(T, dtype=np.float64)
    if not (x.shape == tx.shape == t.shape):
        raise ValueError("frequency, recency and T must have the same length")
    if x.size and (np.any(x < 0) or np.any(tx < 0) or np.any(tx > t + 1e-9) or np.any((x == 0) & (tx != 0))):
        raise ValueError("need frequency >= 0, 0 <= recency <= T, and recency 0 when frequency is 0")
    return x, tx, t


def _ll_and_grad(params: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray,
                 want_grad: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row log-likelihood and its gradient (rows x 4) in (r, alpha, a, b); inputs unchecked."""
    r, alpha, a, b = (float(v) for v in params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + t)
    repeat = x > 0
    a4 = np.where(
        repeat, np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + tx), -np.inf
    )
    tail = np.logaddexp(a3, a4)
    ll = a1 + a2 + tail
    if not want_grad:
        return ll, None
    w3 = np.exp(a3 - tail)
    w4 = np.where(repeat, np.exp(a4 - tail), 0.0)
    psi_abx = digamma(a + b + x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + t) - w4 * np.log(alpha + tx)
    d_alpha = r / alpha - w3 * (r + x) / (alpha + t) - w4 * (r + x) / (alpha + tx)
    d_a = digamma(a + b) - psi_abx + w4 / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - psi_abx - w4 / (b + np.maximum(x, 1) - 1)
    return ll, np.stack([d_r, d_alpha, d_a, d_b], axis=1)


def log_likelihood(params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike,
                   T: ArrayLike) -> np.ndarray:  # noqa: N803
    """Per-customer log-likelihood (Fader, Hardie and Lee 2005, equation 6)."""
    x, tx, t = _arrays(frequency, recency, T)
    return _ll_and_grad(np.array([params.r, params.alpha, params.a, params.b]), x, tx, t, want_grad=False)[0]


def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *,  # noqa: N803
              penalizer: float = 0.0) -> BgNbdFit:
    """Fit BG/NBD by maximum likelihood.

    Args:
        frequency: repeat purchases ``x`` per customer.
        recency: age at last purchase ``t_x``.
        T: age at the end of observation.
        penalizer: L2 penalty on the (scaled) parameters, as lifetimes' ``penalizer_coef``.

    Returns:
        A :class:`BgNbdFit`.

    Raises:
        ValueError: inconsistent inputs.
        FitError: too little signal to fit (no repeat purchase, empty data) or no convergence.
    """
    x, tx, t = _arrays(frequency, recency, T)
    if x.size == 0 or not np.any(x > 0) or float(t.max()) <= 0:
        raise FitError("BG/NBD: needs customers with repeat purchases and a positive observation period")
    scale = 1.0 / float(t.max())
    keys, weights = np.unique(np.stack([x, tx * scale, t * scale], axis=1), axis=0, return_counts=True)
    ux, utx, ut = keys[:, 0], keys[:, 1], keys[:, 2]
    w = weights.astype(np.float64)
    total_w = float(w.sum())

    def objective(p: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _ll_and_grad(p, ux, utx, ut)
        assert grad is not None
        value = -float(w @ ll) / total_w + penalizer * float((p ** 2).sum())
        return value, -(w @ grad) / total_w + 2 * penalizer * p

    best = minimise_log_params(objective, [(1.0, 1.0, 1.0, 1.0), (0.5, 0.5, 0.5, 2.0), (2.0, 0.2, 1.5, 5.0)],
                               what="BG/NBD")
    r, alpha, a, b = (float(v) for v in best.params)
    params = BgNbdParams(r, alpha / scale, a, b)
    total = float(log_likelihood(params, x, tx, t).sum())
    if not np.isfinite(total):
        raise FitError("BG/NBD: the fitted likelihood is not finite")
    return BgNbdFit(params, total, int(x.size), best.iterations)


def probability_alive(params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike,
                      T: ArrayLike) -> np.ndarray:  # noqa: N803
    """P(customer still active | x, t_x, T); 1 for customers without repeat purchases."""
    x, tx, t = _arrays(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_odds = (r + x) * np.log((alpha + t) / (alpha + tx)) + np.log(a / (b + np.maximum(x, 1) - 1))
    return np.where(x == 0, 1.0, 1.0 / (1.0 + np.exp(np.clip(log_odds, -700, 700))))


def expected_purchases(params: BgNbdParams, t: float, frequency: ArrayLike, recency: ArrayLike,
                       T: ArrayLike) -> np.ndarray:  # noqa: N803
    """Expected repeat purchases in the next ``t`` time units, given each history (equation 10)."""
    x, tx, big_t = _arrays(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if t <= 0:
        return np.zeros_like(x)
    hyp_a, hyp_b, hyp_c = r + x, b + x, a + b + x - 1
    z = t / (alpha + big_t + t)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ln_hyp = np.log(hyp2f1(hyp_a, hyp_b, hyp_c, z))
        # Euler's transformation when the series overflows.
        alt = np.log(hyp2f1(hyp_c - hyp_a, hyp_c - hyp_b, hyp_c, z)) + (hyp_c - hyp_a - hyp_b) * np.log1p(-z)
        ln_hyp = np.where(np.isfinite(ln_hyp), ln_hyp, alt)
        first = (a + b + x - 1) / (a - 1)
        second = 1 - np.exp(ln_hyp + (r + x) * np.log((alpha + big_t) / (alpha + t + big_t)))
        denominator = 1 + (x > 0) * (a / (b + np.maximum(x, 1) - 1)) * ((alpha + big_t) / (alpha + tx)) ** (
            r + x
        )
        out = first * second / denominator
    return out


def expected_purchases_new_customer(params: BgNbdParams, t: float) -> float:
    """Expected purchases in ``t`` time units of a customer just acquired (equation 9)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    return float(
        (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )


__all__ = ["BgNbdFit", "BgNbdParams", "FitError", "expected_purchases", "expected_purchases_new_customer",
           "fit_bgnbd", "log_likelihood", "probability_alive"]
