"""Shared pieces of the behaviour analyses: purchases, as-of bounds, settings, segments.

Purchases are orders with status completed or partially_refunded (METRICS.md); every analysis
counts only purchases placed up to the end of the as-of day, so reruns are reproducible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from crmkit.errors import DataError
from crmkit.numbers import customer_day_order, orders_numbered, workspace_customer_keys

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


@dataclass(frozen=True)
class CustomerOrders:
    """The orders of known customers up to the end of `as_of`, with each customer numbered:
    what cohorts, the buying cycle and the report's trends derive their per-customer figures from.

    `keys`: cid (UInt32, numbered in customer_key order) and customer_key, one row per customer;
    `rows`: cid, ordered_at, day (its UTC date), status (categorical), purchase (the status is a
    purchase status) and net_amount, one row per order, sorted by cid then day (cid flagged
    sorted). The string keys are hashed once, here; every per-customer step after it is a pass
    over sorted integers, which at 10M orders is what makes it fast. `collect()` it once when
    several results are derived from it.
    """

    as_of: dt.date
    keys: pl.LazyFrame
    rows: pl.LazyFrame

    def purchases(self) -> pl.LazyFrame:
        """The rows that are purchases (`purchases` above, numbered)."""
        return self.rows.filter(pl.col("purchase"))

    def collect(self) -> CustomerOrders:
        """The same, computed once."""
        keys, rows = pl.collect_all([self.keys, self.rows])
        return CustomerOrders(self.as_of, keys.lazy(), rows.lazy())


def customer_orders(
    orders: pl.LazyFrame, as_of: dt.date, customer_keys: pl.Series | None = None
) -> CustomerOrders:
    """The orders with a customer_key placed up to the end of `as_of`, numbered by customer
    (see `CustomerOrders`); lazy.

    `customer_keys`: the keys of `customers` in `customer_no` order
    (`crmkit.numbers.customer_keys_by_number`). With it, and a number on every keyed order, the
    orders' own `customer_no` is the cid (it follows key order too; customers without an order
    are gaps, which nothing downstream minds): no string is hashed at all.
    """
    cols = ["ordered_at", "status", "net_amount"]
    if customer_keys is not None and orders_numbered(orders):
        rows = orders.filter(
            pl.col("customer_no").is_not_null() & (pl.col("ordered_at") < end_of(as_of))
        ).select(pl.col("customer_no").cast(pl.UInt32).alias("cid"), *cols)
        return _sorted_rows(as_of, rows, customer_keys)
    per = (
        orders.filter(pl.col("customer_key").is_not_null() & (pl.col("ordered_at") < end_of(as_of)))
        .with_columns(pl.col("status").cast(pl.Categorical))  # 4 bytes a value in the lists
        .group_by("customer_key")
        .agg(cols)
        # numbered in key order by rank: sorting this frame would move every order's values
        .with_columns((pl.col("customer_key").rank("ordinal") - 1).alias("cid"))
        .cache()
    )
    rows = per.select("cid", *cols).explode(cols)
    return _sorted_rows(as_of, rows, per.select("cid", "customer_key").sort("cid"))


def _sorted_rows(
    as_of: dt.date, rows: pl.LazyFrame, keys: pl.LazyFrame | pl.Series
) -> CustomerOrders:
    """`CustomerOrders` from (cid, ordered_at, status, net_amount) rows and the customers' keys:
    a frame (cid, customer_key), or every key in number order (kept for the cids present)."""
    day = pl.col("ordered_at").dt.date()
    order = customer_day_order(pl.col("cid"), day)  # cids are UInt32 below 2^31 customers
    sorted_rows = (
        rows.sort(order)
        .set_sorted("cid")
        .select(
            "cid",
            "ordered_at",
            day.alias("day"),
            pl.col("status").cast(pl.Categorical),  # a handful of values: 4 bytes each
            pl.col("status").is_in(PURCHASE_STATUSES).alias("purchase"),
            "net_amount",
        )
        .cache()
    )
    if isinstance(keys, pl.Series):
        keys = sorted_rows.select(pl.col("cid").unique(maintain_order=True)).with_columns(
            pl.lit(keys).gather(pl.col("cid")).alias("customer_key")
        )
    return CustomerOrders(as_of, keys, sorted_rows)


def workspace_orders(ws: Workspace, as_of: dt.date, what: str) -> CustomerOrders:
    """The workspace's `customer_orders` up to `as_of`, collected: numbered by `customer_no`
    when the workspace's numbers can be trusted (`crmkit.numbers`), by key otherwise. `what`
    names the analysis in the error when there are no orders."""
    orders = require(ws, "orders", what)
    return customer_orders(orders, as_of, workspace_customer_keys(ws)).collect()


def numbered(orders: pl.LazyFrame | CustomerOrders, as_of: dt.date) -> CustomerOrders:
    """`orders` numbered by customer, unless they already are (then for the same as-of)."""
    if not isinstance(orders, CustomerOrders):
        return customer_orders(orders, as_of)
    if orders.as_of != as_of:
        from crmkit.errors import UsageError

        raise UsageError(f"orders numbered up to {orders.as_of} given for as-of {as_of}")
    return orders


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
