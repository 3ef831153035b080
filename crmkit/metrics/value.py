"""Value metrics: revenue, orders, AOV, frequency, simple CLV, equity and profit contribution.

Completed orders are those whose status is in `metrics.completed_statuses` (completed and
partially_refunded by default; a missing status counts as completed); refunded, cancelled and
pending orders are left out. Walk-in orders (no customer_key) count in revenue and orders but
not in customer counts.
"""

from __future__ import annotations

import polars as pl

from crmkit.metrics.context import Context, ratio
from crmkit.metrics.registry import Unavailable, metric

STATUSES = ("metrics.completed_statuses",)
YEAR = 365.25


@metric(
    "revenue",
    en="Revenue (gross)",
    zh="销售额",
    family="value",
    definition="Sum of the gross amounts of completed orders in the period.",
    formula="Σ gross_amount over completed orders",
    unit="currency",
    direction="higher_is_better",
    tables=("orders",),
    settings=STATUSES,
)
def revenue(ctx: Context) -> pl.DataFrame:
    return ctx.group(
        ctx.facts, value=pl.col("gross_p").sum(), n=pl.col("orders_p").sum().cast(pl.Int64)
    )


@metric(
    "net_revenue",
    en="Net revenue",
    zh="销售额（净）",
    family="value",
    definition="Sum of the net amounts (gross − discount − refund) of completed orders.",
    formula="Σ net_amount over completed orders",
    unit="currency",
    direction="higher_is_better",
    tables=("orders",),
    settings=STATUSES,
    caveats=("Partially refunded orders count with their net amount (after the refund).",),
)
def net_revenue(ctx: Context) -> pl.DataFrame:
    return ctx.group(
        ctx.facts, value=pl.col("net_p").sum(), n=pl.col("orders_p").sum().cast(pl.Int64)
    )


@metric(
    "orders",
    en="Orders",
    zh="订单数",
    family="value",
    definition="Number of completed orders in the period (walk-ins included).",
    formula="count of completed orders",
    unit="count",
    direction="higher_is_better",
    tables=("orders",),
    settings=STATUSES,
)
def orders(ctx: Context) -> pl.DataFrame:
    return ctx.group(ctx.facts, n=pl.col("orders_p").sum().cast(pl.Int64)).with_columns(
        value=pl.col("n").cast(pl.Float64)
    )


@metric(
    "aov",
    en="Average order value",
    zh="客单价",
    family="value",
    definition="Net revenue per completed order.",
    formula="net revenue / orders",
    unit="currency",
    direction="higher_is_better",
    tables=("orders",),
    settings=STATUSES,
    inputs={"net_revenue": "net revenue", "orders": "completed orders"},
)
def aov(ctx: Context) -> pl.DataFrame:
    return ctx.group(
        ctx.facts,
        net_revenue=pl.col("net_p").sum(),
        orders=pl.col("orders_p").sum().cast(pl.Int64),
    ).with_columns(value=ratio(pl.col("net_revenue"), pl.col("orders")), n=pl.col("orders"))


@metric(
    "purchase_frequency",
    en="Purchase frequency",
    zh="购买频次",
    family="value",
    definition="Completed orders per purchasing customer in the period (identified customers).",
    formula="orders of identified customers / distinct purchasing customers",
    unit="count",
    direction="higher_is_better",
    tables=("orders",),
    settings=STATUSES,
    caveats=("Walk-in orders (no customer_key) are left out of both sides.",),
    inputs={"orders": "orders of identified customers", "buyers": "purchasing customers"},
)
def purchase_frequency(ctx: Context) -> pl.DataFrame:
    return ctx.group(
        ctx.customers,
        orders=pl.col("orders_p").sum().cast(pl.Int64),
        buyers=(pl.col("orders_p") > 0).sum().cast(pl.Int64),
    ).with_columns(value=ratio(pl.col("orders"), pl.col("buyers")), n=pl.col("buyers"))


