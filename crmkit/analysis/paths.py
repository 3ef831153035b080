"""Paths: the most common sequences of event types in the last N steps before a first purchase
or before churn, with how many customers took each path and how many went on to buy.

first_order mode: every customer with events; the anchor is the first purchase (or as-of for
those who never bought); the path is the last N events strictly before the anchor; the customer
*converted* when they bought. churn mode: every buyer with events; churned = last purchase more
than active_window days before as-of; the anchor is the churn moment (last purchase +
active_window) for churned customers, else as-of; converted = a purchase after the path began.
Consecutive repeats of one event type collapse to one step unless disabled.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

import polars as pl

from crmkit.analysis.common import end_of, purchases, require, resolve_as_of, settings
from crmkit.errors import UsageError

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

Mode = Literal["first_order", "churn"]
MODES = ("first_order", "churn")
SEP = " > "


def _steps(events: pl.LazyFrame, as_of: dt.date, collapse: bool) -> pl.LazyFrame:
    """Events of known customers up to as-of, ordered deterministically, repeats collapsed."""
    lf = (
        events.filter(
            pl.col("customer_key").is_not_null() & (pl.col("occurred_at") < end_of(as_of))
        )
        .select("customer_key", "occurred_at", "event_type", pl.col("event_id").fill_null(""))
        .sort("customer_key", "occurred_at", "event_type", "event_id")
    )
    if collapse:
        prev = pl.col("event_type").shift(1).over("customer_key")
        lf = lf.filter(prev.is_null() | (prev != pl.col("event_type")))
    return lf


def customer_paths(
    events: pl.LazyFrame,
    orders: pl.LazyFrame,
    *,
    as_of: dt.date,
    mode: Mode = "first_order",
    steps: int = 3,
    active_window: int = 365,
    collapse_repeats: bool = True,
) -> pl.LazyFrame:
    """One row per customer: path (event types joined by " > "), converted, churned."""
    if mode not in MODES:
        raise UsageError(f"unknown path mode {mode!r}", hint="use first_order or churn")
    if steps < 1:
        raise UsageError("--steps must be at least 1")
    buys = (
        purchases(orders, as_of)
        .group_by("customer_key")
        .agg(
            pl.col("ordered_at").min().alias("first_at"),
            pl.col("ordered_at").max().alias("last_at"),
        )
    )
    ev = _steps(events, as_of, collapse_repeats)
    end = pl.lit(end_of(as_of))
    if mode == "first_order":
        anchored = ev.join(buys, on="customer_key", how="left").with_columns(
            pl.coalesce("first_at", end).alias("anchor"), pl.lit(False).alias("churned")
        )
    else:
        churn_at = pl.col("last_at") + pl.duration(days=active_window)
        anchored = ev.join(buys, on="customer_key", how="inner").with_columns(
            (pl.col("last_at") < pl.lit(end_of(as_of) - dt.timedelta(days=active_window))).alias(
                "churned"
            )
        )
        anchored = anchored.with_columns(
            pl.when(pl.col("churned")).then(churn_at).otherwise(end).alias("anchor")
        )
    per = (
        anchored.filter(pl.col("occurred_at") < pl.col("anchor"))
        .group_by("customer_key")
        .agg(
            pl.col("event_type").tail(steps).alias("steps"),
            pl.col("occurred_at").tail(steps).first().alias("path_start"),
            pl.col("first_at").first(),
            pl.col("last_at").first(),
            pl.col("churned").first(),
        )
    )
    converted = (
        pl.col("first_at").is_not_null()
        if mode == "first_order"
        else pl.col("last_at") > pl.col("path_start")
    )
    return per.select(
        "customer_key",
        pl.col("steps").list.join(SEP).alias("path"),
        converted.fill_null(False).alias("converted"),
        "churned",
    ).sort("customer_key")


def path_counts(paths: pl.LazyFrame, top: int | None = 20) -> pl.LazyFrame:
    """Paths by customers: customers, converted, conversion, churned, churn_share (ties by name)."""
    lf = (
        paths.group_by("path")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("converted").sum().cast(pl.Int64).alias("converted"),
            pl.col("churned").sum().cast(pl.Int64).alias("churned"),
        )
        .with_columns(
            (pl.col("converted") / pl.col("customers")).alias("conversion"),
            (pl.col("churned") / pl.col("customers")).alias("churn_share"),
        )
        .select("path", "customers", "converted", "conversion", "churned", "churn_share")
        .sort(["customers", "path"], descending=[True, False])
    )
    return lf.head(top) if top else lf


def paths_workspace(
    ws: Workspace,
    *,
    as_of: dt.date | None = None,
    mode: Mode = "first_order",
    steps: int | None = None,
    top: int | None = 20,
) -> pl.DataFrame:
    """Most common paths in a workspace (steps from analysis.paths_steps)."""
    cfg = settings(ws)
    day = resolve_as_of(ws, as_of)
    events = require(ws, "events", "path analysis")
    paths = customer_paths(
        events,
        ws.table("orders"),
        as_of=day,
        mode=mode,
        steps=int(steps or cfg["paths_steps"]),
        active_window=int(ws.config.windows["active_window"]),
        collapse_repeats=bool(cfg["paths_collapse_repeats"]),
    )
    out = path_counts(paths, top).collect()
    return out if mode == "churn" else out.drop("churned", "churn_share")
