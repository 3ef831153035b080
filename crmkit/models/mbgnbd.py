"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a customer may also drop out
right after the first purchase, so one-time buyers are not assumed alive."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import digamma, expit, gammaln

from crmkit.models import bgnbd
from crmkit.models.fitting import unique_inverse
from crmkit.models.hypergeo import scaled_hyp2f1

NAME = "mbgnbd"
PARAM_NAMES: tuple[str, ...] = ("r", "alpha", "a", "b")


def loglik(params: np.ndarray, data: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood of (x, t_x, T) and its exact gradient wrt (r, alpha, a, b)."""
    r, alpha, a, b = (float(p) for p in params)
    x, tx, T = data
    # terms that depend on x only are computed once per distinct x (few) and broadcast
    xu, inv = unique_inverse(x)
    common = (
        gammaln(r + xu)
        - gammaln(r)
        + gammaln(a + b)
        + gammaln(b + xu + 1.0)
        - gammaln(b)
        - gammaln(a + b + xu + 1.0)
    )[inv]
    psi_rx = digamma(r + xu)[inv]
    psi_end = digamma(a + b + xu + 1.0)[inv]
    psi_bx = digamma(b + xu + 1.0)[inv]
    log_at = np.log(alpha + T)
    log_atx = np.log(alpha + tx)
    t1 = -(r + x) * log_at
    t2 = np.log(a) - np.log(b + x) - (r + x) * log_atx
    mix = np.logaddexp(t1, t2)
    w1 = np.exp(t1 - mix)
    w2 = np.exp(t2 - mix)
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = psi_rx - digamma(r) + np.log(alpha) - w1 * log_at - w2 * log_atx
    grad[:, 1] = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + tx))
    grad[:, 2] = digamma(a + b) - psi_end + w2 / a
    grad[:, 3] = digamma(a + b) + psi_bx - digamma(b) - psi_end - w2 / (b + x)
    return common + r * np.log(alpha) + mix, grad


def p_alive(params: dict[str, float], x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active at T | x, t_x, T); below 1 even for one-time buyers."""
    r, alpha, a, b = (params[n] for n in PARAM_NAMES)
    log_odds = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    return expit(-log_odds)


def expected_if_alive(
    params: dict[str, float], x: np.ndarray, T: np.ndarray, t: float | np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + t] for a customer alive at T; depends on (x, T) only."""
    r, alpha, a, b = (params[n] for n in PARAM_NAMES)
    z = t / (alpha + T + t)
    tail = scaled_hyp2f1(r + x, b + x + 1.0, a + b + x, z)  # (1-z)^(r+x) 2F1(r+x, b+x+1; …)
    return (a + b + x) / (a - 1.0) * (1.0 - tail)


def expected_purchases(
    params: dict[str, float],
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    t: float | np.ndarray,
) -> np.ndarray:
    """Expected repeat purchases in (T, T + t] given (x, t_x, T) (Batislam et al. 2007)."""
    return expected_if_alive(params, x, T, t) * p_alive(params, x, tx, T)


initial = bgnbd.initial
