"""Lifecycle stages: prospect / new / active / at risk / churned (潜在 / 新 / 活跃 / 沉睡 / 流失).

With `age` = days since the first purchase and `recency` = days since the last (whole days,
as-of day = 0), stages are decided in this order, so every customer gets exactly one:

    prospect   no purchase up to the as-of date (a customer record only)
    new        age < new_window
    active     recency < at_risk_after
    at_risk    at_risk_after ≤ recency < churned_after
    churned    recency ≥ churned_after

So a customer exactly at a boundary goes to the later stage (recency = at_risk_after → at risk;
age = new_window → no longer new). Unless configured (`windows.at_risk_after`,
`windows.churned_after`), the windows are derived from the inter-purchase times: for each
repeat customer the median of the days between their consecutive purchase days (up to the
as-of date; same-day orders are one purchase), then across those customers
at_risk_after = ⌈p75⌉ and churned_after = ⌈p95⌉ (linear interpolation). churned_after is capped
at `active_window` (so anyone the metrics call inactive is churned here), a derived
at_risk_after at churned_after − 1, and a derived churned_after is ≥ at_risk_after + 1 and ≥ 2
(daily buyers: at risk after 1 day, churned after 2).
With fewer than `min_gaps` (30) repeat customers: at_risk_after = ⌈active_window / 2⌉,
churned_after = active_window.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from crmkit.errors import ConfigError

STAGES = ("prospect", "new", "active", "at_risk", "churned")
LABELS = {
    "prospect": ("Prospect", "潜在客户"),
    "new": ("New", "新客户"),
    "active": ("Active", "活跃客户"),
    "at_risk": ("At risk", "沉睡客户"),
    "churned": ("Churned", "流失客户"),
}
TREATMENTS = {
    "prospect": ("Convert: first-order offer.", "促成首单：首单优惠。"),
    "new": ("Onboard; encourage the second order.", "新客引导，促成第二单。"),
    "active": ("Keep engaged; cross-sell.", "保持互动，交叉销售。"),
    "at_risk": ("Win back before they churn.", "在流失前召回。"),
    "churned": ("Low-cost reactivation or let go.", "低成本唤醒或放弃。"),
}


@dataclass(frozen=True)
class Windows:
    """The lifecycle windows in days, and where each value came from."""

    new_window: int
    at_risk_after: int
    churned_after: int
    active_window: int
    derived_from: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "new_window": self.new_window,
            "at_risk_after": self.at_risk_after,
            "churned_after": self.churned_after,
            "active_window": self.active_window,
            "derived_from": self.derived_from,
        }


def derive_windows(
    gaps: pl.Series,
    *,
    new_window: int = 90,
    active_window: int = 365,
    at_risk_after: int | None = None,
    churned_after: int | None = None,
    at_risk_quantile: float = 0.75,
    churned_quantile: float = 0.95,
    min_gaps: int = 30,
) -> Windows:
    """Fill the windows that are not configured from `gaps`, one typical (median) gap per repeat
    customer (see module doc and `facts.typical_gaps`)."""
    n = gaps.len()
    if n >= min_gaps:
        p_risk = math.ceil(float(gaps.quantile(at_risk_quantile, interpolation="linear")))
        p_churn = math.ceil(float(gaps.quantile(churned_quantile, interpolation="linear")))
        how = (
            f"p{at_risk_quantile * 100:g} / p{churned_quantile * 100:g} of the median "
            f"inter-purchase gap of {n:,} repeat customers ({p_risk} / {p_churn} days), "
            f"capped at active_window {active_window}"
        )
    else:
        p_risk, p_churn = math.ceil(active_window / 2), active_window
        how = f"only {n} repeat customers (< {min_gaps}): half of / all of active_window"
    # At least 2 days: daily buyers (all gaps ≤ 1) still get at risk = 1 < churned = 2.
    churn = churned_after if churned_after is not None else min(max(p_churn, 2), active_window)
    risk = at_risk_after if at_risk_after is not None else min(max(p_risk, 1), churn - 1)
    if churned_after is None and churn <= risk:
        churn = risk + 1
    if at_risk_after is not None and churned_after is not None:
        how = "configured"
    elif at_risk_after is not None or churned_after is not None:
        how = f"partly configured; the rest from {how}"
    w = Windows(int(new_window), int(risk), int(churn), int(active_window), how)
    if not 0 < w.at_risk_after < w.churned_after:
        raise ConfigError(
            f"lifecycle windows need 0 < at_risk_after < churned_after, got "
            f"{w.at_risk_after} and {w.churned_after}"
        )
    if w.new_window < 0:
        raise ConfigError("windows.new_window must not be negative")
    return w


def lifecycle_segments(
    facts: pl.DataFrame, customers: pl.DataFrame, windows: Windows, as_of: dt.date
) -> pl.DataFrame:
    """Stage every customer: purchasers from `facts`, plus customer records without purchases.

    `customers` needs customer_key and may have signup_at (records created after the as-of date
    are not yet customers and are left out). Returns customer_key, tenure_days (age),
    recency_days, segment, sorted by key.
    """
    if "signup_at" in customers.columns:
        customers = customers.filter(
            pl.col("signup_at").is_null() | (pl.col("signup_at").dt.date() <= as_of)
        )
    prospects = customers.select("customer_key").join(
        facts.select("customer_key"), on="customer_key", how="anti"
    )
    buyers = facts.select("customer_key", "tenure_days", "recency_days")
    stage = (
        pl.when(pl.col("recency_days").is_null())
        .then(pl.lit("prospect"))
        .when(pl.col("tenure_days") < windows.new_window)
        .then(pl.lit("new"))
        .when(pl.col("recency_days") < windows.at_risk_after)
        .then(pl.lit("active"))
        .when(pl.col("recency_days") < windows.churned_after)
        .then(pl.lit("at_risk"))
        .otherwise(pl.lit("churned"))
    )
    both = pl.concat([buyers, prospects.unique()], how="diagonal")
    return both.with_columns(stage.alias("segment")).sort("customer_key")


def lifecycle_catalog() -> pl.DataFrame:
    """Labels and treatments of each stage, in display order."""
    return pl.DataFrame(
        {
            "segment": list(STAGES),
            "label_en": [LABELS[s][0] for s in STAGES],
            "label_zh": [LABELS[s][1] for s in STAGES],
            "treatment_en": [TREATMENTS[s][0] for s in STAGES],
            "treatment_zh": [TREATMENTS[s][1] for s in STAGES],
        }
    )
