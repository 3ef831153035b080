"""Satisfaction metrics on the hand-worked shop's survey answers in 2025Q2.

NPS answers: A 10, B 10 (April), C 9, D 5 (May), F 7, G 0 (June); the March answer is outside.
CSAT answers (1–5): A 5 (April), C 4, D 2 (May), F 3 (June). CES (1–7): A 2, C 6.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from . import shop


def test_nps_with_adjusted_wald_interval():
    r = shop.results("nps")["nps"]
    promoters, detractors, n = 3, 2, 6
    assert r["value"] == pytest.approx(100 * (promoters - detractors) / n)
    n2 = n + 3
    p2, d2 = (promoters + 0.75) / n2, (detractors + 0.75) / n2
    half = 1.96 * math.sqrt((p2 + d2 - (p2 - d2) ** 2) / n2)
    assert r["details"]["ci_low"] == pytest.approx(100 * (p2 - d2 - half), abs=0.01)
    assert r["details"]["ci_high"] == pytest.approx(100 * (p2 - d2 + half), abs=0.01)
    assert r["n"] == 6


def test_csat_top_two_boxes_mean_csi_and_ces():
    r = shop.results("csat", "csat_mean", "csi", "ces")
    assert r["csat"]["value"] == pytest.approx(2 / 4)  # 5 and 4 are the top two of 1–5
    assert r["csat_mean"]["value"] == pytest.approx((5 + 4 + 2 + 3) / 4)
    assert r["csi"]["value"] == pytest.approx(((5 + 4 + 2 + 3) / 4 - 1) / (5 - 1) * 100)
    assert r["ces"]["value"] == pytest.approx((2 + 6) / 2)


def test_csat_follows_the_declared_scale():
    cfg = shop.config(scales={"csat": [0, 10]})  # top two boxes are now 9 and 10
    assert shop.results("csat", cfg=cfg)["csat"]["value"] == 0


def test_no_surveys_means_unavailable_never_zero():
    r = shop.results("nps", "csat", "ces", tabs=shop.tables(without=("survey_responses",)))
    for name in ("nps", "csat", "ces"):
        assert r[name]["value"] is None
        assert r[name]["status"] == "unavailable"
        assert r[name]["reason"] == "needs survey_responses"


def test_satisfaction_target_attainment_by_month():
    cfg = shop.config(targets={"nps": {"min": 30}, "csat": {"min": 0.4}})
    r = shop.results("satisfaction_target_attainment", cfg=cfg)
    # NPS: April 100 (met), May 0, June −50; CSAT: April 1/1 (met), May 1/2 (met), June 0/1
    assert r["satisfaction_target_attainment"]["value"] == pytest.approx(3 / 6)
    none = shop.results("satisfaction_target_attainment")["satisfaction_target_attainment"]
    assert none["status"] == "unavailable" and "target" in none["reason"]


def test_feedback_rate():
    r = shop.results("feedback_rate")["feedback_rate"]
    # base A, C, D, F: all four answered a survey or raised a ticket in Q2
    assert r["value"] == pytest.approx(4 / 4)
    r = shop.results("feedback_rate", tabs=shop.tables(without=("survey_responses",)))
    assert r["feedback_rate"]["value"] == pytest.approx(3 / 4)  # tickets: A, C, D


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500))
def test_nps_interval_is_ordered_and_bounded(promoters, passives, detractors):
    import polars as pl

    from crmkit.metrics.satisfaction import nps_interval

    n = promoters + passives + detractors
    frame = pl.DataFrame({"p": [promoters], "d": [detractors], "n": [n]})
    low, high = nps_interval(pl.col("p"), pl.col("d"), pl.col("n"))
    low, high = frame.select(low.alias("low"), high.alias("high")).row(0)
    assert -100 <= low <= high <= 100
    centre = 100 * ((promoters + 0.75) - (detractors + 0.75)) / (n + 3)
    assert low <= centre <= high
