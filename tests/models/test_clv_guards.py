"""Guards: refusals on thin data and failed optimisation, the spend/frequency correlation
warning, extreme customers, and predictions that are never negative or NaN."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from crmkit.errors import CrmkitError
from crmkit.models import (
    ConvergenceError,
    Guards,
    InsufficientDataError,
    UnknownModelError,
    fit,
    predict,
    summarize,
)
from crmkit.models.fitting import LOG_BOUND, _check_converged
from crmkit.models.summary import Summary


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_orders):
    return summarize(cdnow_orders, calibration_end="1997-09-30", unit="weeks")


def _one_time_buyers(n: int) -> pl.DataFrame:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return pl.DataFrame(
        {
            "customer_key": [f"c{i:04d}" for i in range(n)],
            "ordered_at": [start + dt.timedelta(days=i % 300) for i in range(n)],
            "net_amount": [10.0] * n,
            "status": ["completed"] * n,
        }
    ).with_columns(pl.col("net_amount").cast(pl.Decimal(18, 2)))


def test_all_one_time_buyers_are_refused_with_a_hint() -> None:
    s = summarize(_one_time_buyers(1000), unit="days")
    with pytest.raises(InsufficientDataError) as info:
        fit(s, model="bgnbd")
    err = info.value
    assert isinstance(err, CrmkitError)
    assert err.exit_code == 2
    assert "repeat customers" in str(err) and "0 of 1000" in str(err)
    assert err.hint


def test_too_few_customers_and_short_history_are_refused(cdnow_summary) -> None:
    few = Summary(cdnow_summary.frame.head(50), cdnow_summary.calibration_end, "weeks")
    with pytest.raises(InsufficientDataError, match="too few customers"):
        fit(few)
    with pytest.raises(InsufficientDataError, match="too little history"):
        fit(cdnow_summary, guards=Guards(min_history_days=400))


def test_unknown_model_is_a_usage_error(cdnow_summary) -> None:
    with pytest.raises(UnknownModelError) as info:
        fit(cdnow_summary, model="gbm")
    assert info.value.exit_code == 2 and info.value.hint


class _FakeResult:
    def __init__(self, x, fun=1.0, jac=None, message="ABNORMAL_TERMINATION_IN_LNSRCH"):
        self.x = np.asarray(x, float)
        self.fun = fun
        self.jac = np.zeros(len(x)) if jac is None else np.asarray(jac, float)
        self.message = message


def test_non_convergence_is_refused_with_reason() -> None:
    with pytest.raises(ConvergenceError, match="b ran off") as info:
        _check_converged(_FakeResult([0.1, 1.0, 0.2, LOG_BOUND]), ("r", "alpha", "a", "b"), "bg")
    assert info.value.hint and info.value.exit_code == 2
    with pytest.raises(ConvergenceError, match="did not converge"):
        _check_converged(_FakeResult([0.1, 1.0], jac=[0.5, 0.0]), ("r", "alpha"), "bg")
    with pytest.raises(ConvergenceError, match="not finite"):
        _check_converged(_FakeResult([0.1, 1.0], fun=np.nan), ("r", "alpha"), "bg")


def test_spend_frequency_correlation_warns(cdnow_summary) -> None:
    correlated = cdnow_summary.frame.with_columns(
        monetary_value=pl.when(pl.col("frequency") > 0)
        .then(pl.col("monetary_value") * (1 + pl.col("frequency")))
        .otherwise(0.0)
    )
    s = Summary(correlated, cdnow_summary.calibration_end, "weeks")
    result = fit(s, model="bgnbd")
    assert result.spend_frequency_correlation is not None
    assert result.spend_frequency_correlation > 0.3
    assert any("Gamma-Gamma" in w for w in result.warnings)


@pytest.mark.parametrize("model", ["bgnbd", "pareto", "mbgnbd"])
def test_customer_with_1000_purchases_gives_finite_sane_predictions(cdnow_summary, model) -> None:
    heavy = pl.DataFrame(
        {
            "customer_key": ["heavy"],
            "first_purchase": [dt.date(1997, 1, 1)],
            "frequency": [1000],
            "recency": [38.8],
            "T": [272 / 7],
            "monetary_value": [15.0],
        }
    )
    s = Summary(pl.concat([cdnow_summary.frame, heavy]), cdnow_summary.calibration_end, "weeks")
    result = fit(s, model=model)
    assert result.purchases is not None
    assert np.isfinite(result.purchases.loglik)
    pred = predict(result, s, horizon="12m", discount=0.01, margin=0.3)
    frame = pred.frame
    for col in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        values = frame[col].to_numpy()
        assert np.all(np.isfinite(values)) and np.all(values >= 0), col
    top = pred.top(1).row(0, named=True)
    assert top["customer_key"] == "heavy"
    # about 1000 purchases in 39 weeks -> roughly 1,300 in a year if still alive
    assert 500 < top["expected_purchases"] < 2000
    assert 0.5 < top["p_alive"] <= 1.0


def test_predictions_never_negative_or_nan(cdnow_summary) -> None:
    result = fit(cdnow_summary, model="bgnbd")
    for horizon, d in [("1d", 0.0), ("12m", 0.5), ("10y", 0.01)]:
        frame = predict(result, cdnow_summary, horizon=horizon, discount=d).frame
        for col in ("p_alive", "expected_purchases", "expected_spend", "clv"):
            values = frame[col].to_numpy()
            assert not np.isnan(values).any() and (values >= 0).all()
    with pytest.raises(UnknownModelError):
        predict(result, cdnow_summary, discount=1.5)
