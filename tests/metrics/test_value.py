"""Value metrics on the hand-worked shop (see tests/metrics/shop.py for the rows)."""

from __future__ import annotations

import pytest

from . import shop

DAYS = 91  # 2025-04-01..2025-06-30
MONTHS = DAYS / (365.25 / 12)


def test_revenue_counts_completed_and_partially_refunded_orders_and_walk_ins():
    r = shop.results("revenue", "net_revenue", "orders")
    # A 50 + C 200 + C 100 (partially refunded, gross) + D 60 + walk-in 25; E refunded, F cancelled
    assert r["revenue"]["value"] == pytest.approx(50 + 200 + 100 + 60 + 25)
    # net: the partial refund takes 30 off C's second order
    assert r["net_revenue"]["value"] == pytest.approx(50 + 200 + 70 + 60 + 25)
    assert r["orders"]["value"] == 5 and r["orders"]["n"] == 5


def test_aov_and_purchase_frequency():
    r = shop.results("aov", "purchase_frequency")
    assert r["aov"]["value"] == pytest.approx(405 / 5)
    # identified customers only: A 1 + C 2 + D 1 orders over 3 buyers (walk-in left out)
    assert r["purchase_frequency"]["value"] == pytest.approx(4 / 3)
    assert r["purchase_frequency"]["details"] == {"orders": 4, "buyers": 3}


def annual_churn() -> float:
    churn = 1 / 3  # S = {A, B, F}, B churned
    monthly = 1 - (1 - churn) ** (1 / MONTHS)
    return 1 - (1 - monthly) ** 12


def test_clv_simple_uses_lifespan_from_annualised_churn():
    r = shop.results("clv_simple")
    expected = 81 * (4 / 3) * (365.25 / DAYS) * (1 / annual_churn())
    assert r["clv_simple"]["value"] == pytest.approx(expected)


def test_clv_with_configured_lifespan_and_margin():
    cfg = shop.config(metrics={"expected_lifespan_years": 3})
    r = shop.results("clv_simple", "clv_margin", "customer_equity", cfg=cfg)
    clv = 81 * (4 / 3) * (365.25 / DAYS) * 3
    assert r["clv_simple"]["value"] == pytest.approx(clv)
    margin_ratio = (405 - (20 + 120 + 40 + 30 + 10)) / 405
    assert r["clv_margin"]["value"] == pytest.approx(clv * margin_ratio)
    # active at the end: A, C, D, F
    assert r["customer_equity"]["value"] == pytest.approx(clv * 4)


def test_profit_contribution_subtracts_cost_and_handling_cost():
    r = shop.results("profit_contribution")["profit_contribution"]
    expected = 405 - (20 + 120 + 40 + 30 + 10) - (10 + 5 + 15)
    assert r["value"] == pytest.approx(expected)
    assert r["details"]["per_customer"] == pytest.approx(expected / 3)


def test_profit_contribution_without_costs_is_unavailable_or_uses_the_configured_margin():
    tabs = shop.tables()
    tabs["orders"] = tabs["orders"].with_columns(cost_amount=None)
    r = shop.results("profit_contribution", "clv_margin", tabs=tabs)
    assert r["profit_contribution"]["status"] == "unavailable"
    assert "metrics.gross_margin" in r["profit_contribution"]["reason"]
    assert r["profit_contribution"]["value"] is None
    cfg = shop.config(metrics={"gross_margin": 0.4})
    r = shop.results("profit_contribution", tabs=tabs, cfg=cfg)
    assert r["profit_contribution"]["value"] == pytest.approx(405 * 0.4 - 30)


def test_clv_predicted_reads_stored_predictions_or_says_how_to_get_them():
    r = shop.results("clv_predicted")["clv_predicted"]
    assert r["status"] == "unavailable" and "crmkit clv predict" in r["reason"]
    import polars as pl

    tabs = shop.tables()
    tabs["clv_predictions"] = pl.LazyFrame({"customer_key": ["A", "C"], "clv": [120.0, 80.0]})
    r = shop.results("clv_predicted", tabs=tabs)["clv_predicted"]
    assert r["value"] == pytest.approx((120 + 80) / 2)
    assert r["details"]["total"] == pytest.approx(200)
