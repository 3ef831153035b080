"""Buying cycle: days between purchases, and each customer's expected next purchase date.

Orders on the same calendar day (UTC) are one purchase occasion, so a gap is at least one day.
Expected next = last purchase + the customer's own median gap; customers with a single purchase
date have no gap of their own and get the population median gap (the median of every gap in the
data). A customer is overdue when the expected date is before as-of.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from crmkit.analysis.common import (
    CustomerOrders,
    numbered,
    resolve_as_of,
    settings,
    workspace_orders,
    workspace_segments,
)
from crmkit.errors import DataError

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

ALL = "(all)"
BUCKETS = [7, 14, 30, 60, 90, 180, 365]

# Every function below takes the orders, or the same orders already numbered by customer
# (`customer_orders(orders, as_of)`, collected once when several results are wanted).
Orders = pl.LazyFrame | CustomerOrders


def _day_gaps(base: CustomerOrders) -> pl.LazyFrame:
    """One row per customer and purchase day: cid, day and gap_days, the days since the
    customer's previous purchase day (null on the first). Rows come sorted by cid then day."""
    cid, day = pl.col("cid"), pl.col("day")
    same = cid == cid.shift(1)
    gap = (day - day.shift(1)).dt.total_days().cast(pl.Int64)
    return (
        base.purchases()
        .select("cid", "day")
        .filter((~same | (day != day.shift(1))).fill_null(True))
        .with_columns(pl.when(same).then(gap).alias("gap_days"))
    )


def _gaps(days: pl.LazyFrame) -> pl.LazyFrame:
    return days.filter(pl.col("gap_days").is_not_null())


def purchase_days(orders: Orders, as_of: dt.date) -> pl.LazyFrame:
    """One row per customer and purchase day, with the day's net amount."""
    base = numbered(orders, as_of)
    return (
        base.purchases()
        .group_by("cid", "day")
        .agg(pl.col("net_amount").sum())
        .join(base.keys, on="cid")
        .select("customer_key", "day", "net_amount")
    )


def gaps(orders: Orders, as_of: dt.date) -> pl.LazyFrame:
    """Every gap in days between consecutive purchase days of a customer."""
    base = numbered(orders, as_of)
    return (
        _gaps(_day_gaps(base))
        .join(base.keys, on="cid", maintain_order="left")
        .select("customer_key", "day", "gap_days")
    )


