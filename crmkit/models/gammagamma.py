"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): each purchase's spend is
gamma(p, nu) with nu ~ gamma(q, gamma) across customers, independent of purchase frequency.
Fitted on repeat buyers' (x, mean repeat spend)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import digamma, gammaln

from crmkit.models.fitting import unique_inverse

NAME = "gamma-gamma"
PARAM_NAMES: tuple[str, ...] = ("p", "q", "gamma")


def loglik(params: np.ndarray, data: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-density of mean spend m given x repeat purchases, with exact gradient."""
    p, q, g = (float(v) for v in params)
    x, m = data
    # gamma-function terms depend on x only: once per distinct x, then broadcast
    xu, inv = unique_inverse(x)
    lg = (gammaln(p * xu + q) - gammaln(p * xu))[inv]
    psi = digamma(p * xu + q)[inv]
    psi_px = digamma(p * xu)[inv]
    px = p * x
    log_m = np.log(m)
    log_x = np.log(x)
    log_den = np.log(g + m * x)
    ll = lg - gammaln(q) + q * np.log(g) + (px - 1.0) * log_m + px * log_x - (px + q) * log_den
    grad = np.empty((x.shape[0], 3))
    grad[:, 0] = x * (psi - psi_px + log_m + log_x - log_den)
    grad[:, 1] = psi - digamma(q) + np.log(g) - log_den
    grad[:, 2] = q / g - (px + q) / (g + m * x)
    return ll, grad


def expected_spend(params: dict[str, float], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[spend per purchase | x, m]: a weighted mean of the population mean p*gamma/(q-1) and
    the customer's own mean; customers without (positive) repeat spend get the population mean."""
    p, q, g = (params[n] for n in PARAM_NAMES)
    own = (x > 0) & (m > 0)
    xs = np.where(own, x, 0.0)
    ms = np.where(own, m, 0.0)
    return p * (g + xs * ms) / (p * xs + q - 1.0)


def population_mean(params: dict[str, float]) -> float:
    """Mean spend per purchase across customers (finite only when q > 1)."""
    p, q, g = (params[n] for n in PARAM_NAMES)
    return p * g / (q - 1.0) if q > 1.0 else float("inf")


def initial(x: np.ndarray, m: np.ndarray, w: np.ndarray) -> list[float]:
    """Starting values by moments: p ~ 1, q ~ 2, gamma so that the population mean matches."""
    mean_m = float(np.average(m, weights=w)) if float(w.sum()) > 0 else 1.0
    return [1.0, 2.0, max(mean_m, 1e-6)]
