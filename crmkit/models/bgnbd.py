"""BG/NBD (Fader, Hardie & Lee 2005): Poisson purchasing while alive, a coin flip after each
repeat purchase decides drop-out; gamma(r, alpha) and beta(a, b) heterogeneity.

The log-likelihood is written as log-sum-exp of its two terms so that heavy buyers and long
histories never overflow; expectations use `hypergeo.scaled_hyp2f1` (finite for any fit).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln

from crmkit.models.fitting import unique_inverse
from crmkit.models.hypergeo import scaled_hyp2f1

NAME = "bgnbd"
PARAM_NAMES: tuple[str, ...] = ("r", "alpha", "a", "b")


def loglik(params: np.ndarray, data: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood of (x, t_x, T) and its exact gradient wrt (r, alpha, a, b)."""
    r, alpha, a, b = (float(p) for p in params)
    x, tx, T = data
    # terms that depend on x only are computed once per distinct x (few) and broadcast
    xu, inv = unique_inverse(x)
    common = (gammaln(r + xu) - gammaln(r) + betaln(a, b + xu) - betaln(a, b))[inv]
    psi_rx = digamma(r + xu)[inv]
    psi_abx = digamma(a + b + xu)[inv]
    psi_bx = digamma(b + xu)[inv]
    has = x > 0
    bx1 = np.where(has, b + x - 1.0, 1.0)
    log_at = np.log(alpha + T)
    log_atx = np.log(alpha + tx)
    t1 = -(r + x) * log_at
    t2 = np.where(has, np.log(a) - np.log(bx1) - (r + x) * log_atx, -np.inf)
    mix = np.logaddexp(t1, t2)
    w1 = np.exp(t1 - mix)
    w2 = np.exp(t2 - mix)
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = psi_rx - digamma(r) + np.log(alpha) - w1 * log_at - w2 * log_atx
    grad[:, 1] = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + tx))
    grad[:, 2] = digamma(a + b) - psi_abx + w2 / a
    grad[:, 3] = psi_bx - psi_abx - digamma(b) + digamma(a + b) - w2 / bx1
    return common + r * np.log(alpha) + mix, grad


def p_alive(params: dict[str, float], x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active at T | x, t_x, T); 1 for customers without repeat purchases."""
    r, alpha, a, b = (params[n] for n in PARAM_NAMES)
    has = x > 0
    bx1 = np.where(has, b + x - 1.0, 1.0)
    log_odds = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    return np.where(has, expit(-log_odds), 1.0)


def expected_if_alive(
    params: dict[str, float], x: np.ndarray, T: np.ndarray, t: float | np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + t] for a customer alive at T; depends on (x, T) only."""
    r, alpha, a, b = (params[n] for n in PARAM_NAMES)
    z = t / (alpha + T + t)
    tail = scaled_hyp2f1(r + x, b + x, a + b + x - 1.0, z)  # (1-z)^(r+x) 2F1(r+x, b+x; …)
    return (a + b + x - 1.0) / (a - 1.0) * (1.0 - tail)


def expected_purchases(
    params: dict[str, float],
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    t: float | np.ndarray,
) -> np.ndarray:
    """Expected repeat purchases in (T, T + t] given (x, t_x, T) (FHL 2005 eq. 10)."""
    return expected_if_alive(params, x, T, t) * p_alive(params, x, tx, T)


def initial(x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray) -> list[float]:
    """Starting values: unit shapes and alpha on the scale of the observation windows."""
    mean_T = float(np.average(T, weights=w)) if float(w.sum()) > 0 else 1.0
    return [1.0, max(mean_T, 1e-3), 1.0, 1.0]
