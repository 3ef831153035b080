"""Retention metrics on the hand-worked shop: S = {A, B, F}, E = {A, C, D, F}, N = {C}."""

from __future__ import annotations

import pytest

from . import shop

MONTHS = 91 / (365.25 / 12)


def test_churn_and_its_annualisation():
    r = shop.results("churn_rate")["churn_rate"]
    assert r["details"]["S"] == 3 and r["details"]["churned"] == 1
    assert r["value"] == pytest.approx(1 / 3)
    monthly = 1 - (1 - 1 / 3) ** (1 / MONTHS)
    assert r["details"]["monthly"] == pytest.approx(monthly)
    assert r["details"]["annual"] == pytest.approx(1 - (1 - monthly) ** 12)
    assert r["details"]["annual"] != pytest.approx(12 * monthly)


def test_retention_counts_the_reactivated_customer():
    r = shop.results("retention_rate")["retention_rate"]
    # D was inactive at the start (last order 2023) and ordered again in June: in E, not in N
    assert r["details"] == {"S": 3, "E": 4, "N": 1}
    assert r["value"] == pytest.approx((4 - 1) / 3)


def test_retention_is_undefined_when_nobody_was_active_at_the_start():
    # 2023Q1 holds the first order in the data (D, 2023-01-10): nobody was active before it
    r = shop.results("retention_rate", "churn_rate", period="2023Q1")
    assert r["retention_rate"]["value"] is None
    assert r["retention_rate"]["status"] == "undefined"
    assert "S = 0" in r["retention_rate"]["reason"]
    assert r["churn_rate"]["value"] is None


def test_repurchase_and_returning():
    r = shop.results("repurchase_rate", "returning_customer_rate")
    rep = r["repurchase_rate"]
    # up to the end: A, C, D have 2 completed orders; A, B, C, D, F have at least one
    assert rep["value"] == pytest.approx(3 / 5)
    # in the period: only C has 2; A, C, D ordered
    assert rep["details"]["in_period"] == pytest.approx(1 / 3)
    # A and D had ordered before April; C is new
    assert r["returning_customer_rate"]["value"] == pytest.approx(2 / 3)


def test_loyalty_and_referrals_over_the_active_base():
    r = shop.results(
        "loyalty_participation_rate", "referral_rate", "referral_program_participation_rate"
    )
    # base = A, C, D, F; members A, C
    assert r["loyalty_participation_rate"]["value"] == pytest.approx(2 / 4)
    # referrers: A (of C and G), F (of D)
    assert r["referral_rate"]["value"] == pytest.approx(2 / 4)
    # C sent a referral in May
    assert r["referral_program_participation_rate"]["value"] == pytest.approx(1 / 4)


def test_loyalty_index_is_the_weighted_mean_of_its_components():
    r = shop.results("customer_loyalty_index")["customer_loyalty_index"]
    nps = 100 * (3 - 2) / 6
    assert r["value"] == pytest.approx((3 / 5 + 2 / 4 + (nps + 100) / 200) / 3)
    cfg = shop.config(metrics={"loyalty_index_weights": {"repurchase_rate": 3, "nps": 1}})
    r = shop.results("customer_loyalty_index", cfg=cfg)["customer_loyalty_index"]
    assert r["value"] == pytest.approx((3 * 3 / 5 + (nps + 100) / 200) / 4)


def test_loyalty_index_needs_every_weighted_component():
    r = shop.results("customer_loyalty_index", tabs=shop.tables(without=("survey_responses",)))
    assert r["customer_loyalty_index"]["status"] == "unavailable"
    assert "needs survey_responses" in r["customer_loyalty_index"]["reason"]
