"""Acquisition metrics: new customers, CAC, CAC payback and prospect conversion.

A new customer's first completed order falls in the period. Spend is `marketing_spend.cost`
(marketing and sales cost types) dated in the period, in the workspace currency.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from crmkit.metrics.context import Context, customer_firsts, local_date, ratio
from crmkit.metrics.registry import Unavailable, metric
from crmkit.metrics.retention import DAYS_PER_MONTH
from crmkit.metrics.value import check_margin, margin_frame

SPEND_DIM = "acquisition_channel"


@metric(
    "new_customers",
    en="New customers",
    zh="新客户数",
    family="acquisition",
    definition="Customers whose first completed order falls in the period.",
    formula="count of customers with first completed order in period",
    unit="count",
    direction="higher_is_better",
    tables=("orders",),
    settings=("metrics.completed_statuses",),
    caveats=("With an order column in --by, 'new' means new to that group (e.g. channel).",),
)
def new_customers(ctx: Context) -> pl.DataFrame:
    return ctx.group(ctx.customers, n=pl.col("new").sum().cast(pl.Int64)).with_columns(
        value=pl.col("n").cast(pl.Float64)
    )


def spend(ctx: Context) -> pl.DataFrame:
    """Marketing + sales cost in the period, per acquisition channel when that is the breakdown."""
    if ctx.by and ctx.by != [SPEND_DIM]:
        raise Unavailable(f"spend can be split only by {SPEND_DIM} (marketing_spend.channel)")
    lf = ctx.in_period("marketing_spend", "date", whole=True)
    if ctx.by:
        lf = lf.rename({"channel": SPEND_DIM})
    return ctx.group(lf, spend=pl.col("cost").cast(pl.Float64).sum())


def _new(ctx: Context) -> pl.DataFrame:
    new = ctx.customers.filter(pl.col("new"))
    return ctx.group(
        margin_frame(ctx, new),
        new=pl.len().cast(pl.Int64),
        margin=pl.when(pl.col("margin").null_count() == 0).then(pl.col("margin").sum()),
        cost_missing=pl.col("cost_missing_p").sum().cast(pl.Int64),
    )


def _with_new(ctx: Context, cost: pl.DataFrame) -> pl.DataFrame:
    new = _new(ctx)
    if ctx.by:
        return cost.join(new, on=ctx.by, how="full", coalesce=True, nulls_equal=True).with_columns(
            pl.col("new").fill_null(0), pl.col("spend").fill_null(0.0)
        )
    return pl.concat([cost, new], how="horizontal")


@metric(
    "cac",
    en="Customer acquisition cost",
    zh="客户获取成本",
    family="acquisition",
    definition="Marketing and sales cost in the period per new customer.",
    formula="(marketing cost + sales cost in period) / new customers in period",
    unit="currency",
    direction="lower_is_better",
    tables=("orders", "marketing_spend"),
    settings=("metrics.completed_statuses",),
    caveats=(
        "Split only by acquisition_channel, matched to marketing_spend.channel.",
        "Unavailable when marketing_spend starts after the period start (spend would be "
        "understated).",
    ),
    order_dims=False,
    inputs={"spend": "marketing + sales cost", "new": "new customers"},
)
def cac(ctx: Context) -> pl.DataFrame:
    frame = _with_new(ctx, spend(ctx))
    return frame.select(*ctx.by, "spend", "new").with_columns(
        value=ratio(pl.col("spend"), pl.col("new")), n=pl.col("new")
    )


@metric(
    "cac_payback_months",
    en="CAC payback period",
    zh="CAC 回收期",
    family="acquisition",
    definition="Months of a new customer's gross margin needed to recover the CAC.",
    formula="CAC / (gross margin of new customers in period / new customers / months in period)",
    unit="months",
    direction="lower_is_better",
    tables=("orders", "marketing_spend"),
    settings=("metrics.completed_statuses", "metrics.gross_margin"),
    caveats=(
        "Gross margin = net − cost_amount; where cost_amount is missing, net × "
        "metrics.gross_margin; unavailable when neither is known.",
        "New customers join during the period, so their monthly margin is understated in long "
        "periods.",
    ),
    order_dims=False,
)
def cac_payback_months(ctx: Context) -> pl.DataFrame:
    frame = _with_new(ctx, spend(ctx))
    check_margin(frame)
    months = ctx.period.days / DAYS_PER_MONTH
    return frame.with_columns(
        cac=ratio(pl.col("spend"), pl.col("new")),
        monthly_margin_per_new=ratio(pl.col("margin"), pl.col("new")) / months,
    ).with_columns(
        value=pl.when(pl.col("monthly_margin_per_new") > 0).then(
            pl.col("cac") / pl.col("monthly_margin_per_new")
        ),
        n=pl.col("new"),
    )


@metric(
    "conversion_rate",
    en="Conversion rate",
    zh="客户转化率",
    family="acquisition",
    definition="Customer records signed up in the period that placed a first completed order "
    "within conversion_window days.",
    formula="prospects with first order ≤ signup + conversion_window / prospects signed up in "
    "period",
    unit="ratio",
    direction="higher_is_better",
    tables=("customers", "orders"),
    settings=("windows.conversion_window", "metrics.completed_statuses"),
    caveats=(
        "Orders up to the as-of date count, so signups in the last conversion_window days before "
        "it have not had their full window.",
        "A first order before signup counts as converted.",
    ),
    order_dims=False,
    inputs={"prospects": "signed up in period", "converted": "ordered within the window"},
)
def conversion_rate(ctx: Context) -> pl.DataFrame:
    cust = ctx.table("customers")
    if "signup_at" not in cust.collect_schema().names():
        raise Unavailable("needs customers.signup_at")
    window = timedelta(days=int(ctx.setting("windows.conversion_window")))
    p = ctx.period
    lf = (
        cust.select("customer_key", _s=local_date(cust, "signup_at", ctx.shared.tz))
        .filter(pl.col("_s").is_between(p.start, p.end))
        .join(customer_firsts(ctx.shared).lazy(), on="customer_key", how="left")
    )
    return ctx.group(
        ctx.rows_by(lf, "conversion"),
        prospects=pl.len().cast(pl.Int64),
        converted=(pl.col("first") <= pl.col("_s") + window).sum().cast(pl.Int64),
    ).with_columns(value=ratio(pl.col("converted"), pl.col("prospects")), n=pl.col("prospects"))
