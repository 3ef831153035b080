"""Value tiers gold / silver / regular (黄金 / 白银 / 普通) from a value and a loyalty score.

Each component is turned into a percentile rank in (0, 1] (`rank(average) / n`, so ties share a
rank and outliers do not dominate). value = weighted mean of net revenue and profit
contribution; loyalty = weighted mean of repurchases (orders − 1), tenure, referrals made and
the latest NPS answer. A component that is unknown for a customer (no cost data, no NPS) is left
out of that customer's weighted mean. score = value_weight·value + loyalty_weight·loyalty,
rounded to 6 decimals.

Cut-offs, `percentiles` mode (default gold 20 %, silver 30 %): let `better` = number of customers
with a strictly higher score. gold ⇔ better < gold·n; silver ⇔ better < (gold + silver)·n;
regular otherwise (compared exactly, in integers). Ties therefore go to the higher tier, and a
tier holds exactly its share when there are no ties at the boundary. `absolute` mode: gold ⇔
score ≥ gold, silver ⇔ score ≥ silver (scores in [0, 1]).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import polars as pl

from crmkit.errors import ConfigError

TIERS = ("gold", "silver", "regular")
LABELS = {
    "gold": ("Gold", "黄金客户"),
    "silver": ("Silver", "白银客户"),
    "regular": ("Regular", "普通客户"),
}
TREATMENTS = {
    "gold": (
        "Retain and reward: personal service, exclusive offers, early access.",
        "重点维护：专属服务、专享优惠、新品优先。",
    ),
    "silver": (
        "Grow: cross-sell and loyalty incentives to move up to gold.",
        "培育提升：交叉销售与会员激励，促其升级为黄金客户。",
    ),
    "regular": (
        "Serve efficiently: automated low-cost campaigns; watch for rising customers.",
        "高效服务：自动化低成本营销，发掘有潜力的客户。",
    ),
}
VALUE_COMPONENTS = ("net_revenue", "profit")
LOYALTY_COMPONENTS = ("repurchase", "tenure", "referrals", "nps")


@dataclass(frozen=True)
class TierOptions:
    """Weights of the components and of value vs loyalty, and the tier cut-offs."""

    value: dict[str, float] = field(default_factory=lambda: {"net_revenue": 0.5, "profit": 0.5})
    loyalty: dict[str, float] = field(
        default_factory=lambda: {"repurchase": 0.25, "tenure": 0.25, "referrals": 0.25, "nps": 0.25}
    )
    value_weight: float = 0.6
    loyalty_weight: float = 0.4
    mode: str = "percentiles"  # or "absolute"
    gold: float = 0.20
    silver: float = 0.30  # percentiles: share of customers; absolute: minimum score

    @staticmethod
    def from_config(raw: dict[str, Any]) -> TierOptions:
        """Read `segment.tiers` (every key optional) and check it."""
        base = TierOptions()
        cut = raw.get("cutoffs") or {}
        opts = TierOptions(
            value=dict(raw.get("value") or base.value),
            loyalty=dict(raw.get("loyalty") or base.loyalty),
            value_weight=float(raw.get("value_weight", base.value_weight)),
            loyalty_weight=float(raw.get("loyalty_weight", base.loyalty_weight)),
            mode=str(cut.get("mode", base.mode)),
            gold=float(cut.get("gold", base.gold)),
            silver=float(cut.get("silver", base.silver)),
        )
        opts.check()
        return opts

    def check(self) -> None:
        bad = sorted(set(self.value) - set(VALUE_COMPONENTS)) + sorted(
            set(self.loyalty) - set(LOYALTY_COMPONENTS)
        )
        if bad:
            raise ConfigError(
                f"segment.tiers: unknown component(s) {', '.join(bad)}",
                hint=f"value: {', '.join(VALUE_COMPONENTS)}; "
                f"loyalty: {', '.join(LOYALTY_COMPONENTS)}",
            )
        weights = [*self.value.values(), *self.loyalty.values(), self.value_weight]
        if any(w < 0 for w in [*weights, self.loyalty_weight]):
            raise ConfigError("segment.tiers: weights must not be negative")
        if self.value_weight + self.loyalty_weight <= 0:
            raise ConfigError("segment.tiers: value_weight + loyalty_weight must be positive")
        if self.mode not in ("percentiles", "absolute"):
            raise ConfigError("segment.tiers.cutoffs.mode must be `percentiles` or `absolute`")
        if self.mode == "percentiles" and not (
            0 <= self.gold <= 1 and 0 <= self.silver <= 1 and self.gold + self.silver <= 1
        ):
            raise ConfigError("segment.tiers.cutoffs: gold + silver shares must lie in 0..1")
        if self.mode == "absolute" and not 0 <= self.silver <= self.gold <= 1:
            raise ConfigError("segment.tiers.cutoffs: need 0 ≤ silver ≤ gold ≤ 1 (absolute)")


def _pct(col: str) -> pl.Expr:
    """Percentile rank in (0, 1]; nulls stay null (and are left out of the weighted mean)."""
    x = pl.col(col)
    return x.rank("average") / x.count()


def _weighted(parts: dict[str, float]) -> pl.Expr:
    """Σ w·x / Σ w over the components that are known for the row."""
    num = pl.sum_horizontal([pl.col(f"_{k}").fill_null(0) * w for k, w in parts.items()])
    den = pl.sum_horizontal(
        [pl.col(f"_{k}").is_not_null().cast(pl.Float64) * w for k, w in parts.items()]
    )
    return pl.when(den > 0).then(num / den).otherwise(0.0)


def tier_segments(
    facts: pl.DataFrame, extras: pl.DataFrame, opts: TierOptions
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Tier every purchasing customer.

    `facts` from `customer_facts`; `extras` has customer_key, referrals (count) and nps (latest
    answer, nullable). Returns members (customer_key, value_score, loyalty_score, score, segment)
    and the settings used (weights and the cut-offs as scores).
    """
    df = facts.join(extras, on="customer_key", how="left").with_columns(
        pl.col("revenue_all").cast(pl.Float64).alias("_net_revenue_raw"),
        pl.col("profit").cast(pl.Float64).alias("_profit_raw"),
        (pl.col("orders_all") - 1).alias("_repurchase_raw"),
        pl.col("tenure_days").alias("_tenure_raw"),
        pl.col("referrals").fill_null(0).alias("_referrals_raw"),
        pl.col("nps").cast(pl.Float64).alias("_nps_raw"),
    )
    df = df.with_columns(
        _pct(f"_{k}_raw").alias(f"_{k}") for k in (*VALUE_COMPONENTS, *LOYALTY_COMPONENTS)
    )
    total = opts.value_weight + opts.loyalty_weight
    df = df.with_columns(
        _weighted(opts.value).alias("value_score"),
        _weighted(opts.loyalty).alias("loyalty_score"),
    ).with_columns(
        (
            (
                pl.col("value_score") * opts.value_weight
                + pl.col("loyalty_score") * opts.loyalty_weight
            )
            / total
        )
        .round(6)
        .alias("score")
    )
    n = df.height
    if opts.mode == "percentiles":
        g = Fraction(str(opts.gold))
        s = g + Fraction(str(opts.silver))
        better = (pl.col("score").rank("min", descending=True) - 1).cast(pl.Int64)
        # better < share·n  ⇔  better·den < num·n   (exact integer comparison)
        tier = (
            pl.when(better * g.denominator < g.numerator * n)
            .then(pl.lit("gold"))
            .when(better * s.denominator < s.numerator * n)
            .then(pl.lit("silver"))
            .otherwise(pl.lit("regular"))
        )
    else:
        tier = (
            pl.when(pl.col("score") >= opts.gold)
            .then(pl.lit("gold"))
            .when(pl.col("score") >= opts.silver)
            .then(pl.lit("silver"))
            .otherwise(pl.lit("regular"))
        )
    out = df.select(
        "customer_key",
        pl.col("value_score").round(6),
        pl.col("loyalty_score").round(6),
        "score",
        tier.alias("segment"),
    ).sort("customer_key")
    mins = out.group_by("segment").agg(pl.col("score").min()).rows()
    settings = {
        "value_components": opts.value,
        "loyalty_components": opts.loyalty,
        "value_weight": opts.value_weight,
        "loyalty_weight": opts.loyalty_weight,
        "cutoffs": {"mode": opts.mode, "gold": opts.gold, "silver": opts.silver},
        "lowest_score_in_tier": dict(sorted(mins)),
        "cut_points": [
            f"weights: value {opts.value_weight:g} ({_w(opts.value)}), "
            f"loyalty {opts.loyalty_weight:g} ({_w(opts.loyalty)})",
            (
                f"gold = top {opts.gold:.0%}, silver = next {opts.silver:.0%} "
                "(ties go to the higher tier)"
                if opts.mode == "percentiles"
                else f"gold: score ≥ {opts.gold:g}, silver: score ≥ {opts.silver:g}"
            ),
        ],
    }
    return out, settings


def _w(parts: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in parts.items())


def tier_catalog() -> pl.DataFrame:
    """Labels and recommended treatment of each tier, in display order."""
    return pl.DataFrame(
        {
            "segment": list(TIERS),
            "label_en": [LABELS[t][0] for t in TIERS],
            "label_zh": [LABELS[t][1] for t in TIERS],
            "treatment_en": [TREATMENTS[t][0] for t in TIERS],
            "treatment_zh": [TREATMENTS[t][1] for t in TIERS],
        }
    )
