"""Acquisition metrics on the hand-worked shop."""

from __future__ import annotations

import pytest

from . import shop

MONTHS = 91 / (365.25 / 12)


def test_new_customers_excludes_walk_ins_and_refunded_only_customers():
    r = shop.results("new_customers")["new_customers"]
    assert r["value"] == 1  # C; E's only order was refunded


def test_cac_and_payback():
    r = shop.results("cac", "cac_payback_months")
    assert r["cac"]["value"] == pytest.approx((300 + 100) / 1)
    # C's margin: (200 − 120) + (70 − 40) = 110 over the quarter
    monthly_margin = 110 / 1 / MONTHS
    assert r["cac_payback_months"]["value"] == pytest.approx(400 / monthly_margin)


def test_cac_is_unavailable_without_spend_or_before_spend_starts():
    r = shop.results("cac", tabs=shop.tables(without=("marketing_spend",)))["cac"]
    assert r["status"] == "unavailable" and r["reason"] == "needs marketing_spend"
    r = shop.results("cac", period="2024Q2")["cac"]  # spend starts 2025-03-01
    assert r["status"] == "unavailable" and "marketing_spend has no data before" in r["reason"]


def test_cac_payback_needs_cost_or_margin():
    tabs = shop.tables()
    tabs["orders"] = tabs["orders"].with_columns(cost_amount=None)
    r = shop.results("cac_payback_months", tabs=tabs)["cac_payback_months"]
    assert r["status"] == "unavailable" and "cost_amount" in r["reason"]
    cfg = shop.config(metrics={"gross_margin": 0.5})
    r = shop.results("cac_payback_months", tabs=tabs, cfg=cfg)["cac_payback_months"]
    assert r["value"] == pytest.approx(400 / ((200 + 70) * 0.5 / MONTHS))


def test_conversion_rate():
    r = shop.results("conversion_rate")["conversion_rate"]
    # signed up in Q2: C (ordered 6 days later), E (refunded only), G (no order)
    assert r["details"] == {"prospects": 3, "converted": 1}
    assert r["value"] == pytest.approx(1 / 3)
    cfg = shop.config(windows={"conversion_window": 5})
    assert shop.results("conversion_rate", cfg=cfg)["conversion_rate"]["value"] == 0


def test_conversion_counts_first_orders_after_the_period_end_within_the_window():
    # G signed up 2025-05-10; a first order on 2025-06-05 (in the window) converts G even when
    # the period under test is May alone
    tabs = shop.tables()
    import polars as pl

    extra = shop.frame("orders", [shop.order("o13", "G", "2025-06-05", "completed", 10)])
    tabs["orders"] = pl.concat([tabs["orders"], extra])
    r = shop.results("conversion_rate", period="2025-05", tabs=tabs)["conversion_rate"]
    # signed up in May: G only (C signed up in April)
    assert r["details"] == {"prospects": 1, "converted": 1}
