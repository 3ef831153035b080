"""Key drivers: Johnson's relative weights checked against an exact Shapley R² decomposition.

Shapley value of predictor j = Σ over subsets S of the others of |S|!(p−|S|−1)!/p! ×
(R²(S ∪ {j}) − R²(S)), with every R² from an ordinary least-squares fit (numpy lstsq).
Johnson's weights are an approximation of this decomposition (they decompose R² through the
closest orthogonal predictors). With uncorrelated predictors both equal r_j² exactly; with the
moderate correlations below (|r| ≈ 0.3–0.5, typical of attribute ratings) they differ by less
than 0.02 in R² units — the agreement Johnson (2000) and LeBreton et al. (2004) report — so the
test allows 0.02 absolute per predictor and requires the same ranking.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import polars as pl
import pytest

from crmkit.analysis.drivers import FIX_FIRST, key_drivers, relative_weights

from .helpers import frame, ts


def r2(x: np.ndarray, y: np.ndarray, cols: tuple[int, ...]) -> float:
    if not cols:
        return 0.0
    design = np.column_stack([np.ones(len(y)), x[:, list(cols)]])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    return 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))


def shapley(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = x.shape[1]
    out = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            w = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for s in itertools.combinations(others, size):
                out[j] += w * (r2(x, y, (*s, j)) - r2(x, y, s))
    return out


def correlated(seed: int = 11, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1))
    x = 0.6 * z + rng.normal(size=(n, 3)) * np.array([0.8, 1.0, 1.2])
    y = 0.5 * x[:, 0] + 0.3 * x[:, 1] + 0.1 * x[:, 2] + rng.normal(size=n)
    return x, y


def test_weights_sum_to_r2_and_approximate_shapley():
    x, y = correlated()
    weights, total = relative_weights(x, y)
    assert total == pytest.approx(r2(x, y, (0, 1, 2)), abs=1e-12)
    assert weights.sum() == pytest.approx(total, abs=1e-12)
    exact = shapley(x, y)
    assert exact.sum() == pytest.approx(total, abs=1e-12)  # Shapley is exact too
    assert np.abs(weights - exact).max() < 0.02
    assert list(np.argsort(weights)) == list(np.argsort(exact))


def test_uncorrelated_predictors_give_squared_correlations_exactly():
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(200, 3)) - rng.normal(size=(200, 3)).mean(axis=0))
    x = q - q.mean(axis=0)
    x, _ = np.linalg.qr(x)  # centred and mutually orthogonal columns: correlations exactly 0
    x = x - x.mean(axis=0)
    y = x @ np.array([3.0, 2.0, 1.0]) + rng.normal(size=200) * 0.05
    weights, _ = relative_weights(x, y)
    r = np.array([np.corrcoef(x[:, j], y)[0, 1] for j in range(3)])
    assert weights == pytest.approx(r**2, abs=1e-6)
    assert weights == pytest.approx(shapley(x, y), abs=1e-6)


def survey_from(x: np.ndarray, y: np.ndarray) -> pl.LazyFrame:
    """Ratings 1–5 and NPS 0–10 from continuous data, with one -99 and one missing answer."""
    ratings = np.clip(np.round(3 + x), 1, 5).astype(int)
    nps = np.clip(np.round(5 + 2 * y), 0, 10)
    rows = []
    for i in range(len(y)):
        obj = {
            "quality": str(ratings[i, 0]),
            "service": int(ratings[i, 1]),
            "price": str(ratings[i, 2]),
        }
        if i == 0:
            obj["price"] = "-99"
        if i == 1:
            obj["service"] = None
        rows.append(
            {
                "response_id": str(i),
                "responded_at": ts("2025-01-01"),
                "nps": float(nps[i]),
                "ratings": json.dumps(obj),
            }
        )
    return frame("survey_responses", rows)


def test_key_drivers_on_responses_handles_missing_and_reports_n_r2():
    x, y = correlated()
    res = key_drivers(survey_from(x, y), target="nps", missing_codes=[-99])
    assert res.n == 400 - 2  # the -99 and the null answer drop two responses (listwise)
    table = res.drivers
    assert table["weight"].sum() == pytest.approx(res.r2, abs=1e-12)
    assert table["importance"].sum() == pytest.approx(1.0, abs=1e-12)
    miss = {r["question"]: r for r in res.missing.to_dicts()}
    assert (miss["price"]["missing_code"], miss["price"]["answered"]) == (1, 399)
    assert (miss["service"]["blank"], miss["service"]["answered"]) == (1, 399)
    assert table["attribute"][0] == "quality"  # the strongest driver by construction
    imp_mean, perf_mean = table["importance"].mean(), table["performance"].mean()
    for row in table.to_dicts():
        expect_fix = row["importance"] >= imp_mean and row["performance"] < perf_mean
        assert (row["quadrant"] == FIX_FIRST) == expect_fix
    assert len(res.fix_first) >= 1


def test_too_few_complete_responses_is_a_clear_error():
    from crmkit.errors import DataError

    x, y = correlated(n=10)  # 10 minus the two incomplete responses = 8
    with pytest.raises(DataError, match="only 8 responses"):
        key_drivers(survey_from(x, y), target="nps", min_n=30)
