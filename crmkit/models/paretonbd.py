"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987): Poisson purchasing with gamma(r, alpha)
rates and exponential lifetimes with gamma(s, beta) death rates.

The likelihood's hard part is the integral over the unobserved death time between t_x and T,
    I = int_{t_x}^{T} (alpha + tau)^-(r+x) (beta + tau)^-(s+1) dtau.
Instead of differences of 2F1 terms (which cancel catastrophically), I is computed after the
substitution v = (1 + (tau - t_x)/C)^-K, where C and K are chosen per row so that the density
(C + tau - t_x)^-(K+1) has the integrand's slope at t_x and its total drop to T; what remains
is smooth and is integrated by Gauss-Legendre quadrature in log space. The gradient is the same
quadrature of the exact derivative under the integral sign (limits do not depend on parameters).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import digamma, gammaln, logsumexp

NAME = "pareto"
PARAM_NAMES: tuple[str, ...] = ("r", "alpha", "s", "beta")
N_NODES = 24
_CHUNK = 65_536

_u, _w = np.polynomial.legendre.leggauss(N_NODES)
NODES = (_u + 1.0) / 2.0
LOG_WEIGHTS = np.log(_w / 2.0)


def _anchor(
    a0: np.ndarray, b0: np.ndarray, p: np.ndarray, q: float, span: np.ndarray
) -> np.ndarray:
    """Anchor C of the substitution density (C + sigma)^-(K+1), K + 1 = phi'(0) C, chosen so
    that its log-drop over [0, span] equals the integrand's (bisection on log C)."""
    slope = p / a0 + q / b0
    drop = p * np.log1p(span / a0) + q * np.log1p(span / b0)
    scale = span + np.minimum(a0, b0)
    lo = np.log(scale) - 25.0
    hi = np.log(scale) + 25.0
    for _ in range(36):
        mid = (lo + hi) / 2.0
        c = np.exp(mid)
        too_steep = c * slope * np.log1p(span / c) > drop
        hi = np.where(too_steep, mid, hi)
        lo = np.where(too_steep, lo, mid)
    return np.exp((lo + hi) / 2.0)


