"""Report sections from `crmkit.analysis`: buying cycle, baskets, survey drivers, feedback.

Each builder calls the analysis's own workspace function once (as of the report's as-of date,
settings from `analysis:`) and only shapes its output into tables and charts. A missing table or
too little data raises `Missing` with a one-line reason in the report's language.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from crmkit.errors import DataError
from crmkit.report.data import Chart, Column, Section, Table
from crmkit.report.privacy import scrub
from crmkit.report.sections import Ctx, Missing, _segment_labels, with_people

TOP = 10  # rows in each ranked table of these sections


def _analysis(ctx: Ctx) -> Any:
    try:
        import crmkit.analysis as analysis
    except ImportError:
        raise Missing(ctx.t("r_module", module="crmkit.analysis")) from None
    return analysis


def _analysis_settings(ctx: Ctx) -> dict[str, Any]:
    from crmkit.analysis.common import settings

    return settings(ctx.ws)


# ----------------------------------------------------------------------------- buying cycle


def cycle(ctx: Ctx) -> Section:
    """Days between purchases (histogram, by segment) and the overdue valuable customers."""
    analysis = _analysis(ctx)
    ctx.need("orders")
    try:
        res = analysis.cycle_workspace(
            ctx.ws, as_of=ctx.as_of, top=TOP, numbered_orders=ctx.customer_orders()
        )
    except DataError:
        raise Missing(ctx.t("r_no_gaps", as_of=ctx.fmt_date(ctx.as_of))) from None
    sec = Section("cycle", ctx.t("cycle"))
    hist = _full_histogram(res.histogram)
    sec.tables.append(
        Table(
            "gap_histogram",
            ctx.t("gap_histogram"),
            [
                Column("bucket", ctx.t("gap_bucket")),
                Column("gaps", ctx.t("gaps"), "int"),
                Column("share", ctx.t("share"), "percent"),
            ],
            hist,
        )
    )
    sec.charts.append(
        Chart(
            "gap_histogram",
            ctx.t("gap_histogram"),
            "bar",
            "gap_histogram",
            "bucket",
            "gaps",
            x_title=ctx.t("gap_bucket"),
            y_title=ctx.t("gaps"),
            detail="gap_histogram",
        )
    )
    labels = {
        "(all)": ctx.t("all_customers"),
        "(no segment)": ctx.t("no_segment"),
        **_segment_labels(ctx, "rfm"),
    }
    dist = res.distribution.with_columns(
        pl.col("segment").replace_strict(labels, default=pl.col("segment")).alias("label"),
        pl.col("customers", "gaps").cast(pl.Int64),
    )
    sec.tables.append(
        Table(
            "gap_distribution",
            ctx.t("gap_distribution"),
            [
                Column("label", ctx.t("segment")),
                Column("customers", ctx.t("customers"), "int"),
                Column("gaps", ctx.t("gaps"), "int"),
                Column("mean", ctx.t("gap_mean"), "number"),
                Column("p25", ctx.t("gap_p25"), "number"),
                Column("median", ctx.t("gap_median"), "number"),
                Column("p75", ctx.t("gap_p75"), "number"),
                Column("p90", ctx.t("gap_p90"), "number"),
            ],
            dist,
        )
    )
    overdue = res.overdue.with_columns(pl.col("purchase_days").cast(pl.Int64))
    overdue, cols = with_people(ctx, overdue)
    overdue = overdue.sort(["net_revenue", "customer_key"], descending=[True, False])
    cols += [
        Column("last_purchase", ctx.t("last_purchase"), "date"),
        Column("expected_next", ctx.t("expected_next"), "date"),
        Column("days_overdue", ctx.t("days_overdue"), "int"),
        Column("purchase_days", ctx.t("purchase_days"), "int"),
        Column("net_revenue", ctx.t("net_revenue"), "money"),
    ]
    sec.tables.append(Table("overdue", ctx.t("overdue"), cols, overdue))
    if overdue.height == 0:
        sec.notes.append(ctx.t("no_overdue"))
    sec.notes.append(
        ctx.t(
            "cycle_note",
            as_of=ctx.fmt_date(ctx.as_of),
            gap=ctx.formatter.number(res.population_gap, 0),
            window=ctx.ws.config.windows["active_window"],
        )
    )
    return sec


def _full_histogram(hist: pl.DataFrame) -> pl.DataFrame:
    """The histogram with its empty buckets as 0, so the bars stand on an even axis."""
    from crmkit.analysis.cycle import BUCKETS

    labels = [f"{lo + 1}-{hi}" for lo, hi in zip([0, *BUCKETS[:-1]], BUCKETS, strict=True)]
    labels.append(f">{BUCKETS[-1]}")
    labels += [b for b in hist["bucket"] if b not in labels]  # labels the analysis may add
    grid = pl.DataFrame({"bucket": labels})
    return grid.join(hist, on="bucket", how="left", maintain_order="left").with_columns(
        pl.col("gaps").fill_null(0).cast(pl.Int64), pl.col("share").fill_null(0.0)
    )


# ----------------------------------------------------------------------------- baskets


def baskets(ctx: Ctx) -> Section:
    """Top pair rules by lift at product level, and at category level when categories exist."""
    analysis = _analysis(ctx)
    ctx.need("orders")
    ctx.need("order_lines", "how_order_lines")
    cfg = _analysis_settings(ctx)
    sec = Section("baskets", ctx.t("baskets"))
    f = ctx.formatter
    lines = analysis.basket_lines(ctx.ws, ctx.as_of)  # joined with the orders once, not per level
    for level in ("product", "category"):
        name = ctx.t(f"level_{level}")
        try:
            res = analysis.basket_workspace(ctx.ws, as_of=ctx.as_of, level=level, lines=lines)
        except DataError as exc:
            if level == "product":
                raise Missing(ctx.t("r_no_baskets", as_of=ctx.fmt_date(ctx.as_of))) from None
            sec.notes.append(ctx.t("no_category", error=scrub(exc.message)))
            continue
        rules = res.rules.head(TOP).with_columns(
            (pl.col("antecedent") + " → " + pl.col("consequent")).alias("rule")
        )
        sec.tables.append(
            Table(
                f"rules_{level}",
                ctx.t(f"rules_{level}"),
                [
                    Column("antecedent", ctx.t("antecedent")),
                    Column("consequent", ctx.t("consequent")),
                    Column("orders", ctx.t("orders"), "int"),
                    Column("support", ctx.t("support"), "percent"),
                    Column("confidence", ctx.t("confidence"), "percent"),
                    Column("lift", ctx.t("lift"), "number"),
                ],
                rules,
            )
        )
        if rules.height:
            sec.charts.append(
                Chart(
                    f"rules_{level}",
                    ctx.t(f"rules_{level}"),
                    "hbar",
                    f"rules_{level}",
                    "lift",
                    "rule",
                    x_title=ctx.t("lift"),
                    y_format=",.2f",
                    detail=f"rules_{level}",
                )
            )
        else:
            sec.notes.append(ctx.t("no_rules", level=name))
        sec.notes.append(
            ctx.t(
                "basket_note",
                level=name,
                orders=f.integer(res.transactions),
                as_of=ctx.fmt_date(ctx.as_of),
                items=f.integer(res.items),
                support=f.percent(float(cfg["basket_min_support"]), 2),
                confidence=f.percent(float(cfg["basket_min_confidence"])),
                lift=f.number(float(cfg["basket_min_lift"]), 2),
            )
        )
    return sec


# ----------------------------------------------------------------------------- survey drivers

_FEW = re.compile(r"only (\d+) responses .* need at least (\d+)")


def drivers(ctx: Ctx) -> Section:
    """Key drivers of NPS: relative weights with importance and performance, n, R², fix first."""
    analysis = _analysis(ctx)
    responses = ctx.need("survey_responses", "how_survey")
    from crmkit.analysis.survey import rating_keys  # scipy: only when there are responses

    if not rating_keys(responses):
        raise Missing(ctx.t("r_no_ratings"))
    try:
        res = analysis.drivers_workspace(ctx.ws, as_of=ctx.as_of, target="nps")
    except DataError as exc:
        few = _FEW.search(exc.message)
        if few:
            raise Missing(ctx.t("r_few_ratings", n=few.group(1), need=few.group(2))) from None
        raise Missing(ctx.t("r_drivers", error=exc.message)) from None
    sec = Section("drivers", ctx.t("drivers"))
    f = ctx.formatter
    summary = pl.DataFrame(
        {
            "label": [ctx.t("driver_target"), ctx.t("complete_responses"), ctx.t("r2")],
            "value": [None, float(res.n), res.r2],
            "value_text": [res.target.upper(), f.integer(res.n), f.number(res.r2, 3)],
        },
        schema={"label": pl.String, "value": pl.Float64, "value_text": pl.String},
    )
    sec.tables.append(
        Table(
            "drivers_summary",
            ctx.t("drivers_summary"),
            [Column("label", ctx.t("name")), Column("value_text", ctx.t("value"))],
            summary,
        )
    )
    table = res.drivers.with_columns(
        pl.col("quadrant")
        .map_elements(lambda q: ctx.t(f"q_{q}"), return_dtype=pl.String)
        .alias("quadrant_label"),
        pl.col("rank").cast(pl.Int64),
    )
    sec.tables.append(
        Table(
            "drivers",
            ctx.t("drivers_table"),
            [
                Column("rank", ctx.t("rank"), "int"),
                Column("attribute", ctx.t("attribute")),
                Column("n", ctx.t("n"), "int"),
                Column("mean", ctx.t("mean_rating"), "number"),
                Column("performance", ctx.t("performance"), "number"),
                Column("correlation", ctx.t("correlation"), "number"),
                Column("importance", ctx.t("importance"), "percent"),
                Column("quadrant_label", ctx.t("quadrant")),
            ],
            table,
        )
    )
    sec.charts.append(
        Chart(
            "drivers",
            ctx.t("importance_chart"),
            "hbar",
            "drivers",
            "importance",
            "attribute",
            x_title=ctx.t("importance"),
            y_format=".0%",
            detail="drivers",
        )
    )
    order = {a: i for i, a in enumerate(res.fix_first)}
    fix = (
        table.filter(pl.col("attribute").is_in(res.fix_first))
        .with_columns(pl.col("attribute").replace_strict(order, return_dtype=pl.Int64).alias("_o"))
        .sort("_o")
        .drop("_o")
    )
    sec.tables.append(
        Table(
            "fix_first",
            ctx.t("fix_first"),
            [
                Column("attribute", ctx.t("attribute")),
                Column("importance", ctx.t("importance"), "percent"),
                Column("performance", ctx.t("performance"), "number"),
                Column("priority", ctx.t("priority"), "number"),
            ],
            fix,
        )
    )
    sec.notes.append(ctx.t("drivers_note", as_of=ctx.fmt_date(ctx.as_of)))
    return sec


# ----------------------------------------------------------------------------- feedback

GROUP_LABELS = {
    "detractor": "detractors",
    "passive": "passives",
    "promoter": "promoters",
    "(no nps)": "no_nps",
}


def feedback(ctx: Ctx) -> Section:
    """Themes detractors and promoters talk about (contrast) and sentiment by NPS group."""
    analysis = _analysis(ctx)
    if not (ctx.ws.has_table("survey_responses") or ctx.ws.has_table("tickets")):
        raise Missing(
            ctx.t("r_no_table", table="survey_responses / tickets", how=ctx.t("how_feedback"))
        )
    try:  # one call: tokenising (jieba) and sentiment (SnowNLP, VADER) run once per text
        res = analysis.feedback_workspace(ctx.ws, as_of=ctx.as_of, source="all")
    except DataError:
        raise Missing(ctx.t("r_no_feedback", as_of=ctx.fmt_date(ctx.as_of))) from None
    sec = Section("feedback", ctx.t("feedback"))
    contrast = res.contrast.with_columns(pl.col("term").map_elements(scrub, return_dtype=pl.String))
    cols = [
        Column("term", ctx.t("term")),
        Column("detractor_docs", ctx.t("detractors"), "int"),
        Column("detractor_share", ctx.t("detractor_share"), "percent"),
        Column("promoter_docs", ctx.t("promoters"), "int"),
        Column("promoter_share", ctx.t("promoter_share"), "percent"),
        Column("difference", ctx.t("difference"), "percent"),
    ]
    det = contrast.filter(pl.col("difference") > 0).head(TOP)
    pro = contrast.filter(pl.col("difference") < 0).sort(["difference", "term"]).head(TOP)
    if det.height == 0 and pro.height == 0:
        sec.notes.append(ctx.t("no_contrast"))
    else:
        sec.tables.append(Table("themes_detractors", ctx.t("contrast_detractors"), cols, det))
        sec.tables.append(Table("themes_promoters", ctx.t("contrast_promoters"), cols, pro))
    order = {g: i for i, g in enumerate(GROUP_LABELS)}
    senti = (
        res.sentiment.with_columns(
            pl.col("group").replace_strict(order, default=len(order)).alias("_o"),
            pl.col("group")
            .replace_strict({g: ctx.t(k) for g, k in GROUP_LABELS.items()}, default=None)
            .fill_null(pl.col("group"))
            .alias("label"),
        )
        .sort("_o", "group")
        .drop("_o")
    )
    sec.tables.append(
        Table(
            "sentiment",
            ctx.t("sentiment_summary"),
            [
                Column("label", ctx.t("group")),
                Column("texts", ctx.t("texts"), "int"),
                Column("mean_sentiment", ctx.t("mean_sentiment"), "number"),
                Column("positive_share", ctx.t("positive_share"), "percent"),
                Column("negative_share", ctx.t("negative_share"), "percent"),
            ],
            senti,
        )
    )
    sec.charts.append(
        Chart(
            "sentiment",
            ctx.t("sentiment_chart"),
            "hbar",
            "sentiment",
            "mean_sentiment",
            "label",
            x_title=ctx.t("mean_sentiment"),
            y_format=",.1f",
            detail="sentiment",
        )
    )
    sec.notes.append(
        ctx.t(
            "feedback_note",
            texts=ctx.formatter.integer(res.texts.height),
            as_of=ctx.fmt_date(ctx.as_of),
        )
    )
    return sec
