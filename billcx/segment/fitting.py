"""Maximum-likelihood fitting over log-parameters, shared by BG/NBD and Gamma-Gamma."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# exp(20) ~ 5e8: a parameter running past this has diverged (the likelihood is flat there).
_LOG_BOUND = 20.0

# Mean negative log-likelihood and its gradient with respect to the natural parameters.
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


class FitError(ValueError):
    """A model could not be fitted (the data cannot identify it or the optimiser failed)."""


@dataclass(frozen=True)
class Optimum:
    """Result of :func:`minimise_log_params`.

    Attributes:
        params: fitted parameters (natural scale).
        neg_log_likelihood: mean negative log-likelihood per weighted subject at the optimum.
        iterations: optimiser iterations over all starts.
    """

    params: np.ndarray
    neg_log_likelihood: float
    iterations: int


def minimise_log_params(objective: Objective, starts: Sequence[Sequence[float]], *, what: str) -> Optimum:
    """Minimise ``objective(exp(log_params))`` from several starts; keep the best finite optimum.

    L-BFGS-B with the analytic gradient (chain rule: d/dlog(theta) = theta * d/dtheta) runs from each
    start; only if none reaches a finite optimum, Nelder-Mead (which needs no gradient) tries again.

    Raises:
        FitError: no start reached a finite optimum within bounds.
    """
    # scipy.optimize takes about a second to import: only fitting pays for it.
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    best: tuple[float, np.ndarray] | None = None
    iterations = 0

    def on_log_scale(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        value, grad = objective(params)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros_like(log_params)
        return float(value), grad * params

    def value_only(log_params: np.ndarray) -> float:
        return on_log_scale(log_params)[0]

    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(starts[0])

    def consider(x: np.ndarray, value: float) -> None:
        nonlocal best
        if value < 1e299 and np.all(np.abs(x) < _LOG_BOUND - 1) and (best is None or value < best[0]):
            best = (value, x)

    # One BLAS thread: tiny problems run ~10x faster without thread hand-offs, and sums stay
    # in one order (the same result on every run).
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", RuntimeWarning)
        for start in starts:
            res = minimize(
                on_log_scale,
                np.log(np.asarray(start, dtype=np.float64)),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
            )
            iterations += int(res.nit)
            consider(res.x, float(res.fun))
        if best is None:
            for start in starts:
                res = minimize(value_only, np.log(np.asarray(start, dtype=np.float64)), method="Nelder-Mead",
                               options={"maxiter": 4000, "xatol": 1e-10, "fatol": 1e-13})
                iterations += int(res.nit)
                consider(res.x, float(res.fun))
    if best is None:
        raise FitError(f"{what}: the optimiser found no finite maximum of the likelihood "
                       "(parameters diverge; the data cannot identify the model)")
    return Optimum(np.exp(best[1]), best[0], iterations)
