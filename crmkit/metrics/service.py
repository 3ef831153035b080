"""Service metrics from tickets created in the period: complaints, resolution, speed, cost."""

from __future__ import annotations

import polars as pl

from crmkit.metrics.context import Context, ratio
from crmkit.metrics.registry import Unavailable, metric
from crmkit.metrics.retention import BASE_CAVEAT, WINDOW, base_rate

RESOLVED = ("solved", "closed")


def tickets(ctx: Context) -> pl.LazyFrame:
    return ctx.in_period("tickets", "created_at")


@metric(
    "complaint_rate",
    en="Complaint rate",
    zh="客户投诉率",
    family="service",
    definition="Customers of the base with at least one complaint ticket created in the period.",
    formula="customers with ≥ 1 complaint ticket / customers",
    unit="ratio",
    direction="lower_is_better",
    tables=("orders", "tickets"),
    settings=WINDOW,
    caveats=(BASE_CAVEAT,),
    inputs={"complainers": "base customers with a complaint", "customers": "customer base"},
)
def complaint_rate(ctx: Context) -> pl.DataFrame:
    lf = tickets(ctx)
    if "is_complaint" not in lf.collect_schema().names():
        raise Unavailable("needs tickets.is_complaint")
    flags = (
        lf.filter(pl.col("is_complaint").fill_null(False) & pl.col("customer_key").is_not_null())
        .select("customer_key")
        .unique()
        .with_columns(complainers=pl.lit(True))
        .collect()
    )
    return base_rate(ctx, flags, "complainers")


@metric(
    "resolution_rate",
    en="Resolution rate",
    zh="客户问题解决率",
    family="service",
    definition="Tickets created in the period that are now solved or closed.",
    formula="tickets solved or closed / tickets created in period",
    unit="ratio",
    direction="higher_is_better",
    tables=("tickets",),
    order_dims=False,
    caveats=("Status is the ticket's current status, not its status at the period end.",),
    inputs={"resolved": "solved or closed", "created": "tickets created"},
)
def resolution_rate(ctx: Context) -> pl.DataFrame:
    lf = ctx.rows_by(tickets(ctx), "tickets")
    return ctx.group(
        lf,
        resolved=pl.col("status").is_in(RESOLVED).sum().cast(pl.Int64),
        created=pl.len().cast(pl.Int64),
    ).with_columns(value=ratio(pl.col("resolved"), pl.col("created")), n=pl.col("created"))


def _duration(ctx: Context, end_col: str, what: str) -> pl.DataFrame:
    hours = (pl.col(end_col) - pl.col("created_at")).dt.total_seconds() / 3600
    lf = ctx.rows_by(tickets(ctx), "tickets").with_columns(_h=hours)
    valid = pl.col("_h").filter(pl.col("_h") >= 0)
    out = ctx.group(
        lf,
        value=valid.median(),
        p90=valid.quantile(0.9, interpolation="linear"),
        n=(pl.col("_h") >= 0).sum().cast(pl.Int64),
        negative=(pl.col("_h") < 0).sum().cast(pl.Int64),
    )
    if out.height == 0 or int(out["n"].sum()) == 0:
        raise Unavailable(f"no tickets with {what} in the period")
    return out


@metric(
    "first_response_time",
    en="First response time",
    zh="客户反馈响应时间",
    family="service",
    definition="Median (and p90) hours from ticket creation to first response, tickets created "
    "in the period.",
    formula="median and p90 of first_response_at − created_at",
    unit="hours",
    direction="lower_is_better",
    tables=("tickets",),
    order_dims=False,
    caveats=("Tickets without a response, or with a response before creation, are left out.",),
)
def first_response_time(ctx: Context) -> pl.DataFrame:
    return _duration(ctx, "first_response_at", "a first response")


@metric(
    "resolution_time",
    en="Resolution time",
    zh="解决时长",
    family="service",
    definition="Median (and p90) hours from ticket creation to resolution, tickets created in "
    "the period.",
    formula="median and p90 of resolved_at − created_at",
    unit="hours",
    direction="lower_is_better",
    tables=("tickets",),
    order_dims=False,
    caveats=("Unresolved tickets are left out (see resolution_rate).",),
)
def resolution_time(ctx: Context) -> pl.DataFrame:
    return _duration(ctx, "resolved_at", "a resolution")


@metric(
    "support_cost_per_customer",
    en="Support cost per customer",
    zh="客户支持成本",
    family="service",
    definition="Ticket handling cost in the period per customer who raised a ticket.",
    formula="Σ handling_cost of tickets created in period / customers who raised a ticket",
    unit="currency",
    direction="lower_is_better",
    tables=("tickets",),
    order_dims=False,
    inputs={"cost": "handling cost", "customers": "customers with a ticket"},
)
def support_cost_per_customer(ctx: Context) -> pl.DataFrame:
    lf = tickets(ctx)
    if "handling_cost" not in lf.collect_schema().names():
        raise Unavailable("needs tickets.handling_cost")
    known = lf.filter(pl.col("handling_cost").is_not_null()).select(pl.len()).collect().item()
    if known == 0:
        raise Unavailable("needs tickets.handling_cost (empty for the period's tickets)")
    out = ctx.group(
        ctx.rows_by(lf, "tickets"),
        cost=pl.col("handling_cost").cast(pl.Float64).sum(),
        customers=pl.col("customer_key").drop_nulls().n_unique().cast(pl.Int64),
    )
    return out.with_columns(value=ratio(pl.col("cost"), pl.col("customers")), n=pl.col("customers"))
