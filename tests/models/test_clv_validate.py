"""Holdout validation on CDNOW: the split, the actual counts (recomputed independently from the
raw file), the error figures and the tracking table."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from crmkit.models import validate


@pytest.fixture(scope="module")
def result(cdnow_orders):
    return validate(cdnow_orders, holdout="39w", calibration_end="1997-09-30")


def test_split_and_actuals_match_the_raw_data(result, cdnow_orders) -> None:
    days = cdnow_orders.select("customer_key", day=pl.col("ordered_at").dt.date()).unique()
    holdout = days.filter(
        (pl.col("day") > dt.date(1997, 9, 30)) & (pl.col("day") <= dt.date(1998, 6, 30))
    )
    assert result.holdout_end == dt.date(1998, 6, 30)
    assert result.aggregate["actual"] == holdout.height
    assert result.n_customers == 2357
    repeat_days = days.height - days["customer_key"].n_unique()
    assert int(result.tracking["actual_cumulative"][-1]) == repeat_days


def test_error_figures_are_consistent(result) -> None:
    c = result.customers
    err = c["predicted"].to_numpy() - c["actual"].to_numpy()
    assert result.per_customer["mae"] == pytest.approx(np.abs(err).mean())
    assert result.per_customer["bias"] == pytest.approx(err.mean())
    assert result.aggregate["predicted"] == pytest.approx(c["predicted"].sum())
    bf = result.by_frequency
    assert bf["frequency_class"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert bf["customers"].sum() == 2357
    # the model ranks customers: heavier calibration buyers are predicted to buy more
    assert np.all(np.diff(bf["predicted"].to_numpy()) > 0)
    # and the figures are of the published order: conditional expectations within 30%
    assert np.allclose(bf["predicted"], bf["actual"], rtol=0.3)


def test_tracking_table(result) -> None:
    t = result.tracking
    assert t["period_end"][-1] == dt.date(1998, 6, 30)
    assert dt.date(1997, 9, 30) in t["period_end"].to_list()
    assert np.all(np.diff(t["actual_cumulative"].to_numpy()) >= 0)
    assert np.all(np.diff(t["predicted_cumulative"].to_numpy()) >= 0)
    cal_end = t.filter(pl.col("period_end") == dt.date(1997, 9, 30)).row(0, named=True)
    # at the end of calibration the model reproduces the 2,457 repeat purchases closely
    assert cal_end["actual_cumulative"] == 2457
    assert cal_end["predicted_cumulative"] == pytest.approx(2457, rel=0.05)
    headline = result.headline()
    assert set(headline) >= {"mae", "bias", "aggregate_error_pct", "holdout"}
    assert result.to_dict()["tracking"][0]["period_end"] <= "1997-01-07"


def test_default_split_is_last_purchase_minus_holdout(cdnow_orders) -> None:
    r = validate(cdnow_orders, holdout="26w")
    assert r.holdout_end == dt.date(1998, 6, 30)
    assert r.calibration_end == dt.date(1998, 6, 30) - dt.timedelta(days=182)
