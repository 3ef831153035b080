"""Predictions against independent evaluations: posterior integrals of the individual-level
models (the gamma part in closed form, the rest by numerical integration), the published
formulas in their original (untransformed) form, and CLV discounting worked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import integrate, stats
from scipy.special import gammaln, hyp2f1

from crmkit.models import bgnbd, gammagamma, mbgnbd, paretonbd, predict
from crmkit.models.estimate import ClvFit, ModelFit
from crmkit.models.summary import Summary
from crmkit.models.units import DAYS_PER_MONTH

BG = {"r": 0.9, "alpha": 3.0, "a": 1.4, "b": 2.5}
CASES = [(0.0, 0.0, 10.0, 5.0), (3.0, 9.0, 12.0, 8.0), (2.0, 2.0, 30.0, 52.0)]


def _log_g(r: float, alpha: float, x: float, T: np.ndarray | float) -> np.ndarray | float:
    """log E[lambda^x exp(-lambda T)] for lambda ~ gamma(r, rate alpha)."""
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + T)


def _bg_posterior(params, x, tx, T, t, modified):
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    shift = 1.0 if modified else 0.0

    def alive(p):
        return (1 - p) ** (x + shift) * np.exp(_log_g(r, alpha, x, T)) * stats.beta.pdf(p, a, b)

    def dead(p):
        if x == 0 and not modified:
            return 0.0
        power = x if modified else x - 1
        return p * (1 - p) ** power * np.exp(_log_g(r, alpha, x, tx)) * stats.beta.pdf(p, a, b)

    def future(p):
        # E[Y(t) | lambda, p, alive] = (1 - exp(-lambda p t)) / p, integrated over lambda
        g_now = np.exp(_log_g(r, alpha, x, T))
        g_later = np.exp(_log_g(r, alpha, x, T + p * t))
        return (1 - p) ** (x + shift) * (g_now - g_later) / p * stats.beta.pdf(p, a, b)

    opts = {"epsabs": 0, "epsrel": 1e-10, "limit": 200}
    num_alive = integrate.quad(alive, 0, 1, **opts)[0]
    total = num_alive + integrate.quad(dead, 0, 1, **opts)[0]
    return num_alive / total, integrate.quad(future, 0, 1, **opts)[0] / total


@pytest.mark.parametrize("modified", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_bg_predictions_match_posterior_integrals(case, modified: bool) -> None:
    x, tx, T, t = case
    module = mbgnbd if modified else bgnbd
    args = (np.array([x]), np.array([tx]), np.array([T]))
    p_alive, expected = _bg_posterior(BG, x, tx, T, t, modified)
    assert module.p_alive(BG, *args)[0] == pytest.approx(p_alive, rel=1e-8)
    assert module.expected_purchases(BG, *args, t)[0] == pytest.approx(expected, rel=1e-7)


def _fhl_eq10(params, x, tx, T, t):
    """FHL (2005) eq. 10 exactly as published (no Euler transformation)."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    den = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
    return num / den


def test_bgnbd_expectation_matches_published_formula_on_cdnow_estimates() -> None:
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for x, tx, T in [(0, 0, 38.86), (2, 30.43, 38.86), (7, 35.0, 38.0), (20, 37.0, 38.5)]:
        got = bgnbd.expected_purchases(
            params, np.array([float(x)]), np.array([tx]), np.array([T]), 39.0
        )[0]
        assert got == pytest.approx(_fhl_eq10(params, x, tx, T, 39.0), rel=1e-9)


def _pareto_closed_likelihood(r, alpha, s, beta, x, tx, T):
    rsx = r + s + x
    if alpha >= beta:

        def term(u):
            return hyp2f1(rsx, s + 1, rsx + 1, (alpha - beta) / (alpha + u)) / (alpha + u) ** rsx
    else:

        def term(u):
            return hyp2f1(rsx, r + x, rsx + 1, (beta - alpha) / (beta + u)) / (beta + u) ** rsx

    front = np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta))
    alive = front / ((alpha + T) ** (r + x) * (beta + T) ** s)
    return alive, alive + front * s / rsx * (term(tx) - term(T))


