"""Service metrics on the hand-worked shop's tickets created in 2025Q2.

t1 A: complaint, response after 2 h, resolved after 24 h, solved, cost 10
t2 C: response after 4 h, open, cost 5
t3 D: complaint, response after 6 h, resolved after 48 h, closed, cost 15
"""

from __future__ import annotations

import pytest

from . import shop


def test_complaint_and_resolution_rates():
    r = shop.results("complaint_rate", "resolution_rate")
    assert r["complaint_rate"]["value"] == pytest.approx(2 / 4)  # A, D of base A, C, D, F
    assert r["resolution_rate"]["value"] == pytest.approx(2 / 3)


def test_response_and_resolution_times_median_and_p90():
    r = shop.results("first_response_time", "resolution_time")
    frt = r["first_response_time"]
    assert frt["value"] == pytest.approx(4)
    assert frt["details"]["p90"] == pytest.approx(4 + 0.8 * (6 - 4))  # linear, rank 0.9·2 = 1.8
    rt = r["resolution_time"]
    assert rt["value"] == pytest.approx((24 + 48) / 2)
    assert rt["details"]["p90"] == pytest.approx(24 + 0.9 * (48 - 24))
    assert rt["n"] == 2


def test_support_cost_per_customer():
    r = shop.results("support_cost_per_customer")["support_cost_per_customer"]
    assert r["value"] == pytest.approx((10 + 5 + 15) / 3)


def test_without_tickets_service_metrics_are_unavailable():
    r = shop.results(tabs=shop.tables(without=("tickets",)))
    for name in ("complaint_rate", "resolution_rate", "first_response_time"):
        assert r[name]["status"] == "unavailable" and r[name]["reason"] == "needs tickets"
