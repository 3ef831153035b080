"""Cohorts: customers grouped by first-purchase month/quarter or acquisition channel, followed
period by period (retained customers, orders, revenue, as counts and shares).

A cell is *incomplete* — null, never 0 — when its calendar period is not fully inside the data
up to as-of. Periods are counted from each customer's first-purchase period (period 0).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import TYPE_CHECKING, Literal

import polars as pl

from crmkit.analysis.common import (
    CustomerOrders,
    numbered,
    resolve_as_of,
    settings,
    workspace_orders,
)
from crmkit.errors import DataError, UsageError

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

CohortBy = Literal["month", "quarter", "channel"]
COHORT_BY = ("month", "quarter", "channel")
UNKNOWN_CHANNEL = "(unknown)"


def _index(months: int, year: pl.Expr, month: pl.Expr) -> pl.Expr:
    """A running period number (months since year 0, or quarters) for period arithmetic."""
    return (year.cast(pl.Int64) * 12 + month.cast(pl.Int64) - 1) // months


def _last_complete(as_of: dt.date, months: int) -> tuple[int, int]:
    """(index of the period holding as-of, index of the last period fully inside the data)."""
    current = (as_of.year * 12 + as_of.month - 1) // months
    end_month = (current * months) % 12 + months  # last month of the current period, 1..12
    end = dt.date(as_of.year, end_month, calendar.monthrange(as_of.year, end_month)[1])
    return current, current if as_of >= end else current - 1


def cohort_table(
    orders: pl.LazyFrame | CustomerOrders,
    *,
    as_of: dt.date,
    by: CohortBy = "month",
    customers: pl.LazyFrame | None = None,
    period: Literal["month", "quarter"] | None = None,
) -> pl.LazyFrame:
    """Long cohort frame: one row per (cohort, period) with counts and shares.

    Columns: cohort, cohort_start (date of the cohort's first period; null for channels),
    period (0 = first-purchase period), cohort_size, eligible (customers whose period is
    complete), customers (retained: purchased in the period), retained_share, orders,
    orders_per_customer, revenue (exact), revenue_per_customer, complete.
    `by="channel"` needs `customers` (acquisition_channel); its periods are months unless
    `period="quarter"`. For month/quarter cohorts the period length follows `by`.
    `orders` may be the orders already numbered by customer (`customer_orders(orders, as_of)`).
    """
    if by not in COHORT_BY:
        raise UsageError(f"unknown cohort grouping {by!r}", hint="use month, quarter or channel")
    unit = period or ("quarter" if by == "quarter" else "month")
    months = 3 if unit == "quarter" else 1
    current, last_complete = _last_complete(as_of, months)
    base = numbered(orders, as_of)
    day = pl.col("day")  # the UTC date of the order, so months are UTC months as stored
    buys = base.purchases().select(
        "cid", _index(months, day.dt.year(), day.dt.month()).alias("idx"), "net_amount"
    )
    first = buys.group_by("cid").agg(pl.col("idx").min().alias("first_idx"))
    if by == "channel":
        if customers is None:
            raise UsageError("channel cohorts need the customers table")
        chan = customers.select(
            "customer_key",
            pl.col("acquisition_channel").fill_null(UNKNOWN_CHANNEL).alias("cohort"),
        ).unique("customer_key", keep="first")
        first = (
            first.join(base.keys, on="cid")
            .join(chan, on="customer_key", how="left")
            .with_columns(pl.col("cohort").fill_null(UNKNOWN_CHANNEL))
            .with_columns(pl.lit(None, pl.Date).alias("cohort_start"))
        )
    else:
        y = pl.col("first_idx") * months // 12
        m = pl.col("first_idx") * months % 12 + 1
        label = (
            y.cast(pl.String) + "-" + m.cast(pl.String).str.zfill(2)
            if months == 1
            else y.cast(pl.String) + "Q" + ((m - 1) // 3 + 1).cast(pl.String)
        )
        first = first.with_columns(label.alias("cohort"), pl.date(y, m, 1).alias("cohort_start"))
    # An integer per cohort, so the per-order pass below groups integers, not labels.
    first = first.with_columns(pl.col("cohort").rank("dense").cast(pl.Int64).alias("cno"))
    sizes = first.group_by("cohort", "first_idx").agg(pl.len().alias("n"))
    max_k = (current - pl.col("first_idx").min()).alias("max_k")
    ks = sizes.select(pl.int_ranges(0, max_k + 1).alias("period")).explode("period")
    grid = (
        sizes.join(ks, how="cross")
        .filter(pl.col("first_idx") + pl.col("period") <= current)
        .with_columns((pl.col("first_idx") + pl.col("period") <= last_complete).alias("done"))
        .group_by("cohort", "period")
        .agg(
            pl.col("n").filter(pl.col("done")).sum().alias("eligible"),
            pl.col("first_idx").min().alias("first_idx"),
        )
    )
    cohort_info = first.group_by("cohort").agg(
        pl.len().alias("cohort_size"), pl.col("cohort_start").first()
    )
    # Orders come sorted by customer and day, so a customer's orders of one period are
    # adjacent: the first of them counts the customer once (no distinct count needed).
    cid, idx = pl.col("cid"), pl.col("idx")
    first_in_period = ((cid != cid.shift(1)) | (idx != idx.shift(1))).fill_null(True)
    activity = (
        buys.with_columns(first_in_period.alias("new"))
        .filter(idx <= last_complete)
        .join(first.select("cid", "cno", "first_idx"), on="cid")
        .group_by("cno", (idx - pl.col("first_idx")).alias("period"))
        .agg(
            pl.col("new").sum().alias("customers"),
            pl.len().alias("orders"),
            pl.col("net_amount").sum().alias("revenue"),
        )
        .join(first.select("cno", "cohort").unique(), on="cno")
        .drop("cno")
    )
    complete = pl.col("eligible") > 0

    def when_complete(expr: pl.Expr) -> pl.Expr:
        return pl.when(complete).then(expr)

    eligible = pl.col("eligible").cast(pl.Float64)
    return (
        grid.join(activity, on=["cohort", "period"], how="left")
        .join(cohort_info, on="cohort", how="left")
        .with_columns(pl.col("period").cast(pl.Int64))
        .select(
            "cohort",
            "cohort_start",
            "period",
            pl.col("cohort_size").cast(pl.Int64),
            when_complete(pl.col("eligible")).cast(pl.Int64).alias("eligible"),
            when_complete(pl.col("customers").fill_null(0)).cast(pl.Int64).alias("customers"),
            when_complete(pl.col("customers").fill_null(0) / eligible).alias("retained_share"),
            when_complete(pl.col("orders").fill_null(0)).cast(pl.Int64).alias("orders"),
            when_complete(pl.col("orders").fill_null(0) / eligible).alias("orders_per_customer"),
            when_complete(pl.col("revenue").fill_null(0)).alias("revenue"),
            when_complete(pl.col("revenue").fill_null(0).cast(pl.Float64) / eligible).alias(
                "revenue_per_customer"
            ),
            complete.alias("complete"),
            "first_idx",
        )
        .sort("first_idx", "cohort", "period")
        .drop("first_idx")
    )


def cohort_matrix(table: pl.DataFrame, value: str = "retained_share") -> pl.DataFrame:
    """Wide heatmap frame: one row per cohort, one column per period ("0", "1", …)."""
    order = table.select("cohort", "cohort_size").unique(
        "cohort", keep="first", maintain_order=True
    )
    wide = table.with_columns(pl.col("period").cast(pl.String)).pivot(
        on="period", index="cohort", values=value, sort_columns=False
    )
    periods = sorted((c for c in wide.columns if c != "cohort"), key=int)
    return order.join(wide, on="cohort", how="left", maintain_order="left").select(
        "cohort", "cohort_size", *periods
    )


def cohorts_workspace(
    ws: Workspace, *, as_of: dt.date | None = None, by: CohortBy | None = None
) -> pl.DataFrame:
    """Cohort table of a workspace (see `cohort_table`); `by` defaults to analysis.cohort_by."""
    day = resolve_as_of(ws, as_of)
    grouping = by or settings(ws)["cohort_by"]
    base = workspace_orders(ws, day, "cohort analysis")  # read by several parts of the plan
    customers = ws.table("customers") if grouping == "channel" else None
    out = cohort_table(base, as_of=day, by=grouping, customers=customers).collect()
    if out.height == 0:
        raise DataError(f"no purchases by known customers up to {day}")
    return out