def _join(ctx: Context, left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    if ctx.by:
        return left.join(right, on=ctx.by, how="left", nulls_equal=True)
    return pl.concat([left, right], how="horizontal")


def margin_frame(ctx: Context, frame: pl.DataFrame) -> pl.DataFrame:
    """Gross margin (net − cost) per facts row; gross_margin × net where cost is missing."""
    gm = ctx.setting("metrics.gross_margin")
    net = pl.col("net_p").cast(pl.Float64)
    fallback = net * float(gm) if gm is not None else pl.lit(None, pl.Float64)
    return frame.with_columns(
        margin=pl.when(pl.col("cost_missing_p") == 0)
        .then((pl.col("net_p") - pl.col("cost_p")).cast(pl.Float64))
        .otherwise(fallback)
    )


def check_margin(out: pl.DataFrame, missing_col: str = "cost_missing") -> None:
    """Unavailable when cost of goods is missing and no gross margin ratio is configured."""
    if out.height and out["margin"].null_count() == out.height:
        missing = int(out[missing_col].sum())
        raise Unavailable(
            f"needs orders.cost_amount (missing on {missing} orders) or metrics.gross_margin"
        )


def clv_frame(ctx: Context) -> pl.DataFrame:
    """Per group: AOV, orders per customer per year, lifespan and simple CLV."""
    freq = ctx.metric("purchase_frequency").select(*ctx.by, "buyers", freq="value")
    val = ctx.metric("aov").select(*ctx.by, aov="value")
    frame = _join(ctx, freq, val)
    lifespan = ctx.setting("metrics.expected_lifespan_years")
    if lifespan is not None:
        frame = frame.with_columns(lifespan_years=pl.lit(float(lifespan)))
    else:
        churn = ctx.metric("churn_rate").select(*ctx.by, annual_churn="annual")
        frame = _join(ctx, frame, churn).with_columns(
            lifespan_years=pl.when(pl.col("annual_churn") > 0).then(1 / pl.col("annual_churn"))
        )
    return frame.with_columns(freq_per_year=pl.col("freq") * (YEAR / ctx.period.days)).with_columns(
        value=pl.col("aov") * pl.col("freq_per_year") * pl.col("lifespan_years"),
        n=pl.col("buyers"),
        reason=pl.when(pl.col("lifespan_years").is_null()).then(
            pl.lit("undefined: annual churn is 0 or unknown; set metrics.expected_lifespan_years")
        ),
    )


CLV_SETTINGS = (*STATUSES, "windows.active_window", "metrics.expected_lifespan_years")


@metric(
    "clv_simple",
    en="Customer lifetime value (simple)",
    zh="客户终身价值",
    family="value",
    definition="AOV × purchases per customer per year × expected lifespan in years.",
    formula="aov × purchase_frequency × 365.25 / days in period × lifespan; lifespan = "
    "metrics.expected_lifespan_years or 1 / annual churn rate",
    unit="currency",
    direction="higher_is_better",
    tables=("orders",),
    settings=CLV_SETTINGS,
    caveats=("Revenue-based (no margin); see clv_margin.",),
)
def clv_simple(ctx: Context) -> pl.DataFrame:
    return clv_frame(ctx)


@metric(
    "clv_margin",
    en="Customer lifetime value (margin)",
    zh="客户终身价值（毛利）",
    family="value",
    definition="clv_simple × gross margin ratio of the period's completed orders.",
    formula="clv_simple × (net revenue − cost) / net revenue",
    unit="currency",
    direction="higher_is_better",
    tables=("orders",),
    settings=(*CLV_SETTINGS, "metrics.gross_margin"),
)
def clv_margin(ctx: Context) -> pl.DataFrame:
    m = ctx.group(
        margin_frame(ctx, ctx.facts),
        margin=_sum_or_null("margin"),
        net=pl.col("net_p").sum(),
        cost_missing=pl.col("cost_missing_p").sum().cast(pl.Int64),
    )
    check_margin(m)
    frame = _join(ctx, clv_frame(ctx), m)
    return frame.with_columns(margin_ratio=ratio(pl.col("margin"), pl.col("net"))).with_columns(
        value=pl.col("value") * pl.col("margin_ratio")
    )


def _sum_or_null(col: str) -> pl.Expr:
    """Sum that is null when any value is null (a partial sum would understate)."""
    return pl.when(pl.col(col).null_count() == 0).then(pl.col(col).sum())


@metric(
    "clv_predicted",
    en="Predicted CLV",
    zh="预测客户终身价值",
    family="value",
    definition="Mean predicted CLV of customers from the stored BG/NBD + Gamma-Gamma predictions.",
    formula="mean of clv_predictions.clv per customer (sum in `total`); the table (customer_key, "
    "clv) is written by `crmkit clv predict`",
    unit="currency",
    direction="higher_is_better",
    tables=("clv_predictions",),
    order_dims=False,
)
def clv_predicted(ctx: Context) -> pl.DataFrame:
    if not ctx.has("clv_predictions"):
        raise Unavailable("unavailable: run `crmkit clv predict`")
    lf = ctx.rows_by(ctx.table("clv_predictions"), "clv_predicted")
    return ctx.group(
        lf,
        value=pl.col("clv").cast(pl.Float64).mean(),
        total=pl.col("clv").cast(pl.Float64).sum(),
        n=pl.col("clv").is_not_null().sum().cast(pl.Int64),
    )


@metric(
    "customer_equity",
    en="Customer equity",
    zh="客户生命周期价值总额",
    family="value",
    definition="Sum of CLV over the customers active at the period end.",
    formula="clv_simple × customers active at end",
    unit="currency",
    direction="higher_is_better",
    tables=("orders",),
    settings=CLV_SETTINGS,
    inputs={"clv": "clv_simple", "active": "customers active at end"},
)
def customer_equity(ctx: Context) -> pl.DataFrame:
    clv = clv_frame(ctx).select(*ctx.by, "reason", clv="value")
    active = ctx.group(ctx.customers, active=pl.col("active_end").sum().cast(pl.Int64))
    return _join(ctx, clv, active).with_columns(
        value=pl.col("clv") * pl.col("active"), n=pl.col("active")
    )


@metric(
    "profit_contribution",
    en="Profit contribution",
    zh="利润贡献",
    family="value",
    definition="Net revenue − cost of goods − ticket handling cost in the period; `per_customer` "
    "divides by purchasing customers.",
    formula="Σ net_amount − Σ cost_amount − Σ tickets.handling_cost",
    unit="currency",
    direction="higher_is_better",
    tables=("orders",),
    settings=(*STATUSES, "metrics.gross_margin"),
    caveats=(
        "Handling cost is included when tickets carry handling_cost and the breakdown is not by "
        "an order column.",
    ),
)
def profit_contribution(ctx: Context) -> pl.DataFrame:
    m = ctx.group(
        margin_frame(ctx, ctx.facts),
        margin=_sum_or_null("margin"),
        net_revenue=pl.col("net_p").sum(),
        buyers=(pl.col("known") & (pl.col("orders_p") > 0)).sum().cast(pl.Int64),
        cost_missing=pl.col("cost_missing_p").sum().cast(pl.Int64),
    )
    check_margin(m)
    handling = _handling(ctx)
    if handling is not None:
        m = _join(ctx, m, handling).with_columns(pl.col("handling_cost").fill_null(0.0))
    else:
        m = m.with_columns(handling_cost=pl.lit(None, pl.Float64))
    return m.with_columns(
        value=pl.col("margin") - pl.col("handling_cost").fill_null(0.0), n=pl.col("buyers")
    ).with_columns(per_customer=ratio(pl.col("value"), pl.col("buyers")))


def _handling(ctx: Context) -> pl.DataFrame | None:
    """Ticket handling cost in the period per group, when it can be known."""
    if ctx.shared.order_dims or not ctx.has("tickets"):
        return None
    if "handling_cost" not in ctx.table("tickets").collect_schema().names():
        return None
    lf = ctx.rows_by(ctx.in_period("tickets", "created_at"), "handling cost")
    out = ctx.group(lf, handling_cost=pl.col("handling_cost").cast(pl.Float64).sum())
    return out
