"""Retention and loyalty metrics: churn, retention, repurchase, returning, loyalty, referrals.

S = customers active at the period start (a completed order in the `active_window` days before
it), E = active at the period end, N = new in the period (first completed order in it).
"""

from __future__ import annotations

import polars as pl

from crmkit.metrics.context import Context, local_date, ratio
from crmkit.metrics.registry import Unavailable, metric

DAYS_PER_MONTH = 365.25 / 12
WINDOW = ("windows.active_window", "metrics.completed_statuses")


def annualise(churn: pl.Expr, days: int) -> tuple[pl.Expr, pl.Expr]:
    """Monthly and annual churn from churn over `days`: 1 − (1 − monthly)^12, never 12 × monthly."""
    months = days / DAYS_PER_MONTH
    monthly = 1 - (1 - churn) ** (1 / months)
    return monthly, 1 - (1 - monthly) ** 12


@metric(
    "churn_rate",
    en="Churn rate",
    zh="客户流失率",
    family="retention",
    definition="Share of the customers active at the period start who are no longer active at "
    "its end.",
    formula="(S − customers of S still active at end) / S; annual = 1 − (1 − monthly)^12",
    unit="ratio",
    direction="lower_is_better",
    tables=("orders",),
    settings=WINDOW,
    caveats=(
        "Without contracts churn is inferred: a customer is churned when no completed order falls "
        "in the active_window days up to the period end.",
        "monthly = 1 − (1 − churn)^(1/months in period); annual = 1 − (1 − monthly)^12.",
    ),
    inputs={"S": "active at start", "churned": "of S, not active at end"},
)
def churn_rate(ctx: Context) -> pl.DataFrame:
    monthly, annual = annualise(pl.col("value"), ctx.period.days)
    return (
        ctx.group(
            ctx.customers,
            S=pl.col("active_start").sum().cast(pl.Int64),
            churned=(pl.col("active_start") & ~pl.col("active_end")).sum().cast(pl.Int64),
        )
        .with_columns(value=ratio(pl.col("churned"), pl.col("S")), n=pl.col("S"))
        .with_columns(monthly=monthly, annual=annual)
        .with_columns(_undefined("S"))
    )


def _undefined(den: str) -> pl.Expr:
    return (
        pl.when(pl.col(den) == 0)
        .then(pl.lit(f"undefined: no customers active at the period start ({den} = 0)"))
        .otherwise(None)
        .alias("reason")
    )


@metric(
    "retention_rate",
    en="Retention rate",
    zh="客户留存率",
    family="retention",
    definition="Customers active at the period end who are not new, over those active at its "
    "start.",
    formula="(E − N) / S; undefined when S = 0",
    unit="ratio",
    direction="higher_is_better",
    tables=("orders",),
    settings=WINDOW,
    caveats=(
        "E − N also counts reactivated customers (inactive at the start, ordered before, back in "
        "the period), so retention + churn can exceed 1.",
    ),
    inputs={"S": "active at start", "E": "active at end", "N": "new in period"},
)
def retention_rate(ctx: Context) -> pl.DataFrame:
    return (
        ctx.group(
            ctx.customers,
            S=pl.col("active_start").sum().cast(pl.Int64),
            E=pl.col("active_end").sum().cast(pl.Int64),
            N=pl.col("new").sum().cast(pl.Int64),
        )
        .with_columns(value=ratio(pl.col("E") - pl.col("N"), pl.col("S")), n=pl.col("S"))
        .with_columns(_undefined("S"))
    )


