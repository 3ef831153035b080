"""Engagement metrics from `events` in the period: engagement, interaction frequency, email.

One pass over the period's events builds per-customer counts (engagement events, referral events,
email sends/opens/clicks) that every event-based metric reads.
"""

from __future__ import annotations

import polars as pl

from crmkit.metrics.context import Context, dims_frame, ratio
from crmkit.metrics.registry import Unavailable, metric
from crmkit.metrics.retention import BASE_CAVEAT, WINDOW, base_rate

EVENTS = ("metrics.engagement_events",)


def event_facts(ctx: Context) -> pl.DataFrame:
    """Per customer (null key = anonymous) event counts in the period."""

    def build() -> pl.DataFrame:
        kinds = list(ctx.setting("metrics.engagement_events"))
        referral = list(ctx.setting("metrics.referral_events"))
        kind = pl.col("event_type")
        return (
            ctx.in_period("events", "occurred_at")
            .group_by("customer_key")
            .agg(
                engaged_events=kind.is_in(kinds).sum().cast(pl.Int64),
                referral_events=kind.is_in(referral).sum().cast(pl.Int64),
                sends=(kind == "email_sent").sum().cast(pl.Int64),
                opens=(kind == "email_open").sum().cast(pl.Int64),
                clicks=(kind == "email_click").sum().cast(pl.Int64),
            )
            .collect()
        )

    return ctx.cached("event_facts", build)


def by_customer_dims(ctx: Context, frame: pl.DataFrame, what: str) -> pl.DataFrame:
    """A per-customer frame with the customer breakdown columns joined on."""
    if ctx.shared.order_dims:
        raise Unavailable(
            f"{what} cannot be split by an order column ({', '.join(ctx.shared.order_dims)})"
        )
    if not ctx.shared.customer_dims:
        return frame
    return frame.join(dims_frame(ctx.shared), on="customer_key", how="left")


def flags(frame: pl.DataFrame, col: str, name: str) -> pl.DataFrame:
    return frame.filter(pl.col("customer_key").is_not_null() & (pl.col(col) > 0)).select(
        "customer_key", pl.lit(True).alias(name)
    )


@metric(
    "engagement_rate",
    en="Engagement rate",
    zh="客户参与度",
    family="engagement",
    definition="Customers of the base with at least one engagement event in the period.",
    formula="customers with ≥ 1 engagement event in period / customers",
    unit="ratio",
    direction="higher_is_better",
    tables=("orders", "events"),
    settings=(*WINDOW, *EVENTS),
    caveats=(BASE_CAVEAT,),
    inputs={"engaged": "base customers with an engagement event", "customers": "customer base"},
)
def engagement_rate(ctx: Context) -> pl.DataFrame:
    return base_rate(ctx, flags(event_facts(ctx), "engaged_events", "engaged"), "engaged")


@metric(
    "interaction_frequency",
    en="Interaction frequency",
    zh="客户互动频率",
    family="engagement",
    definition="Engagement events per engaged (identified) customer in the period.",
    formula="engagement events / customers with ≥ 1 engagement event",
    unit="count",
    direction="higher_is_better",
    tables=("events",),
    settings=EVENTS,
    order_dims=False,
    inputs={"events": "engagement events", "engaged": "engaged customers"},
)
def interaction_frequency(ctx: Context) -> pl.DataFrame:
    known = event_facts(ctx).filter(
        pl.col("customer_key").is_not_null() & (pl.col("engaged_events") > 0)
    )
    return ctx.group(
        by_customer_dims(ctx, known, "events"),
        events=pl.col("engaged_events").sum().cast(pl.Int64),
        engaged=pl.len().cast(pl.Int64),
    ).with_columns(value=ratio(pl.col("events"), pl.col("engaged")), n=pl.col("engaged"))


def _email(ctx: Context, name: str) -> pl.DataFrame:
    return ctx.group(
        by_customer_dims(ctx, event_facts(ctx), "events"),
        **{name: pl.col(name).sum().cast(pl.Int64)},
        sends=pl.col("sends").sum().cast(pl.Int64),
    ).with_columns(
        value=ratio(pl.col(name), pl.col("sends")),
        n=pl.col("sends"),
        reason=pl.when(pl.col("sends") == 0).then(pl.lit("undefined: no email_sent events")),
    )


@metric(
    "email_open_rate",
    en="Email open rate",
    zh="邮件打开率",
    family="engagement",
    definition="email_open events over email_sent events in the period.",
    formula="opens / sends",
    unit="ratio",
    direction="higher_is_better",
    tables=("events",),
    order_dims=False,
    inputs={"opens": "email_open events", "sends": "email_sent events"},
)
def email_open_rate(ctx: Context) -> pl.DataFrame:
    return _email(ctx, "opens")


@metric(
    "email_click_rate",
    en="Email click rate",
    zh="邮件点击率",
    family="engagement",
    definition="email_click events over email_sent events in the period.",
    formula="clicks / sends",
    unit="ratio",
    direction="higher_is_better",
    tables=("events",),
    order_dims=False,
    inputs={"clicks": "email_click events", "sends": "email_sent events"},
)
def email_click_rate(ctx: Context) -> pl.DataFrame:
    return _email(ctx, "clicks")
