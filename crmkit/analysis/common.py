"""Shared pieces of the behaviour analyses: purchases, as-of bounds, settings, segments.

Purchases are orders with status completed or partially_refunded (METRICS.md); every analysis
counts only purchases placed up to the end of the as-of day, so reruns are reproducible.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

from crmkit.errors import DataError

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

PURCHASE_STATUSES = ("completed", "partially_refunded")

# Defaults of the `analysis:` config section (every key documented in docs/analysis.md).
DEFAULTS: dict[str, Any] = {
    "cohort_by": "month",
    "cycle_top": 50,
    "basket_level": "product",
    "basket_min_support": 0.01,
    "basket_min_confidence": 0.1,
    "basket_min_lift": 1.0,
    "paths_steps": 3,
    "paths_collapse_repeats": True,
    "drivers_min_n": 30,
    "feedback_top": 20,
}


def end_of(as_of: dt.date) -> dt.datetime:
    """The exclusive upper bound of the as-of day, in UTC (data is stored in UTC)."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def purchases(orders: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """Purchases by known customers up to the end of `as_of` (walk-ins have no customer_key)."""
    return orders.filter(
        pl.col("status").is_in(PURCHASE_STATUSES)
        & pl.col("customer_key").is_not_null()
        & (pl.col("ordered_at") < end_of(as_of))
    )


def settings(ws: Workspace) -> dict[str, Any]:
    """The `analysis:` config section over the defaults above."""
    return {**DEFAULTS, **ws.config.section("analysis")}


def resolve_as_of(ws: Workspace, as_of: dt.date | None) -> dt.date:
    """The given as-of date, or the last date in the data; an empty workspace is an error."""
    if as_of is not None:
        return as_of
    last = ws.last_date()
    if last is None:
        raise DataError("the workspace holds no dated data", hint="run `crmkit ingest` first")
    return last


def require(ws: Workspace, table: str, what: str) -> pl.LazyFrame:
    """A table the analysis cannot run without; missing or empty is a clear error."""
    if not ws.has_table(table):
        raise DataError(f"{what} needs the `{table}` table, which is empty or absent")
    return ws.table(table)


def latest_segments(
    history: pl.LazyFrame, as_of: dt.date | None = None, method: str = "rfm"
) -> pl.LazyFrame:
    """Each customer's latest segment of `method` recorded at or before `as_of`.

    Ties on as_of are broken by the larger run_id (the later run), never by row order.
    """
    lf = history.filter(pl.col("method") == method)
    if as_of is not None:
        lf = lf.filter(pl.col("as_of").cast(pl.Date) <= as_of)
    return (
        lf.sort(["customer_key", "as_of", "run_id"])
        .group_by("customer_key")
        .agg(pl.col("segment").last())
        .select("customer_key", "segment")
    )


def workspace_segments(ws: Workspace, as_of: dt.date) -> pl.LazyFrame | None:
    """Latest RFM segment per customer from segment_history, or None when there is none."""
    if not ws.has_table("segment_history"):
        return None
    return latest_segments(ws.table("segment_history"), as_of)