def gap_distribution(
    orders: Orders, as_of: dt.date, segments: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """Summary of gaps overall (segment "(all)") and, given segments, per segment.

    Columns: segment, customers (with ≥ 1 gap), gaps, mean, p10, p25, median, p75, p90 (days).
    """
    base = numbered(orders, as_of)
    return _distribution(_day_gaps(base), base.keys, segments)


def _distribution(
    days: pl.LazyFrame, keys: pl.LazyFrame, segments: pl.LazyFrame | None
) -> pl.LazyFrame:
    g = _gaps(days).select("cid", "gap_days")
    stats = [
        pl.col("cid").n_unique().alias("customers"),
        pl.len().alias("gaps"),
        pl.col("gap_days").mean().alias("mean"),
        *(
            pl.col("gap_days").quantile(q, interpolation="linear").alias(name)
            for q, name in ((0.1, "p10"), (0.25, "p25"), (0.5, "median"), (0.75, "p75"))
        ),
        pl.col("gap_days").quantile(0.9, interpolation="linear").alias("p90"),
    ]
    parts = [g.with_columns(pl.lit(ALL).alias("segment")).group_by("segment").agg(stats)]
    if segments is not None:
        seg = keys.join(segments, on="customer_key", how="left").select(
            "cid", pl.col("segment").fill_null("(no segment)")
        )
        parts.append(g.join(seg, on="cid").group_by("segment").agg(stats))
    return pl.concat(parts).sort(pl.col("segment") != ALL, "segment")


def gap_histogram(orders: Orders, as_of: dt.date) -> pl.LazyFrame:
    """Gaps counted in buckets (≤7, 8–14, …, >365 days) with their share of all gaps."""
    return _histogram(_day_gaps(numbered(orders, as_of)))


def _histogram(days: pl.LazyFrame) -> pl.LazyFrame:
    labels = [f"{lo + 1}-{hi}" for lo, hi in zip([0, *BUCKETS[:-1]], BUCKETS, strict=True)]
    labels.append(f">{BUCKETS[-1]}")
    gap = pl.col("gap_days")
    index = pl.lit(len(BUCKETS))
    for i, hi in reversed(list(enumerate(BUCKETS))):
        index = pl.when(gap <= hi).then(pl.lit(i)).otherwise(index)
    names = pl.LazyFrame(
        {"i": range(len(labels)), "bucket": labels}, schema_overrides={"i": pl.Int64}
    )
    return (
        _gaps(days)
        .group_by(index.cast(pl.Int64).alias("i"))
        .agg(pl.len().cast(pl.Int64).alias("gaps"))
        .with_columns((pl.col("gaps") / pl.col("gaps").sum()).alias("share"))
        .join(names, on="i")
        .sort("i")
        .select("bucket", "gaps", "share")
    )


def next_orders(orders: Orders, as_of: dt.date) -> pl.LazyFrame:
    """Per customer: purchase days, last purchase, gap used, expected next date, overdue.

    gap_source is "own" (the customer's median gap) or "population" (one purchase day only).
    days_overdue = as_of − expected_next (positive when overdue).
    """
    base = numbered(orders, as_of)
    return _next(base, _day_gaps(base), as_of)


def _next(base: CustomerOrders, days: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    population = days.select(pl.col("gap_days").median().alias("population_gap"))
    per = days.group_by("cid").agg(
        pl.len().alias("purchase_days"),
        pl.col("day").max().alias("last_purchase"),
        pl.col("gap_days").median().alias("own_gap"),  # null with one purchase day
    )
    revenue = base.purchases().group_by("cid").agg(pl.col("net_amount").sum().alias("net_revenue"))
    gap = pl.coalesce("own_gap", "population_gap")
    return (
        per.join(revenue, on="cid")
        .join(base.keys, on="cid")
        .join(population, how="cross")
        .with_columns(
            gap.alias("gap_days"),
            pl.when(pl.col("own_gap").is_not_null())
            .then(pl.lit("own"))
            .otherwise(pl.lit("population"))
            .alias("gap_source"),
        )
        .with_columns(
            (pl.col("last_purchase") + pl.duration(days=pl.col("gap_days").round(0))).alias(
                "expected_next"
            )
        )
        .with_columns(
            (pl.lit(as_of) - pl.col("expected_next")).dt.total_days().alias("days_overdue")
        )
        .with_columns((pl.col("days_overdue") > 0).alias("overdue"))
        .sort("cid")  # cid numbers the customers in customer_key order
        .select(
            "customer_key",
            "purchase_days",
            "last_purchase",
            "gap_days",
            "gap_source",
            "expected_next",
            "days_overdue",
            "overdue",
            "net_revenue",
        )
    )


def overdue_valuable(
    next_frame: pl.LazyFrame,
    top: int = 50,
    *,
    as_of: dt.date | None = None,
    active_window: int | None = None,
) -> pl.LazyFrame:
    """The overdue customers with the most net revenue (ties by customer_key): who to call.

    With `as_of` and `active_window`, customers already churned (last purchase more than
    active_window days before as-of) are left out: the list is of those still worth a nudge.
    """
    lf = next_frame.filter(pl.col("overdue"))
    if as_of is not None and active_window is not None:
        cutoff = as_of - dt.timedelta(days=int(active_window))
        lf = lf.filter(pl.col("last_purchase") >= cutoff)
    return lf.sort(["net_revenue", "customer_key"], descending=[True, False]).head(top)


@dataclass(frozen=True)
class CycleResult:
    """Everything `crmkit cycle` shows: distribution, histogram, per-customer and overdue."""

    as_of: dt.date
    population_gap: float | None
    distribution: pl.DataFrame
    histogram: pl.DataFrame
    customers: pl.DataFrame
    overdue: pl.DataFrame
    by_segment: bool


def cycle_workspace(
    ws: Workspace,
    *,
    as_of: dt.date | None = None,
    top: int | None = None,
    numbered_orders: CustomerOrders | None = None,
) -> CycleResult:
    """Buying-cycle analysis of a workspace; segments from segment_history (rfm) when present.

    `numbered_orders`: the workspace's `customer_orders` up to as-of when the caller already
    has them collected (the report shares them between sections); otherwise computed here, once.
    """
    day = resolve_as_of(ws, as_of)
    base = numbered(numbered_orders or workspace_orders(ws, day, "the buying cycle"), day)
    days = _day_gaps(base).collect().lazy()  # read by all three results below
    segs = workspace_segments(ws, day)
    dist = _distribution(days, base.keys, segs).collect()
    if dist.height == 0:
        raise DataError(f"no customer has two purchase days up to {day}; no cycle to measure")
    nxt = _next(base, days, day).collect()
    n = int(top if top is not None else settings(ws)["cycle_top"])
    return CycleResult(
        as_of=day,
        population_gap=dist.filter(pl.col("segment") == ALL)["median"].item(),
        distribution=dist,
        histogram=_histogram(days).collect(),
        customers=nxt,
        overdue=overdue_valuable(
            nxt.lazy(), n, as_of=day, active_window=ws.config.windows["active_window"]
        ).collect(),
        by_segment=segs is not None,
    )