@metric(
    "repurchase_rate",
    en="Repurchase rate",
    zh="复购率",
    family="retention",
    definition="Customers with two or more completed orders up to the period end, over customers "
    "with at least one; `in_period` is the same within the period.",
    formula="customers with ≥ 2 orders up to end / customers with ≥ 1 order up to end",
    unit="ratio",
    direction="higher_is_better",
    tables=("orders",),
    settings=("metrics.completed_statuses",),
    inputs={"repeat": "≥ 2 orders up to end", "buyers": "≥ 1 order up to end"},
)
def repurchase_rate(ctx: Context) -> pl.DataFrame:
    return ctx.group(
        ctx.customers,
        repeat=(pl.col("orders_to_end") >= 2).sum().cast(pl.Int64),
        buyers=(pl.col("orders_to_end") >= 1).sum().cast(pl.Int64),
        repeat_in_period=(pl.col("orders_p") >= 2).sum().cast(pl.Int64),
        buyers_in_period=(pl.col("orders_p") >= 1).sum().cast(pl.Int64),
    ).with_columns(
        value=ratio(pl.col("repeat"), pl.col("buyers")),
        n=pl.col("buyers"),
        in_period=ratio(pl.col("repeat_in_period"), pl.col("buyers_in_period")),
    )


@metric(
    "returning_customer_rate",
    en="Returning customer rate",
    zh="回头客率",
    family="retention",
    definition="Customers ordering in the period who had ordered before it, over all customers "
    "ordering in it.",
    formula="customers ordering in period with a completed order before it / customers ordering "
    "in period",
    unit="ratio",
    direction="higher_is_better",
    tables=("orders",),
    settings=("metrics.completed_statuses",),
    inputs={"returning": "ordered before the period", "buyers": "ordered in the period"},
)
def returning_customer_rate(ctx: Context) -> pl.DataFrame:
    buying = pl.col("orders_p") > 0
    return ctx.group(
        ctx.customers,
        returning=(buying & (pl.col("first") < ctx.period.start)).sum().cast(pl.Int64),
        buyers=buying.sum().cast(pl.Int64),
    ).with_columns(value=ratio(pl.col("returning"), pl.col("buyers")), n=pl.col("buyers"))


def base_rate(ctx: Context, flags: pl.DataFrame, flag: str) -> pl.DataFrame:
    """Share of the customer base (active at period end) with a per-customer flag."""
    return ctx.group(
        ctx.flag_base(flags, flag),
        **{flag: pl.col(flag).sum().cast(pl.Int64)},
        customers=pl.len().cast(pl.Int64),
    ).with_columns(value=ratio(pl.col(flag), pl.col("customers")), n=pl.col("customers"))


BASE_CAVEAT = (
    "Customers = the customer base: identified customers active at the period end "
    "(a completed order in the active_window days up to it)."
)


@metric(
    "loyalty_participation_rate",
    en="Loyalty programme participation rate",
    zh="忠诚度计划参与率",
    family="retention",
    definition="Loyalty members among the customer base.",
    formula="loyalty members / customers",
    unit="ratio",
    direction="higher_is_better",
    tables=("orders", "customers"),
    settings=WINDOW,
    caveats=(BASE_CAVEAT, "Membership is the current flag of the golden record."),
    inputs={"members": "loyalty members in the base", "customers": "customer base"},
)
def loyalty_participation_rate(ctx: Context) -> pl.DataFrame:
    cust = ctx.table("customers")
    if "loyalty_member" not in cust.collect_schema().names():
        raise Unavailable("needs customers.loyalty_member")
    flags = cust.select("customer_key", members=pl.col("loyalty_member")).collect()
    if flags["members"].null_count() == flags.height:
        raise Unavailable("needs customers.loyalty_member (empty in every record)")
    return base_rate(ctx, flags, "members")


def referrers(ctx: Context) -> pl.DataFrame:
    """Customers named in `referred_by` of a customer who signed up by the period end."""
    cust = ctx.table("customers")
    if "referred_by" not in cust.collect_schema().names():
        raise Unavailable("needs customers.referred_by")
    if not cust.select(pl.col("referred_by").is_not_null().any()).collect().item():
        raise Unavailable("needs customers.referred_by (empty in every record)")
    end = ctx.period.end
    signup = local_date(cust, "signup_at", ctx.shared.tz)
    out = (
        cust.filter(pl.col("referred_by").is_not_null() & (signup.is_null() | (signup <= end)))
        .select(customer_key=pl.col("referred_by"))
        .unique()
        .with_columns(referrers=pl.lit(True))
        .collect()
    )
    return out


