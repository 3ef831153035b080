"""`scaled_hyp2f1` against mpmath at 30 digits, including where scipy overflows in both forms."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from crmkit.models import bgnbd
from crmkit.models.hypergeo import scaled_hyp2f1

mpmath.mp.dps = 30


def _exact(p: float, q: float, c: float, z: float) -> float:
    return float((1 - mpmath.mpf(z)) ** p * mpmath.hyp2f1(p, q, c, z))


# (r, a, b) of a nearly homogeneous drop-out fit (a, b huge: Euler's form overflows), of the
# CDNOW fit (ordinary) and of a fit with a small a; x up to 3,000 repeat purchases (the direct
# form overflows there).
FITS = [(1.8154, 86462.55, 9266908.07), (0.24259, 0.79292, 2.4259), (2.0, 1.2, 40.0)]


@pytest.mark.parametrize(("r", "a", "b"), FITS)
@pytest.mark.parametrize("x", [0.0, 1.0, 20.0, 300.0, 3000.0])
@pytest.mark.parametrize("z", [0.05, 0.33, 0.5])  # mpmath itself stalls at x=3000, z≥0.6
def test_matches_mpmath(r: float, a: float, b: float, x: float, z: float) -> None:
    p, q, c = r + x, b + x, a + b + x - 1.0
    got = scaled_hyp2f1(np.array([p]), q, np.array([c]), np.array([z]))[0]
    assert got == pytest.approx(_exact(p, q, c, z), rel=1e-9)


def test_series_fallback_alone_matches_mpmath() -> None:
    from crmkit.models.hypergeo import _log_series

    p, q, c, z = np.array([3001.8]), np.array([9269908.0]), np.array([9356369.6]), np.array([0.4])
    got = float(np.exp(p * np.log1p(-z) + _log_series(p, q, c, z))[0])
    assert got == pytest.approx(_exact(3001.8, 9269908.0, 9356369.6, 0.4), rel=1e-9)


def test_bgnbd_expectation_is_finite_for_a_homogeneous_dropout_fit() -> None:
    # Parameters fitted on bench/bench_run.py's shop; scipy's Euler form gave inf for all of them.
    params = {"r": 1.8154, "alpha": 4.1389, "a": 86462.55, "b": 9266908.07}
    x = np.array([0.0, 20.0, 50.0, 300.0])
    T = np.array([50.0, 71.86, 85.57, 100.0])
    e = bgnbd.expected_if_alive(params, x, T, 52.0)
    assert np.all(np.isfinite(e))
    # Against the FHL formula evaluated with mpmath.
    r, alpha, a, b = params.values()
    for xi, Ti, ei in zip(x, T, e, strict=True):
        z = 52.0 / (alpha + Ti + 52.0)
        tail = _exact(r + xi, b + xi, a + b + xi - 1.0, z)
        assert ei == pytest.approx((a + b + xi - 1.0) / (a - 1.0) * (1.0 - tail), rel=1e-9)
