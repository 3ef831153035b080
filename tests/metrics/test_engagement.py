"""Engagement metrics on the hand-worked shop's events in 2025Q2.

A: 2 email_sent, 1 email_open, 1 email_click; C: visit, referral_sent; G: page_view.
"""

from __future__ import annotations

import pytest

from . import shop


def test_engagement_rate_and_interaction_frequency():
    r = shop.results("engagement_rate", "interaction_frequency")
    assert r["engagement_rate"]["value"] == pytest.approx(2 / 4)  # A, C of base A, C, D, F
    # engagement events (email_sent is ours, not theirs): 1 + 1 + 2 + 1 over A, C, G
    assert r["interaction_frequency"]["value"] == pytest.approx(5 / 3)


def test_email_rates():
    r = shop.results("email_open_rate", "email_click_rate")
    assert r["email_open_rate"]["value"] == pytest.approx(1 / 2)
    assert r["email_click_rate"]["value"] == pytest.approx(1 / 2)


def test_engagement_event_types_are_configurable():
    cfg = shop.config(metrics={"engagement_events": ["visit"]})
    r = shop.results("engagement_rate", "interaction_frequency", cfg=cfg)
    assert r["engagement_rate"]["value"] == pytest.approx(1 / 4)
    assert r["interaction_frequency"]["value"] == pytest.approx(1 / 1)