@metric(
    "referral_rate",
    en="Referral rate",
    zh="客户推荐率",
    family="retention",
    definition="Customers of the base who referred at least one customer (signed up by the "
    "period end).",
    formula="customers who referred ≥ 1 customer / customers",
    unit="ratio",
    direction="higher_is_better",
    tables=("orders", "customers"),
    settings=WINDOW,
    caveats=(BASE_CAVEAT, "Referrals are read from customers.referred_by (cumulative)."),
    inputs={"referrers": "base customers who referred someone", "customers": "customer base"},
)
def referral_rate(ctx: Context) -> pl.DataFrame:
    return base_rate(ctx, referrers(ctx), "referrers")


@metric(
    "referral_program_participation_rate",
    en="Referral programme participation rate",
    zh="推荐奖励计划参与率",
    family="retention",
    definition="Customers of the base with any referral event in the period.",
    formula="customers with a referral event (metrics.referral_events) in period / customers",
    unit="ratio",
    direction="higher_is_better",
    tables=("orders", "events"),
    settings=(*WINDOW, "metrics.referral_events"),
    caveats=(BASE_CAVEAT,),
    inputs={"participants": "base customers with a referral event", "customers": "customer base"},
)
def referral_program_participation_rate(ctx: Context) -> pl.DataFrame:
    from crmkit.metrics.engagement import event_facts, flags

    found = flags(event_facts(ctx), "referral_events", "participants")
    return base_rate(ctx, found, "participants")


@metric(
    "customer_loyalty_index",
    en="Customer loyalty index",
    zh="客户忠诚度指数",
    family="retention",
    definition="Weighted mean of repurchase rate, referral rate and NPS rescaled to 0–1.",
    formula="Σ wᵢ·xᵢ / Σ wᵢ over x = repurchase_rate, referral_rate, (nps + 100) / 200",
    unit="score",
    direction="higher_is_better",
    tables=("orders", "customers", "survey_responses"),
    settings=("metrics.loyalty_index_weights", *WINDOW),
    caveats=("Unavailable when any component with a non-zero weight is unavailable.",),
)
def customer_loyalty_index(ctx: Context) -> pl.DataFrame:
    weights = {k: float(v) for k, v in dict(ctx.setting("metrics.loyalty_index_weights")).items()}
    unknown = set(weights) - {"repurchase_rate", "referral_rate", "nps"}
    if unknown:
        raise Unavailable(f"unknown loyalty index component(s): {', '.join(sorted(unknown))}")
    weights = {k: w for k, w in weights.items() if w}
    if not weights:
        raise Unavailable("metrics.loyalty_index_weights are all 0")
    frame: pl.DataFrame | None = None
    for name in weights:
        try:
            part = ctx.metric(name)
        except Unavailable as exc:
            raise Unavailable(f"component {name}: {exc}") from None
        x = (pl.col("value") + 100) / 200 if name == "nps" else pl.col("value")
        part = part.select(*ctx.by, x.alias(name))
        if frame is None:
            frame = part
        elif ctx.by:
            frame = frame.join(part, on=ctx.by, how="full", coalesce=True, nulls_equal=True)
        else:
            frame = pl.concat([frame, part], how="horizontal")
    assert frame is not None
    total = sum(weights.values())
    score = sum(pl.col(k) * (w / total) for k, w in weights.items())
    return frame.with_columns(value=score, n=pl.lit(None, pl.Int64)).with_columns(
        **{f"weight_{k}": pl.lit(w / total) for k, w in weights.items()}
    )
