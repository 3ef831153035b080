"""Tiers: exact boundaries in percentile and absolute modes, ties to the higher tier."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from crmkit.errors import ConfigError
from crmkit.schema import MONEY
from crmkit.segment import TierOptions, tier_segments


def _facts(revenue: list[int], **extra: list) -> pl.DataFrame:
    n = len(revenue)
    keys = [f"K{i:02d}" for i in range(n)]
    return pl.DataFrame(
        {
            "customer_key": keys,
            "revenue_all": pl.Series([Decimal(v) for v in revenue], dtype=MONEY),
            "profit": pl.Series([None] * n, dtype=MONEY),
            "orders_all": extra.get("orders", [1] * n),
            "tenure_days": extra.get("tenure", [10] * n),
        }
    )


def _extras(n: int, nps: list | None = None, referrals: list | None = None) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_key": [f"K{i:02d}" for i in range(n)],
            "referrals": referrals or [0] * n,
            "nps": pl.Series(nps or [None] * n, dtype=pl.Float64),
        }
    )


REVENUE_ONLY = {"value": {"net_revenue": 1.0}, "value_weight": 1.0, "loyalty_weight": 0.0}


def _tiers(facts: pl.DataFrame, extras: pl.DataFrame, **raw) -> dict[str, str]:
    members, _ = tier_segments(facts, extras, TierOptions.from_config(raw))
    return dict(zip(members["customer_key"], members["segment"], strict=True))


def test_percentiles_exact_shares() -> None:
    # Revenue 1..10 → score = rank/10. Gold = top 20 % (2 customers), silver = next 30 % (3).
    t = _tiers(_facts(list(range(1, 11))), _extras(10), **REVENUE_ONLY)
    by_rev = [t[f"K{i:02d}"] for i in range(10)]
    assert by_rev == ["regular"] * 5 + ["silver"] * 3 + ["gold"] * 2


def test_ties_at_the_boundary_go_to_the_higher_tier() -> None:
    # Revenues 10, 9, 9, 8, …: the two 9s tie at positions 2–3; both are gold (3 gold).
    rev = [10, 9, 9, 8, 7, 6, 5, 4, 3, 2]
    t = _tiers(_facts(rev), _extras(10), **REVENUE_ONLY)
    assert [t[f"K{i:02d}"] for i in range(10)] == ["gold"] * 3 + ["silver"] * 2 + ["regular"] * 5


def test_absolute_cutoffs_are_inclusive() -> None:
    # Scores 0.1..1.0; gold ≥ 0.8 (revenue 8 is exactly at it), silver ≥ 0.5 (revenue 5).
    cut = {"cutoffs": {"mode": "absolute", "gold": 0.8, "silver": 0.5}}
    t = _tiers(_facts(list(range(1, 11))), _extras(10), **REVENUE_ONLY, **cut)
    by_rev = {i + 1: t[f"K{i:02d}"] for i in range(10)}
    assert by_rev[8] == "gold" and by_rev[7] == "silver"
    assert by_rev[5] == "silver" and by_rev[4] == "regular"


def test_unknown_components_are_left_out_of_the_mean() -> None:
    # Loyalty = mean of tenure and NPS percentiles; K01 has no NPS so only tenure counts.
    facts = _facts([1, 1, 1], tenure=[10, 20, 30])
    extras = _extras(3, nps=[10.0, None, 0.0])
    opts = TierOptions.from_config(
        {"loyalty": {"tenure": 1.0, "nps": 1.0}, "value_weight": 0.0, "loyalty_weight": 1.0}
    )
    members, _ = tier_segments(facts, extras, opts)
    loyalty = dict(zip(members["customer_key"], members["loyalty_score"], strict=True))
    # tenure pct: 1/3, 2/3, 1; nps pct (of the two answers): K00 1.0, K02 0.5.
    assert loyalty["K00"] == pytest.approx((1 / 3 + 1.0) / 2, abs=1e-6)
    assert loyalty["K01"] == pytest.approx(2 / 3, abs=1e-6)
    assert loyalty["K02"] == pytest.approx((1.0 + 0.5) / 2, abs=1e-6)


def test_settings_are_reported_and_checked() -> None:
    _, settings = tier_segments(_facts([1, 2]), _extras(2), TierOptions())
    assert settings["cutoffs"] == {"mode": "percentiles", "gold": 0.2, "silver": 0.3}
    assert "gold = top 20%" in settings["cut_points"][1]
    with pytest.raises(ConfigError):
        TierOptions.from_config({"cutoffs": {"gold": 0.8, "silver": 0.5}})
    with pytest.raises(ConfigError, match="unknown component"):
        TierOptions.from_config({"value": {"margin": 1}})
