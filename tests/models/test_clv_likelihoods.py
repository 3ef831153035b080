"""Likelihoods against independent evaluations (numerical integration of the individual-level
model over the mixing distributions, and the published closed forms), gradients against central
finite differences, and stability on extreme inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import gammaln, hyp2f1

from crmkit.models import bgnbd, gammagamma, mbgnbd, paretonbd

ROWS = [(0.0, 0.0, 10.0), (1.0, 2.5, 10.0), (3.0, 9.0, 12.0), (6.0, 20.0, 20.0)]


def _one(module, params, row):
    x, tx, T = (np.array([v]) for v in row)
    ll, _ = module.loglik(np.asarray(params, dtype=float), (x, tx, T))
    return float(ll[0])


@pytest.mark.parametrize("modified", [False, True])
@pytest.mark.parametrize("row", ROWS)
def test_bg_likelihood_matches_numerical_integration(row, modified: bool) -> None:
    """Individual likelihood integrated over lambda in closed form (a gamma integral) and over
    the drop-out probability p numerically."""
    r, alpha, a, b = 0.9, 3.0, 1.4, 2.5
    x, tx, T = row

    def g(t: float) -> float:
        return np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + t))

    def integrand(p: float) -> float:
        if modified:
            ind = (1 - p) ** (x + 1) * g(T) + p * (1 - p) ** x * g(tx)
        else:
            ind = (1 - p) ** x * g(T) + (p * (1 - p) ** (x - 1) * g(tx) if x > 0 else 0.0)
        return ind * stats.beta.pdf(p, a, b)

    value, _ = integrate.quad(integrand, 0, 1, epsabs=0, epsrel=1e-12, limit=200)
    module = mbgnbd if modified else bgnbd
    assert _one(module, [r, alpha, a, b], row) == pytest.approx(np.log(value), abs=1e-9)


def _pareto_published(r, alpha, s, beta, x, tx, T) -> float:
    """Fader & Hardie (2005) closed form with Gauss hypergeometric functions."""
    rsx = r + s + x
    if alpha >= beta:
        second = s + 1

        def term(t):
            return hyp2f1(rsx, second, rsx + 1, (alpha - beta) / (alpha + t)) / (alpha + t) ** rsx
    else:
        second = r + x

        def term(t):
            return hyp2f1(rsx, second, rsx + 1, (beta - alpha) / (beta + t)) / (beta + t) ** rsx

    a0 = term(tx) - term(T)
    log_front = gammaln(r + x) + r * np.log(alpha) + s * np.log(beta) - gammaln(r)
    return log_front + np.log(1 / ((alpha + T) ** (r + x) * (beta + T) ** s) + s / rsx * a0)


@pytest.mark.parametrize("params", [(0.55, 10.6, 0.61, 11.7), (1.2, 4.0, 2.0, 30.0)])
@pytest.mark.parametrize("row", ROWS)
def test_pareto_likelihood_matches_published_closed_form(params, row) -> None:
    expected = _pareto_published(*params, *row)
    assert _one(paretonbd, params, row) == pytest.approx(expected, abs=1e-7)


def test_gamma_gamma_density_matches_numerical_integration() -> None:
    p, q, g = 6.0, 3.5, 15.0
    for x, m in [(1.0, 20.0), (4.0, 35.5), (12.0, 8.0)]:
        # mean of x gamma(p, nu) spends is gamma(p x, rate x nu); nu ~ gamma(q, rate g)
        def integrand(nu: float, x: float = x, m: float = m) -> float:
            return stats.gamma.pdf(m, p * x, scale=1 / (x * nu)) * stats.gamma.pdf(
                nu, q, scale=1 / g
            )

        value, _ = integrate.quad(integrand, 0, np.inf, epsabs=0, epsrel=1e-11, limit=200)
        ll, _ = gammagamma.loglik(np.array([p, q, g]), (np.array([x]), np.array([m])))
        assert ll[0] == pytest.approx(np.log(value), abs=1e-7)


GRAD_DATA = (
    np.array([0.0, 1.0, 2.0, 5.0, 0.0, 30.0, 1000.0]),
    np.array([0.0, 3.0, 8.0, 12.0, 0.0, 35.0, 38.9]),
    np.array([39.0, 30.0, 20.0, 12.0, 0.5, 38.0, 39.0]),
)


def _central(module, params, data):
    """Central finite differences of the summed log-likelihood, relative step 1e-6."""
    out = np.empty(len(params))
    for j, v in enumerate(params):
        h = 1e-6 * v
        up, down = np.array(params, float), np.array(params, float)
        up[j] += h
        down[j] -= h
        out[j] = (module.loglik(up, data)[0].sum() - module.loglik(down, data)[0].sum()) / (2 * h)
    return out


@pytest.mark.parametrize(
    ("module", "params"),
    [
        (bgnbd, [0.243, 4.414, 0.793, 2.426]),
        (bgnbd, [2.5, 0.7, 3.0, 0.4]),
        (mbgnbd, [0.52, 6.18, 0.89, 1.61]),
        (mbgnbd, [1.5, 20.0, 2.0, 8.0]),
        (paretonbd, [0.553, 10.58, 0.606, 11.67]),
        (paretonbd, [2.0, 0.5, 0.3, 40.0]),
        (paretonbd, [0.3, 60.0, 3.0, 1.5]),
    ],
)
def test_gradients_match_finite_differences(module, params) -> None:
    _, grad = module.loglik(np.asarray(params, float), GRAD_DATA)
    numeric = _central(module, params, GRAD_DATA)
    np.testing.assert_allclose(grad.sum(axis=0), numeric, rtol=2e-5, atol=1e-5)


def test_gamma_gamma_gradient_matches_finite_differences() -> None:
    data = (np.array([1.0, 2.0, 7.0, 40.0]), np.array([12.0, 30.5, 8.25, 100.0]))
    params = [6.25, 3.74, 15.44]
    _, grad = gammagamma.loglik(np.asarray(params), data)
    np.testing.assert_allclose(grad.sum(axis=0), _central(gammagamma, params, data), rtol=1e-6)


@pytest.mark.parametrize("module", [bgnbd, mbgnbd, paretonbd])
def test_heavy_buyers_and_long_histories_do_not_overflow(module) -> None:
    # 1,000 and 100,000 repeat purchases over histories up to 100,000 days
    x = np.array([1000.0, 1000.0, 1e5, 0.0])
    tx = np.array([999.0, 50.0, 99_999.0, 0.0])
    T = np.array([1000.0, 5000.0, 100_000.0, 100_000.0])
    for params in ([0.243, 4.414, 0.793, 2.426], [5.0, 0.01, 0.1, 50.0], [0.01, 500.0, 5.0, 0.2]):
        ll, grad = module.loglik(np.asarray(params), (x, tx, T))
        assert np.all(np.isfinite(ll)), params
        assert np.all(np.isfinite(grad)), params
        p = module.p_alive(dict(zip(module.PARAM_NAMES, params, strict=True)), x, tx, T)
        assert np.all((p >= 0) & (p <= 1))


@pytest.mark.parametrize(
    ("params", "row"),
    [
        ((0.553, 10.58, 0.606, 11.67), (0.0, 0.0, 38.86)),
        ((0.553, 10.58, 0.606, 11.67), (1000.0, 10.0, 38.86)),
        ((2.0, 0.05, 0.3, 400.0), (3.0, 1.0, 300.0)),
        ((0.2, 300.0, 4.0, 0.5), (12.0, 50.0, 900.0)),
        ((1.3, 20.0, 1.0, 20.0), (5.0, 0.5, 5000.0)),
    ],
)
def test_pareto_quadrature_matches_adaptive_integration(params, row) -> None:
    """The integral over the unobserved drop-out time, against scipy's adaptive quadrature in
    the variable y = log(alpha + tau) (where the integrand is smooth and unimodal)."""
    r, alpha, s, beta = params
    x, tx, T = row
    p, q = r + x, s + 1.0
    shift = (p - 1) * np.log(alpha + tx) + q * np.log(beta + tx)

    def integrand(y: float) -> float:
        return np.exp(-(p - 1) * y - q * np.log(beta - alpha + np.exp(y)) + shift)

    value, _ = integrate.quad(
        integrand, np.log(alpha + tx), np.log(alpha + T), epsabs=0, epsrel=1e-13, limit=1000
    )
    log_i, _ = paretonbd._log_integral(r, alpha, s, beta, *(np.array([v]) for v in row))
    assert log_i[0] == pytest.approx(np.log(value) - shift, abs=2e-5)


def test_weighted_likelihood_in_pieces_equals_the_whole() -> None:
    from crmkit.models import fitting

    rng = np.random.default_rng(11)
    n = 3 * fitting.PIECE_ROWS + 17  # four pieces, the last one short
    x = np.sort(rng.integers(0, 12, n)).astype(float)
    T = rng.uniform(5.0, 80.0, n)
    tx = np.where(x > 0, T * rng.uniform(0.0, 1.0, n), 0.0)
    w = rng.integers(1, 5, n).astype(float)
    params = np.array([0.6, 4.0, 0.9, 2.5])
    ll, grad = bgnbd.loglik(params, (x, tx, T))
    value, gradient = fitting.weighted_loglik(bgnbd.loglik, params, (x, tx, T), w)
    assert value == pytest.approx(float(np.sum(w * ll)), rel=1e-12)
    assert gradient == pytest.approx(np.sum(grad * w[:, None], axis=0), rel=1e-10)
    again = fitting.weighted_loglik(bgnbd.loglik, params, (x, tx, T), w)
    assert again[0] == value and (again[1] == gradient).all()  # same pieces, same sums
