"""Shared maximum-likelihood machinery: weighted rows, log-scale parameters, L-BFGS-B with
exact gradients, convergence checks and Hessian-based standard errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.optimize import minimize

from crmkit.cores import usable_cores
from crmkit.models.exceptions import ConvergenceError

LogLik = Callable[[np.ndarray, Sequence[np.ndarray]], tuple[np.ndarray, np.ndarray]]
"""(params, data columns) -> (per-row log-likelihood (n,), per-row gradient (n, k))."""

LOG_BOUND = 18.0
"""Log-parameters are kept in [-18, 18] (about 1.5e-8 .. 6.6e7); reaching it means no optimum."""


@dataclass(frozen=True)
class MLEResult:
    """Estimates, the maximised log-likelihood and optional standard errors."""

    params: dict[str, float]
    loglik: float
    n_rows: int
    n_weight: float
    iterations: int
    standard_errors: dict[str, float] | None = None


PIECE_ROWS = 1 << 15
"""Rows per piece of the likelihood. Fixed, so the sum's order and thus the estimates do not
depend on how many threads there are."""


def weighted_loglik(
    loglik: LogLik, params: np.ndarray, data: Sequence[np.ndarray], weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Total weighted log-likelihood and its gradient in the natural parameters.

    Large data are summed in consecutive pieces of `PIECE_ROWS` rows on a thread pool: numpy
    and scipy's special functions release the GIL, so an evaluation over ~1M collapsed rows
    uses every core. Pieces of sorted data stay sorted (`unique_inverse` stays O(n))."""

    def piece(start: int) -> tuple[float, np.ndarray]:
        rows = slice(start, start + PIECE_ROWS)
        ll, grad = loglik(params, [column[rows] for column in data])
        w = weights[rows]
        # numpy sums, not BLAS products: OpenBLAS' own threads would spin against the pool's
        # (and its split of a product varies with them)
        return float(np.sum(w * ll)), np.sum(grad * w[:, None], axis=0)

    starts = range(0, len(weights), PIECE_ROWS)
    parts = list(_pool().map(piece, starts)) if len(starts) > 1 else [piece(0)]
    return float(sum(v for v, _ in parts)), np.sum([g for _, g in parts], axis=0)


@cache
def _pool() -> ThreadPoolExecutor:
    """Threads for the likelihood's pieces: one per core this process may use."""
    return ThreadPoolExecutor(max_workers=usable_cores(), thread_name_prefix="crmkit-loglik")


def fit_mle(
    loglik: LogLik,
    data: Sequence[np.ndarray],
    weights: np.ndarray,
    x0: Sequence[float],
    param_names: Sequence[str],
    model: str,
    standard_errors: bool = False,
) -> MLEResult:
    """Maximise a weighted log-likelihood over log-parameters with L-BFGS-B and exact gradients.

    Raises ConvergenceError (with the reason and what to try) when the optimiser fails, a
    parameter runs to its bound, or the likelihood is not finite at the optimum.
    """
    weights = np.asarray(weights, dtype=float)
    total = float(weights.sum())

    def objective(phi: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.exp(phi)
        with np.errstate(all="ignore"):
            value, grad = weighted_loglik(loglik, theta, data, weights)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(phi)
        return -value / total, -(grad * theta) / total

    phi0 = np.log(np.asarray(x0, dtype=float))
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(phi0)
    options = {"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20}
    res = minimize(objective, phi0, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
    # A second pass from the optimum tightens the estimate cheaply (fresh curvature memory).
    res2 = minimize(objective, res.x, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
    if res2.fun <= res.fun:
        iterations = int(res.nit + res2.nit)
        res = res2
    else:
        iterations = int(res.nit)
    _check_converged(res, param_names, model)
    theta = np.exp(res.x)
    ll = -float(res.fun) * total
    ses = None
    if standard_errors:
        ses = dict(
            zip(param_names, hessian_standard_errors(loglik, theta, data, weights), strict=True)
        )
    return MLEResult(
        params={n: float(v) for n, v in zip(param_names, theta, strict=True)},
        loglik=ll,
        n_rows=len(weights),
        n_weight=total,
        iterations=iterations,
        standard_errors=ses,
    )


def _check_converged(res: object, param_names: Sequence[str], model: str) -> None:
    """Refuse an optimum that is not one: non-finite, at a bound, or with a large gradient."""
    phi = np.asarray(res.x)  # type: ignore[attr-defined]
    fun = float(res.fun)  # type: ignore[attr-defined]
    if not np.isfinite(fun) or fun >= 1e299:
        raise ConvergenceError(
            f"{model}: the log-likelihood is not finite at the optimiser's final point",
            hint="check the summary for impossible values (recency > T, negative times)",
        )
    at_bound = [n for n, p in zip(param_names, phi, strict=True) if abs(p) >= LOG_BOUND - 1e-6]
    if at_bound:
        raise ConvergenceError(
            f"{model}: the optimiser did not converge: parameter(s) {', '.join(at_bound)} ran off "
            "to 0 or infinity, so the data do not identify the model",
            hint="use more history (an earlier --calibration-end or more data), another --unit, "
            "or another --model",
        )
    jac = np.asarray(res.jac)  # type: ignore[attr-defined]
    if not np.all(np.isfinite(jac)) or float(np.max(np.abs(jac))) > 1e-4:
        message = getattr(res, "message", "")
        raise ConvergenceError(
            f"{model}: the optimiser did not converge ({message}; largest gradient "
            f"{float(np.max(np.abs(jac))):.2g})",
            hint="use more history or more customers, or try another --model or --unit",
        )


def hessian_standard_errors(
    loglik: LogLik, theta: np.ndarray, data: Sequence[np.ndarray], weights: np.ndarray
) -> list[float]:
    """Standard errors from the inverse observed information (central differences of the
    exact gradient); NaN where the information matrix is not positive definite."""
    k = len(theta)
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        _, g_up = weighted_loglik(loglik, up, data, weights)
        _, g_down = weighted_loglik(loglik, down, data, weights)
        hess[:, j] = (g_up - g_down) / (2 * h)
    info = -(hess + hess.T) / 2
    try:
        np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return [float("nan")] * k
    cov = np.linalg.inv(info)
    return [float(np.sqrt(v)) for v in np.diag(cov)]


def unique_inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of x and the index of each element among them; O(n) when x is sorted
    (as collapsed rows are), so that per-x special functions are cheap to share."""
    if x.size and bool(np.all(x[1:] >= x[:-1])):
        starts = np.empty(x.size, dtype=bool)
        starts[0] = True
        np.not_equal(x[1:], x[:-1], out=starts[1:])
        return x[starts], np.cumsum(starts) - 1
    return np.unique(x, return_inverse=True)
