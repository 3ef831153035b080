"""`(1-z)^p · 2F1(p, q; c; z)`, the tail term of the BG/NBD and MBG/NBD expectations, robustly.

scipy's `hyp2f1` overflows in either of its two equivalent forms, depending on the parameters:

* Euler's form `(1-z)^(c-q) 2F1(c-p, c-q; c; z)` keeps the terms bounded for ordinary fits, but
  a fit where a and b are both huge (a nearly homogeneous drop-out probability; a = 86,000,
  b = 9.3 million on a synthetic shop) makes its parameters huge and it returns inf;
* the direct form `2F1(p, q; c; z)` copes with that but overflows for heavy buyers (p = r + x in
  the thousands), where the (1-z)^p factor would have brought it back to a moderate value.

`scaled_hyp2f1` uses Euler's form, the direct form (in logs) where that is not finite, and
finally sums the series in log space, so every customer gets a finite value whenever the
parameters allow one (p, q, c > 0, 0 ≤ z < 1).
"""

from __future__ import annotations

import numpy as np
from scipy.special import hyp2f1

_MAX_TERMS = 200_000


def scaled_hyp2f1(p: np.ndarray, q: np.ndarray | float, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """`(1-z)^p · 2F1(p, q; c; z)` element-wise (arrays broadcast together)."""
    p, q, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (p, q, c, z)))
    with np.errstate(all="ignore"):
        out = np.exp((c - q) * np.log1p(-z)) * hyp2f1(c - p, c - q, c, z)
        bad = ~np.isfinite(out)
        if bad.any():
            direct = np.exp(
                p[bad] * np.log1p(-z[bad]) + np.log(hyp2f1(p[bad], q[bad], c[bad], z[bad]))
            )
            out[bad] = direct
            bad = ~np.isfinite(out)
        if bad.any():
            out[bad] = np.exp(
                p[bad] * np.log1p(-z[bad]) + _log_series(p[bad], q[bad], c[bad], z[bad])
            )
    return out


def _ratio(p: np.ndarray, q: np.ndarray, c: np.ndarray, z: np.ndarray, k: int) -> np.ndarray:
    """term[k+1] / term[k] of the 2F1 series."""
    return (p + k) * (q + k) * z / ((c + k) * (k + 1.0))


def _log_series(p: np.ndarray, q: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """log 2F1(p, q; c; z) by summing its (positive) terms in log space; nan where it cannot."""
    ok = (p > 0) & (q > 0) & (c > 0) & (z >= 0) & (z < 1)
    log_sum = np.where(ok, 0.0, np.nan)  # the k = 0 term is 1
    log_term = np.zeros_like(p)
    active = ok.copy()
    log_z = np.log(np.where(ok, z, 0.5))
    for k in range(_MAX_TERMS):
        if not active.any():
            break
        i = np.flatnonzero(active)
        log_term[i] += np.log(p[i] + k) + np.log(q[i] + k) + log_z[i] - np.log(c[i] + k)
        log_term[i] -= np.log(k + 1.0)
        log_sum[i] = np.logaddexp(log_sum[i], log_term[i])
        # Stop when the terms are negligible and shrinking ever faster: ratio below 1 and falling.
        ratio = _ratio(p[i], q[i], c[i], z[i], k + 1)
        falling = _ratio(p[i], q[i], c[i], z[i], k + 2) <= ratio
        active[i] = ~((ratio < 1.0) & falling & (log_term[i] < log_sum[i] - 40.0))
    log_sum[active] = np.nan  # did not converge within _MAX_TERMS
    return log_sum