@pytest.mark.parametrize("case", CASES)
def test_pareto_predictions_match_posterior_integrals(case) -> None:
    params = {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}
    r, alpha, s, beta = params.values()
    x, tx, T, t = case
    alive, total = _pareto_closed_likelihood(r, alpha, s, beta, x, tx, T)
    # alive part of E[Y(t)]: E[lambda^(x+1) e^(-lambda T)] * E[e^(-mu T)(1 - e^(-mu t))/mu]
    lam = np.exp(_log_g(r, alpha, x + 1, T))
    mu_part = integrate.quad(
        lambda mu: (
            np.exp(-mu * T) * -np.expm1(-mu * t) / mu * stats.gamma.pdf(mu, s, scale=1 / beta)
        ),
        0,
        np.inf,
        epsabs=0,
        epsrel=1e-11,
        limit=200,
    )[0]
    args = (np.array([x]), np.array([tx]), np.array([T]))
    assert paretonbd.p_alive(params, *args)[0] == pytest.approx(alive / total, rel=1e-6)
    assert paretonbd.expected_purchases(params, *args, t)[0] == pytest.approx(
        lam * mu_part / total, rel=1e-6
    )


def test_gamma_gamma_expected_spend_matches_posterior_mean() -> None:
    params = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    p, q, g = params.values()
    for x, m in [(1.0, 20.0), (5.0, 42.0), (30.0, 9.5)]:

        def post(nu, x=x, m=m):
            return stats.gamma.pdf(m, p * x, scale=1 / (x * nu)) * stats.gamma.pdf(
                nu, q, scale=1 / g
            )

        opts = {"epsabs": 0, "epsrel": 1e-11, "limit": 200}
        mean = integrate.quad(lambda nu, f=post: p / nu * f(nu), 0, np.inf, **opts)[0]
        mean /= integrate.quad(post, 0, np.inf, **opts)[0]
        got = gammagamma.expected_spend(params, np.array([x]), np.array([m]))[0]
        assert got == pytest.approx(mean, rel=1e-7)
    # no repeat purchase: the population mean p * gamma / (q - 1)
    assert gammagamma.expected_spend(params, np.array([0.0]), np.array([0.0]))[0] == (
        pytest.approx(p * g / (q - 1))
    )


def _one_customer_fit(x: int, tx: float, T: float, m: float):
    frame = pl.DataFrame(
        {
            "customer_key": ["c1"],
            "first_purchase": [dt.date(2024, 1, 1)],
            "frequency": [x],
            "recency": [tx],
            "T": [T],
            "monetary_value": [m],
        }
    )
    summary = Summary(frame=frame, calibration_end=dt.date(2024, 12, 30), unit="weeks")
    clv_fit = ClvFit(
        purchases=ModelFit("bgnbd", dict(BG), -1.0, 1, 1),
        spend=ModelFit("gamma-gamma", {"p": 6.25, "q": 3.74, "gamma": 15.44}, -1.0, 1, 1),
        calibration_end=summary.calibration_end,
        unit="weeks",
    )
    return summary, clv_fit


def test_clv_is_discounted_sum_of_monthly_purchases() -> None:
    x, tx, T, m = 3, 20.0, 40.0, 50.0
    summary, clv_fit = _one_customer_fit(x, tx, T, m)
    spend = 6.25 * (15.44 + x * m) / (6.25 * x + 3.74 - 1)
    weeks = [k * DAYS_PER_MONTH / 7 for k in range(13)]
    cum = [_fhl_eq10(BG, x, tx, T, w) if w > 0 else 0.0 for w in weeks]
    d, margin = 0.02, 0.3
    by_hand = margin * spend * sum((cum[k] - cum[k - 1]) / (1 + d) ** k for k in range(1, 13))
    row = predict(clv_fit, summary, horizon="12m", discount=d, margin=margin).frame.row(
        0, named=True
    )
    assert row["clv"] == pytest.approx(by_hand, rel=1e-9)
    assert row["expected_purchases"] == pytest.approx(cum[12], rel=1e-9)
    assert row["expected_spend"] == pytest.approx(cum[12] * spend, rel=1e-9)
    undiscounted = predict(clv_fit, summary, horizon="12m", discount=0.0, margin=1.0)
    assert undiscounted.frame["clv"][0] == pytest.approx(cum[12] * spend, rel=1e-9)


def test_partial_month_horizon_ends_exactly_at_horizon() -> None:
    summary, clv_fit = _one_customer_fit(2, 10.0, 30.0, 20.0)
    got = predict(clv_fit, summary, horizon="26w", discount=0.0).frame
    assert got["expected_purchases"][0] == pytest.approx(_fhl_eq10(BG, 2, 10.0, 30.0, 26.0))