def _panel(
    a0: np.ndarray, b0: np.ndarray, p: np.ndarray, q: float, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """log of the integral over tau - t_x in [lo, hi] and its gradient (-inf, 0 where empty)."""
    a1 = a0 + lo
    b1 = b0 + lo
    span = hi - lo
    empty = span <= 0.0
    span = np.where(empty, 1.0, span)
    big_c = _anchor(a1, b1, p, q, span)
    k = np.maximum((p / a1 + q / b1) * big_c - 1.0, 1e-6)
    one_minus_vt = -np.expm1(-k * np.log1p(span / big_c))
    log_v = np.log1p(-one_minus_vt[:, None] * (1.0 - NODES[None, :]))
    stretch = -log_v / k[:, None]
    sigma = big_c[:, None] * np.expm1(stretch)
    a_tau = a1[:, None] + sigma
    b_tau = b1[:, None] + sigma
    log_a, log_b = np.log(a_tau), np.log(b_tau)
    log_g = -p[:, None] * log_a - q * log_b + (k[:, None] + 1.0) * stretch + LOG_WEIGHTS[None, :]
    lse = logsumexp(log_g, axis=1)
    pi = np.exp(log_g - lse[:, None])
    log_i = np.log(big_c) + np.log(one_minus_vt) - np.log(k) + lse
    grad = np.empty((p.shape[0], 4))
    grad[:, 0] = -(pi * log_a).sum(axis=1)
    grad[:, 1] = -p * (pi / a_tau).sum(axis=1)
    grad[:, 2] = -(pi * log_b).sum(axis=1)
    grad[:, 3] = -q * (pi / b_tau).sum(axis=1)
    grad[empty] = 0.0
    return np.where(empty, -np.inf, log_i), grad


def _log_integral(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """log I per row (-inf where t_x == T) and d log I / d(r, alpha, s, beta), shape (n, 4).

    The range is cut at the two knees of the integrand (tau - t_x = alpha + t_x and
    beta + t_x) so that each panel has at most one change of slope."""
    p = r + x
    q = s + 1.0
    a0 = alpha + tx
    b0 = beta + tx
    span = np.maximum(T - tx, 0.0)
    cut1 = np.minimum(np.minimum(a0, b0), span)
    cut2 = np.minimum(np.maximum(a0, b0), span)
    zero = np.zeros_like(span)
    parts = []
    for lo, hi in ((zero, cut1), (cut1, cut2), (cut2, span)):
        log_p = np.full(p.shape[0], -np.inf)
        grad_p = np.zeros((p.shape[0], 4))
        rows = np.nonzero(hi > lo)[0]  # only rows whose panel is not empty
        if rows.size:
            log_p[rows], grad_p[rows] = _panel(a0[rows], b0[rows], p[rows], q, lo[rows], hi[rows])
        parts.append((log_p, grad_p))
    logs = np.stack([lp for lp, _ in parts])
    total = logsumexp(logs, axis=0)
    finite = np.isfinite(total)
    safe_total = np.where(finite, total, 0.0)
    grad = np.zeros((p.shape[0], 4))
    for lp, gp in parts:
        grad += np.where(finite, np.exp(lp - safe_total), 0.0)[:, None] * gp
    return total, grad


def _parts(
    params: Sequence[float], x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(alive term, log s + log I, and their gradients), chunked to bound memory."""
    r, alpha, s, beta = (float(v) for v in params)
    n = x.shape[0]
    log_i = np.empty(n)
    grad_i = np.empty((n, 4))
    for start in range(0, n, _CHUNK):
        sl = slice(start, start + _CHUNK)
        log_i[sl], grad_i[sl] = _log_integral(r, alpha, s, beta, x[sl], tx[sl], T[sl])
    t1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    g1 = np.zeros((n, 4))
    g1[:, 0] = -np.log(alpha + T)
    g1[:, 1] = -(r + x) / (alpha + T)
    g1[:, 2] = -np.log(beta + T)
    g1[:, 3] = -s / (beta + T)
    t2 = np.log(s) + log_i
    grad_i[:, 2] += 1.0 / s
    return t1, t2, g1, grad_i


def loglik(params: np.ndarray, data: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood of (x, t_x, T) and its gradient wrt (r, alpha, s, beta)."""
    r, alpha, s, beta = (float(v) for v in params)
    x, tx, T = data
    t1, t2, g1, g2 = _parts(params, x, tx, T)
    mix = np.logaddexp(t1, t2)
    w1 = np.exp(t1 - mix)[:, None]
    w2 = np.exp(t2 - mix)[:, None]
    grad = w1 * g1 + w2 * g2
    grad[:, 0] += digamma(r + x) - digamma(r) + np.log(alpha)
    grad[:, 1] += r / alpha
    grad[:, 2] += np.log(beta)
    grad[:, 3] += s / beta
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return common + mix, grad


def p_alive(params: dict[str, float], x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active at T | x, t_x, T)."""
    t1, t2, _, _ = _parts([params[n] for n in PARAM_NAMES], x, tx, T)
    return np.exp(t1 - np.logaddexp(t1, t2))


def expected_if_alive(
    params: dict[str, float], x: np.ndarray, T: np.ndarray, t: float | np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + t] for a customer alive at T; depends on (x, T) only."""
    r, alpha, s, beta = (params[n] for n in PARAM_NAMES)
    span = np.log1p(t / (beta + T))
    shape = span if abs(s - 1.0) < 1e-10 else -np.expm1(-(s - 1.0) * span) / (s - 1.0)
    return (r + x) * (beta + T) / (alpha + T) * shape


def expected_purchases(
    params: dict[str, float],
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    t: float | np.ndarray,
) -> np.ndarray:
    """Expected purchases in (T, T + t] given (x, t_x, T) (Schmittlein et al. 1987)."""
    return expected_if_alive(params, x, T, t) * p_alive(params, x, tx, T)


def initial(x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray) -> list[float]:
    """Starting values: unit shapes, scales on the order of the observation windows."""
    mean_T = float(np.average(T, weights=w)) if float(w.sum()) > 0 else 1.0
    return [1.0, max(mean_T, 1e-3), 1.0, max(mean_T, 1e-3)]
