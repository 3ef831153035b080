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
    purchases,
    require,
    resolve_as_of,
    settings,
    workspace_segments,
)
from crmkit.errors import DataError

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

ALL = "(all)"
BUCKETS = [7, 14, 30, 60, 90, 180, 365]


def purchase_days(orders: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """One row per customer and purchase day, with the day's net amount."""
    return (
        purchases(orders, as_of)
        .group_by("customer_key", pl.col("ordered_at").dt.date().alias("day"))
        .agg(pl.col("net_amount").sum())
    )


def gaps(orders: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """Every gap in days between consecutive purchase days of a customer."""
    return (
        purchase_days(orders, as_of)
        .sort("customer_key", "day")
        .with_columns(
            (pl.col("day") - pl.col("day").shift(1).over("customer_key"))
            .dt.total_days()
            .alias("gap_days")
        )
        .filter(pl.col("gap_days").is_not_null())
        .select("customer_key", "day", pl.col("gap_days").cast(pl.Int64))
    )


def gap_distribution(
    orders: pl.LazyFrame, as_of: dt.date, segments: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """Summary of gaps overall (segment "(all)") and, given segments, per segment.

    Columns: segment, customers (with ≥ 1 gap), gaps, mean, p10, p25, median, p75, p90 (days).
    """
    g = gaps(orders, as_of).with_columns(pl.lit(ALL).alias("segment"))
    frames = [g]
    if segments is not None:
        frames.append(
            g.drop("segment")
            .join(segments, on="customer_key", how="left")
            .with_columns(pl.col("segment").fill_null("(no segment)"))
        )
    stats = [
        pl.col("customer_key").n_unique().alias("customers"),
        pl.len().alias("gaps"),
        pl.col("gap_days").mean().alias("mean"),
        *(
            pl.col("gap_days").quantile(q, interpolation="linear").alias(name)
            for q, name in ((0.1, "p10"), (0.25, "p25"), (0.5, "median"), (0.75, "p75"))
        ),
        pl.col("gap_days").quantile(0.9, interpolation="linear").alias("p90"),
    ]
    return (
        pl.concat(frames, how="diagonal")
        .group_by("segment")
        .agg(stats)
        .sort(pl.col("segment") != ALL, "segment")
    )


def gap_histogram(orders: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """Gaps counted in buckets (≤7, 8–14, …, >365 days) with their share of all gaps."""
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
        gaps(orders, as_of)
        .group_by(index.cast(pl.Int64).alias("i"))
        .agg(pl.len().cast(pl.Int64).alias("gaps"))
        .with_columns((pl.col("gaps") / pl.col("gaps").sum()).alias("share"))
        .join(names, on="i")
        .sort("i")
        .select("bucket", "gaps", "share")
    )


def next_orders(orders: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """Per customer: purchase days, last purchase, gap used, expected next date, overdue.

    gap_source is "own" (the customer's median gap) or "population" (one purchase day only).
    days_overdue = as_of − expected_next (positive when overdue).
    """
    days = purchase_days(orders, as_of)
    g = gaps(orders, as_of)
    population = g.select(pl.col("gap_days").median().alias("population_gap"))
    own = g.group_by("customer_key").agg(pl.col("gap_days").median().alias("own_gap"))
    per = days.group_by("customer_key").agg(
        pl.len().alias("purchase_days"),
        pl.col("day").max().alias("last_purchase"),
        pl.col("net_amount").sum().alias("net_revenue"),
    )
    gap = pl.coalesce("own_gap", "population_gap")
    return (
        per.join(own, on="customer_key", how="left")
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
        .sort("customer_key")
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
    ws: Workspace, *, as_of: dt.date | None = None, top: int | None = None
) -> CycleResult:
    """Buying-cycle analysis of a workspace; segments from segment_history (rfm) when present."""
    day = resolve_as_of(ws, as_of)
    orders = require(ws, "orders", "the buying cycle")
    segs = workspace_segments(ws, day)
    dist = gap_distribution(orders, day, segs).collect()
    if dist.height == 0:
        raise DataError(f"no customer has two purchase days up to {day}; no cycle to measure")
    nxt = next_orders(orders, day).collect()
    n = int(top if top is not None else settings(ws)["cycle_top"])
    return CycleResult(
        as_of=day,
        population_gap=dist.filter(pl.col("segment") == ALL)["median"].item(),
        distribution=dist,
        histogram=gap_histogram(orders, day).collect(),
        customers=nxt,
        overdue=overdue_valuable(
            nxt.lazy(), n, as_of=day, active_window=ws.config.windows["active_window"]
        ).collect(),
        by_segment=segs is not None,
    )
