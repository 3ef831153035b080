"""Section builders: each turns the workspace (and the metrics already computed) into a `Section`.

A builder raises `Missing(reason)` when its data or module is absent; `build_report` turns that
(and any other error) into an unavailable section with a one-line reason, never fake numbers.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from crmkit.numbers import workspace_customer_keys
from crmkit.periods import Period, add_months
from crmkit.report.data import Chart, Column, Section, Table
from crmkit.report.i18n import Formatter, t
from crmkit.report.privacy import protect, scrub

if TYPE_CHECKING:
    from crmkit.analysis.common import CustomerOrders
    from crmkit.workspace import Workspace

REF_TABLES = ("orders", "tickets", "survey_responses", "events")
REF_COLUMNS = ("customer_id", "customer_email", "customer_phone")
METHOD_ORDER = ("rfm", "tiers", "lifecycle", "kmeans")


class Missing(Exception):
    """The section's data (or module) is not there; the message is the one-line reason."""


@dataclass
class Ctx:
    """What every builder needs: workspace, dates, language and settings."""

    ws: Workspace
    as_of: dt.date
    period: Period
    compare: Period | None
    lang: str
    settings: dict[str, Any]
    include_pii: bool
    metrics: Any = None  # crmkit.metrics.MetricsResult, when the metrics could be computed
    metrics_error: str | None = None
    _orders: CustomerOrders | None = None  # once computed (see customer_orders)

    def t(self, key: str, **kwargs: Any) -> str:
        return t(self.lang, key, **kwargs)

    def need(self, table: str, how: str = "how_ingest") -> pl.LazyFrame:
        """A table the section cannot do without."""
        if not self.ws.has_table(table):
            raise Missing(self.t("r_no_table", table=table, how=self.t(how)))
        return self.ws.table(table)

    def customer_orders(self) -> CustomerOrders:
        """The orders of known customers up to as-of, numbered by customer and collected once:
        trends, cohorts and the buying cycle all read them (one pass over the orders' keys
        instead of one per section, which is most of a report's time at 10M orders)."""
        if self._orders is None:
            try:
                from crmkit.analysis.common import customer_orders
            except ImportError:
                raise Missing(self.t("r_module", module="crmkit.analysis")) from None
            keys = workspace_customer_keys(self.ws)
            self._orders = customer_orders(self.need("orders"), self.as_of, keys).collect()
        return self._orders

    def drop_customer_orders(self) -> None:
        """Let the memory of the numbered orders go once no later section reads them."""
        self._orders = None

    @property
    def end(self) -> dt.datetime:
        """Exclusive upper bound of the as-of day (UTC, as stored)."""
        return dt.datetime.combine(self.as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    @property
    def tz(self) -> str:
        return str(self.ws.config.get("timezone") or "UTC")

    @property
    def formatter(self) -> Formatter:
        return Formatter(self.lang, str(self.ws.config.get("currency") or "USD"))

    def fmt_date(self, value: Any) -> str:
        return self.formatter.date(value)

    def completed(self) -> list[str]:
        from crmkit.metrics.settings import get_setting

        return list(get_setting(self.ws.config, "metrics.completed_statuses"))


def _metric_rows(ctx: Ctx, families: tuple[str, ...] | None = None) -> pl.DataFrame:
    if ctx.metrics is None:
        raise Missing(ctx.t("r_no_metrics", error=ctx.metrics_error or "?"))
    frame = ctx.metrics.frame
    if families:
        frame = frame.filter(pl.col("family").is_in(families))
    return frame


def _metric_table(ctx: Ctx, frame: pl.DataFrame, key: str, title: str) -> Table:
    from crmkit.metrics.registry import FAMILY_NAMES

    fam = {k: (v[1] if ctx.lang == "zh" else v[0]) for k, v in FAMILY_NAMES.items()}
    frame = frame.with_columns(
        pl.col("family").replace_strict(fam, default=pl.col("family")).alias("family_name"),
        pl.col("reason").map_elements(scrub, return_dtype=pl.String).alias("reason"),
    )
    cols = [
        Column("family_name", ctx.t("family")),
        Column("name", ctx.t("metric")),
        Column("value", ctx.t("value"), "metric"),
    ]
    if ctx.compare is not None:
        cols += [
            Column("compare_value", ctx.t("previous"), "metric"),
            Column("delta", ctx.t("delta"), "delta"),
        ]
    cols += [
        Column("target", ctx.t("target"), "target"),
        Column("target_met", ctx.t("target_met"), "bool"),
        Column("n", ctx.t("n"), "int"),
        Column("reason", ctx.t("note")),
    ]
    return Table(key, title, cols, frame.with_columns(target=pl.lit(None, pl.String)))


def headline(ctx: Ctx) -> Section:
    """Cards for the configured headline metrics: value, change and target."""
    frame = _metric_rows(ctx)
    wanted = [m for m in ctx.settings["headline"] if m in set(frame["metric"])]
    rows = {r["metric"]: r for r in frame.to_dicts()}
    cards = []
    for name in wanted:
        r = rows[name]
        good = None
        if r["delta"] not in (None, 0) and r["direction"] != "neutral":
            good = (r["delta"] > 0) == (r["direction"] == "higher_is_better")
        cards.append({**r, "good": good, "reason": scrub(r["reason"])})
    sec = Section("headline", ctx.t("headline"), cards=cards)
    sec.tables.append(
        _metric_table(
            ctx, frame.filter(pl.col("metric").is_in(wanted)), "headline", ctx.t("headline")
        )
    )
    return sec


def all_metrics(ctx: Ctx) -> Section:
    """Every registered metric for the period, grouped by family, with targets."""
    frame = _metric_rows(ctx)
    sec = Section("metrics", ctx.t("metrics"))
    sec.tables.append(_metric_table(ctx, frame, "metrics", ctx.t("metrics")))
    return sec


def _month(ctx: Ctx, name: str) -> pl.Expr:
    """The first day of the order's month in the workspace time zone."""
    local_day = pl.col("ordered_at").dt.convert_time_zone(ctx.tz).dt.date()
    return local_day.dt.truncate("1mo").alias(name)


def _completed(ctx: Ctx) -> pl.Expr:
    """Completed orders (metrics.completed_statuses; a null status counts as completed)."""
    status = pl.col("status")
    return status.is_in(ctx.completed()) | status.is_null()


def _purchases(ctx: Ctx) -> pl.LazyFrame:
    orders = ctx.need("orders")
    return orders.filter(_completed(ctx) & (pl.col("ordered_at") < ctx.end)).with_columns(
        _month(ctx, "m")
    )


def _month_grid(ctx: Ctx, months: int) -> pl.DataFrame:
    last = ctx.as_of.replace(day=1)
    return pl.DataFrame({"month": [add_months(last, -i) for i in range(months - 1, -1, -1)]})


def trends(ctx: Ctx) -> Section:
    """Monthly net revenue, orders, purchasing and new customers over the last N months."""
    months = ctx.settings["trend_months"]
    grid = _month_grid(ctx, months)
    # Customers' orders from the numbered orders (integer keys, sorted by customer); walk-ins
    # (no customer_key) only add to revenue and orders. Money is summed exactly, then shown.
    keyed = (
        ctx.customer_orders()
        .rows.filter(_completed(ctx))
        .select("cid", _month(ctx, "month"), "net_amount")
        .collect()
        .lazy()
    )
    walk_ins = _purchases(ctx).filter(pl.col("customer_key").is_null())
    agg = (
        pl.concat([keyed.drop("cid"), walk_ins.select(pl.col("m").alias("month"), "net_amount")])
        .group_by("month")
        .agg(
            pl.col("net_amount").sum().cast(pl.Float64).alias("net_revenue"),
            pl.len().cast(pl.Int64).alias("orders"),
        )
    )
    first = (
        keyed.group_by("cid")
        .agg(pl.col("month").min())
        .group_by("month")
        .agg(pl.len().cast(pl.Int64).alias("new_customers"))
    )
    active = keyed.group_by("month").agg(
        pl.col("cid").n_unique().cast(pl.Int64).alias("active_customers")
    )
    frame = (
        grid.lazy()
        .join(agg, on="month", how="left")
        .join(active, on="month", how="left")
        .join(first, on="month", how="left")
        .with_columns(pl.col("orders", "active_customers", "new_customers").fill_null(0))
        .with_columns(pl.col("net_revenue").fill_null(0.0))
        .sort("month")
        .collect()
    )
    if frame["orders"].sum() == 0:
        raise Missing(ctx.t("r_empty", table="orders", as_of=ctx.as_of))
    long = frame.unpivot(
        on=["active_customers", "new_customers"], index="month", variable_name="series"
    ).with_columns(
        pl.col("series").replace_strict(
            {
                "active_customers": ctx.t("active_customers"),
                "new_customers": ctx.t("new_customers"),
            }
        )
    )
    sec = Section("trends", ctx.t("trends"))
    sec.tables.append(
        Table(
            "monthly",
            ctx.t("trends"),
            [
                Column("month", ctx.t("month"), "month"),
                Column("net_revenue", ctx.t("net_revenue"), "money"),
                Column("orders", ctx.t("orders"), "int"),
                Column("active_customers", ctx.t("active_customers"), "int"),
                Column("new_customers", ctx.t("new_customers"), "int"),
            ],
            frame,
        )
    )
    sec.tables.append(Table("customers_long", "", [], long))
    m = ctx.t("month")
    sec.charts += [
        Chart(
            "revenue",
            ctx.t("monthly_net_revenue"),
            "bar",
            "monthly",
            "month",
            "net_revenue",
            x_title=m,
            y_title=f"{ctx.t('net_revenue')} ({ctx.formatter.currency})",
            y_format="~s",
        ),
        Chart(
            "orders",
            ctx.t("monthly_orders"),
            "line",
            "monthly",
            "month",
            "orders",
            x_title=m,
            y_title=ctx.t("orders"),
        ),
        Chart(
            "customers",
            ctx.t("monthly_customers"),
            "line",
            "customers_long",
            "month",
            "value",
            x_title=m,
            y_title=ctx.t("customers"),
            series="series",
        ),
    ]
    return sec


def cohorts(ctx: Ctx) -> Section:
    """Monthly first-purchase cohorts: share still buying N months later (heatmap)."""
    try:
        from crmkit.analysis.cohorts import cohort_table
    except ImportError:
        raise Missing(ctx.t("r_module", module="crmkit.analysis")) from None
    n = ctx.settings["cohort_months"]
    long = cohort_table(ctx.customer_orders(), as_of=ctx.as_of, by="month").collect()
    if long.height == 0:
        raise Missing(ctx.t("r_empty", table="orders", as_of=ctx.as_of))
    keep = long.select("cohort").unique().sort("cohort").tail(n)["cohort"]
    long = long.filter(pl.col("cohort").is_in(keep.implode()) & (pl.col("period") <= n))
    wide = (
        long.with_columns(pl.col("period").cast(pl.String))
        .pivot(on="period", index=["cohort", "cohort_size"], values="retained_share")
        .sort("cohort")
    )
    periods = sorted((c for c in wide.columns if c not in ("cohort", "cohort_size")), key=int)
    cols = [
        Column("cohort", ctx.t("cohort")),
        Column("cohort_size", ctx.t("cohort_size"), "int"),
        *(Column(p, p, "percent") for p in periods),
    ]
    sec = Section("cohorts", ctx.t("cohorts"))
    sec.tables.append(
        Table(
            "cohorts",
            ctx.t("cohort_heatmap"),
            cols,
            wide.select(["cohort", "cohort_size", *periods]),
        )
    )
    heat = long.filter(pl.col("retained_share").is_not_null()).select(
        "cohort", "period", "retained_share"
    )
    sec.tables.append(Table("cohorts_long", "", [], heat))
    sec.charts.append(
        Chart(
            "cohort_heatmap",
            ctx.t("cohort_heatmap"),
            "heatmap",
            "cohorts_long",
            "period",
            "cohort",
            color="retained_share",
            x_title=ctx.t("cohort_period"),
            y_title="",
            detail="cohorts",
        )
    )
    return sec


def _segment_labels(ctx: Ctx, method: str) -> dict[str, str]:
    """Segment key → label for a history method ('rfm', 'rfm:cn8', 'tiers', 'lifecycle', …)."""
    lang = ctx.lang
    col = "label_zh" if lang == "zh" else "label_en"
    try:
        if method == "rfm" or method.startswith("rfm:"):
            from crmkit.segment.maps import load_map
            from crmkit.segment.run import DEFAULT_MAPS

            if method == "rfm":  # the default map of the configured score scale
                rfm_cfg = ctx.ws.config.section("segment").get("rfm") or {}
                name = DEFAULT_MAPS[int(rfm_cfg.get("scores", 5))]
            else:
                name = method.split(":", 1)[1]
            smap = load_map(name, ctx.ws.path)
            return {s.key: s.label(lang) for s in smap.segments}
        if method == "tiers":
            from crmkit.segment.tiers import tier_catalog

            cat = tier_catalog()
        elif method == "lifecycle":
            from crmkit.segment.lifecycle import lifecycle_catalog

            cat = lifecycle_catalog()
        else:
            return {}
    except Exception:  # a map that cannot be loaded: show the stable keys instead
        return {}
    return dict(zip(cat["segment"], cat[col], strict=True))


def _method_title(ctx: Ctx, method: str) -> str:
    base = method.split(":", 1)[0]
    title = ctx.t(base) if base in METHOD_ORDER else method
    return f"{title} ({method.split(':', 1)[1]})" if ":" in method else title


def segments(ctx: Ctx) -> Section:
    """Latest recorded membership per segmentation method, and movement since the run before."""
    try:
        from crmkit.segment.history import movement
    except ImportError:
        raise Missing(ctx.t("r_module", module="crmkit.segment")) from None
    hist = ctx.need("segment_history", "how_segment").filter(
        pl.col("as_of").cast(pl.Date) <= ctx.as_of
    )
    methods = hist.select(pl.col("method").unique()).collect()["method"].to_list()
    if not methods:
        raise Missing(ctx.t("r_empty", table="segment_history", as_of=ctx.as_of))
    methods.sort(key=lambda m: (_rank(m), m))
    sec = Section("segments", ctx.t("segments"))
    for method in methods:
        labels = _segment_labels(ctx, method)
        order = {k: i for i, k in enumerate(labels)}
        h = hist.filter(pl.col("method") == method)
        last = h.select(pl.col("as_of").max()).collect().item()
        dist = (
            h.filter(pl.col("as_of") == last)
            .group_by("segment")
            .agg(pl.len().cast(pl.Int64).alias("customers"))
            .collect()
            .with_columns(
                (pl.col("customers") / pl.col("customers").sum()).alias("share"),
                pl.col("segment").replace_strict(labels, default=pl.col("segment")).alias("label"),
                pl.col("segment")
                .replace_strict(order, default=len(order), return_dtype=pl.Int64)
                .alias("_o"),
            )
            .sort("_o", "segment")
            .drop("_o")
        )
        title = f"{_method_title(ctx, method)} · {ctx.fmt_date(last)}"
        key = method.replace(":", "_")
        sec.tables.append(
            Table(
                f"dist_{key}",
                title,
                [
                    Column("label", ctx.t("segment")),
                    Column("customers", ctx.t("customers"), "int"),
                    Column("share", ctx.t("share"), "percent"),
                ],
                dist,
            )
        )
        sec.charts.append(
            Chart(
                f"dist_{key}",
                title,
                "hbar",
                f"dist_{key}",
                "customers",
                "label",
                x_title=ctx.t("customers"),
                y_title="",
                detail=f"dist_{key}",
            )
        )
        old, new, moves = movement(h, method)
        if old is None:
            sec.notes.append(ctx.t("no_migration", method=_method_title(ctx, method)))
            continue
        rank = {"(none)": -1, **order}
        moves = (
            moves.with_columns(
                pl.col("from_segment")
                .replace_strict(rank, default=len(rank), return_dtype=pl.Int64)
                .alias("_f"),
                pl.col("to_segment")
                .replace_strict(rank, default=len(rank), return_dtype=pl.Int64)
                .alias("_t"),
            )
            .sort("_f", "_t", "from_segment", "to_segment")
            .drop("_f", "_t")
        )
        moves = moves.with_columns(
            pl.col("from_segment").replace_strict(labels, default=pl.col("from_segment")),
            pl.col("to_segment").replace_strict(labels, default=pl.col("to_segment")),
            pl.col("customers").cast(pl.Int64),
        )
        mtitle = ctx.t("migration_between", old=ctx.fmt_date(old), new=ctx.fmt_date(new))
        mtitle = f"{_method_title(ctx, method)} · {mtitle}"
        moved = (
            moves.filter(pl.col("from_segment") != pl.col("to_segment"))
            .sort(["customers", "from_segment", "to_segment"], descending=[True, False, False])
            .head(ctx.settings["migration_rows"])
        )
        sec.tables.append(
            Table(
                f"migration_{key}",
                mtitle,
                [
                    Column("from_segment", ctx.t("from_segment")),
                    Column("to_segment", ctx.t("to_segment")),
                    Column("customers", ctx.t("customers"), "int"),
                ],
                moved,
            )
        )
        sec.tables.append(Table(f"matrix_{key}", "", [], moves))
        sec.charts.append(
            Chart(
                f"migration_{key}",
                mtitle,
                "heatmap",
                f"matrix_{key}",
                "to_segment",
                "from_segment",
                color="customers",
                x_title=ctx.t("to_segment"),
                y_title=ctx.t("from_segment"),
                order=["(none)", *labels.values()],
                detail=f"migration_{key}",
            )
        )
    return sec


def _rank(method: str) -> int:
    base = method.split(":", 1)[0]
    return METHOD_ORDER.index(base) if base in METHOD_ORDER else len(METHOD_ORDER)


def clv(ctx: Ctx) -> Section:
    """Predicted CLV: distribution over customers and the top customers (privacy applied)."""
    pred = _clv_predictions(ctx)
    need = {"customer_key", "clv"}
    if not need <= set(pred.columns):
        raise Missing(ctx.t("r_error", error="clv_predictions lacks customer_key/clv"))
    pred = pred.with_columns(pl.col("clv").cast(pl.Float64)).filter(pl.col("clv").is_not_null())
    if pred.height == 0:
        raise Missing(ctx.t("r_empty", table="clv_predictions", as_of=ctx.as_of))
    sec = Section("clv", ctx.t("clv"))
    summary = {
        ctx.t("clv_customers"): pred.height,
        ctx.t("clv_total"): pred["clv"].sum(),
        ctx.t("clv_mean"): pred["clv"].mean(),
    }
    kinds = {ctx.t("clv_customers"): "int"}
    rows = [
        {"label": k, "value": v, "unit": "count" if kinds.get(k) else "currency"}
        for k, v in summary.items()
    ]
    for col in ("model", "calibration_end", "horizon_days", "monthly_discount_rate", "margin"):
        if col in pred.columns:
            v = pred[col].drop_nulls()
            rows.append({"label": col, "value": None if v.is_empty() else str(v[0]), "unit": None})
    sec.tables.append(
        Table(
            "clv_summary",
            ctx.t("summary"),
            [Column("label", ctx.t("name")), Column("value_text", ctx.t("value"))],
            _summary_frame(ctx, rows),
        )
    )
    sec.tables.append(Table("clv_hist", "", [], _histogram(pred["clv"], ctx)))
    sec.charts.append(
        Chart(
            "clv_hist",
            ctx.t("clv_histogram"),
            "bar",
            "clv_hist",
            "band",
            "customers",
            x_title=ctx.t("clv_band"),
            y_title=ctx.t("customers"),
            y_format=",.0f",
        )
    )
    top = pred.sort(["clv", "customer_key"], descending=[True, False]).head(
        ctx.settings["top_customers"]
    )
    top, cols = with_people(ctx, top)
    top = top.sort(["clv", "customer_key"], descending=[True, False])
    for c, kind in (("p_alive", "percent"), ("expected_purchases", "number"), ("clv", "money")):
        if c in top.columns:
            cols.append(Column(c, ctx.t("clv_value" if c == "clv" else c), kind))
    sec.tables.append(Table("top_customers", ctx.t("top_customers"), cols, top))
    return sec


def with_people(ctx: Ctx, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Column]]:
    """Add customer names (and contacts) to a frame with customer_key, with privacy applied.

    Returns the frame and the columns to show: key, name (unless names are hidden) and email
    and phone only with include_pii. The caller restores its own row order.
    """
    if ctx.ws.has_table("customers"):
        wanted = [
            c
            for c in ("customer_key", "full_name", "email", "phone")
            if c in ctx.ws.table("customers").collect_schema().names()
        ]
        people = (
            ctx.ws.table("customers")
            .select(wanted)
            .filter(pl.col("customer_key").is_in(frame["customer_key"].implode()))
            .unique("customer_key", keep="first")  # of the few listed, not of every customer
        )
        frame = frame.lazy().join(people, on="customer_key", how="left").collect()
    frame = protect(frame, include_pii=ctx.include_pii, names=ctx.settings["names"])
    cols = [Column("customer_key", ctx.t("customer_key"))]
    if "full_name" in frame.columns and ctx.settings["names"] != "hidden":
        cols.append(Column("full_name", ctx.t("customer")))
    if ctx.include_pii:
        cols += [Column(c, ctx.t(c)) for c in ("email", "phone") if c in frame.columns]
    return frame, cols


def _clv_predictions(ctx: Ctx) -> pl.DataFrame:
    """The latest CLV predictions (the warehouse table `crmkit clv predict` writes)."""
    if ctx.ws.has_table("clv_predictions"):
        return ctx.ws.table("clv_predictions").collect()
    raise Missing(ctx.t("r_no_table", table="clv_predictions", how=ctx.t("how_clv")))


def _summary_frame(ctx: Ctx, rows: list[dict[str, Any]]) -> pl.DataFrame:
    f = ctx.formatter
    text = [f.metric(r["value"], r["unit"]) if r["unit"] else (r["value"] or "—") for r in rows]
    return pl.DataFrame(
        {
            "label": [r["label"] for r in rows],
            "value": [r["value"] if r["unit"] else None for r in rows],
            "value_text": text,
        },
        schema={"label": pl.String, "value": pl.Float64, "value_text": pl.String},
        strict=False,
    )


def _histogram(values: pl.Series, ctx: Ctx, bins: int = 12) -> pl.DataFrame:
    """Customers per CLV band: equal widths from 0 to the 99th percentile, the rest in the last."""
    lo = min(0.0, float(values.min()))
    hi = float(values.quantile(0.99) or values.max())
    if hi <= lo:
        hi = lo + 1.0
    width = (hi - lo) / bins
    idx = ((values - lo) / width).floor().clip(0, bins - 1).cast(pl.Int64)
    counts = idx.value_counts().rename({idx.name: "i", "count": "customers"})
    grid = pl.DataFrame({"i": list(range(bins))}, schema={"i": pl.Int64})
    f = ctx.formatter
    out = grid.join(counts, on="i", how="left").with_columns(pl.col("customers").fill_null(0))
    labels = [
        f"{f.money(lo + i * width, 0)}–{f.money(lo + (i + 1) * width, 0)}" for i in range(bins)
    ]
    labels[-1] = f"≥ {f.money(lo + (bins - 1) * width, 0)}"
    return out.with_columns(pl.Series("band", labels), pl.col("customers").cast(pl.Int64))


def satisfaction(ctx: Ctx) -> Section:
    """Satisfaction and service metrics, NPS answer groups and tickets by month."""
    has_surveys = ctx.ws.has_table("survey_responses")
    has_tickets = ctx.ws.has_table("tickets")
    if not (has_surveys or has_tickets):
        raise Missing(
            ctx.t("r_no_table", table="survey_responses / tickets", how=ctx.t("how_survey"))
        )
    sec = Section("satisfaction", ctx.t("satisfaction"))
    if ctx.metrics is not None:
        frame = _metric_rows(ctx, ("satisfaction", "service"))
        sec.tables.append(_metric_table(ctx, frame, "satisfaction_metrics", ctx.t("metrics")))
    start = dt.datetime.combine(ctx.period.start, dt.time(), tzinfo=dt.UTC)
    stop = dt.datetime.combine(ctx.period.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    if has_surveys:
        lo, hi = (ctx.ws.config.get("scales") or {}).get("nps", [0, 10])
        nps = (
            ctx.ws.table("survey_responses")
            .filter(pl.col("responded_at").is_between(start, stop, closed="left"))
            .filter(pl.col("nps").is_between(lo, hi))
            .select(
                pl.when(pl.col("nps") >= 9)
                .then(pl.lit("promoters"))
                .when(pl.col("nps") >= 7)
                .then(pl.lit("passives"))
                .otherwise(pl.lit("detractors"))
                .alias("g")
            )
            .group_by("g")
            .agg(pl.len().cast(pl.Int64).alias("answers"))
            .collect()
        )
        groups = pl.DataFrame({"g": ["promoters", "passives", "detractors"]})
        nps = groups.join(nps, on="g", how="left").with_columns(pl.col("answers").fill_null(0))
        if nps["answers"].sum() > 0:
            nps = nps.with_columns(
                pl.col("g").replace_strict({g: ctx.t(g) for g in groups["g"]}).alias("group"),
                (pl.col("answers") / pl.col("answers").sum()).alias("share"),
            )
            sec.tables.append(
                Table(
                    "nps_groups",
                    ctx.t("nps_groups"),
                    [
                        Column("group", ctx.t("group")),
                        Column("answers", ctx.t("answers"), "int"),
                        Column("share", ctx.t("share"), "percent"),
                    ],
                    nps.drop("g"),
                )
            )
            sec.charts.append(
                Chart(
                    "nps_groups",
                    ctx.t("nps_groups"),
                    "hbar",
                    "nps_groups",
                    "answers",
                    "group",
                    x_title=ctx.t("answers"),
                    detail="nps_groups",
                )
            )
    if has_tickets:
        grid = _month_grid(ctx, ctx.settings["trend_months"])
        tickets = (
            ctx.ws.table("tickets")
            .filter(pl.col("created_at") < ctx.end)
            .group_by(
                pl.col("created_at")
                .dt.convert_time_zone(ctx.tz)
                .dt.truncate("1mo")
                .dt.date()
                .alias("month")
            )
            .agg(pl.len().cast(pl.Int64).alias("tickets"))
        )
        frame = (
            grid.lazy()
            .join(tickets, on="month", how="left")
            .with_columns(pl.col("tickets").fill_null(0))
            .sort("month")
            .collect()
        )
        sec.tables.append(
            Table(
                "tickets_by_month",
                ctx.t("tickets_by_month"),
                [
                    Column("month", ctx.t("month"), "month"),
                    Column("tickets", ctx.t("tickets"), "int"),
                ],
                frame,
            )
        )
        sec.charts.append(
            Chart(
                "tickets",
                ctx.t("tickets_by_month"),
                "bar",
                "tickets_by_month",
                "month",
                "tickets",
                x_title=ctx.t("month"),
                y_title=ctx.t("tickets"),
                detail="tickets_by_month",
            )
        )
    return sec


def quality(ctx: Ctx) -> Section:
    """Rejected rows by reason, references not resolved to a customer, ingested files."""
    ws = ctx.ws
    if not ws.warehouse.tables():
        raise Missing(ctx.t("r_no_table", table="warehouse", how=ctx.t("how_ingest")))
    sec = Section("quality", ctx.t("quality"))
    if ws.has_table("manifest"):
        m = (
            ws.table("manifest")
            .select(
                pl.len().cast(pl.Int64).alias("files"),
                *(
                    pl.col(c).sum().cast(pl.Int64)
                    for c in ("rows_read", "rows_accepted", "rows_rejected", "rows_duplicate")
                ),
            )
            .collect()
        )
        sec.tables.append(
            Table(
                "files",
                ctx.t("files"),
                [Column("files", ctx.t("files_count"), "int")]
                + [Column(c, ctx.t(c), "int") for c in m.columns if c != "files"],
                m,
            )
        )
    rejects = (
        ws.table("rejects")
        .group_by("table", "reason_code")
        .agg(pl.len().cast(pl.Int64).alias("rows"))
        .sort(["rows", "table", "reason_code"], descending=[True, False, False])
        .collect()
        if ws.has_table("rejects")
        else pl.DataFrame(schema={"table": pl.String, "reason_code": pl.String, "rows": pl.Int64})
    )
    if rejects.height == 0:
        sec.notes.append(ctx.t("no_rejects"))
    else:
        rejects = rejects.with_columns(
            pl.col("reason_code").map_elements(scrub, return_dtype=pl.String)
        )
        rejects = rejects.with_columns(
            (pl.col("table") + " · " + pl.col("reason_code")).alias("label")
        )
        sec.tables.append(
            Table(
                "rejects",
                ctx.t("rejects"),
                [
                    Column("table", ctx.t("table")),
                    Column("reason_code", ctx.t("reason_code")),
                    Column("rows", ctx.t("rows"), "int"),
                ],
                rejects,
            )
        )
        sec.charts.append(
            Chart(
                "rejects",
                ctx.t("rejects"),
                "hbar",
                "rejects",
                "rows",
                "label",
                x_title=ctx.t("rows"),
                detail="rejects",
            )
        )
    unresolved = []
    for name in REF_TABLES:
        if not ws.has_table(name):
            continue
        lf = ws.table(name)
        refs = [c for c in REF_COLUMNS if c in lf.collect_schema().names()]
        if not refs or "customer_key" not in lf.collect_schema().names():
            continue
        has_ref = pl.any_horizontal(pl.col(c).is_not_null() for c in refs)
        row = (
            lf.filter(has_ref)
            .select(
                pl.len().cast(pl.Int64).alias("with_reference"),
                pl.col("customer_key").is_null().sum().cast(pl.Int64).alias("unresolved_rows"),
            )
            .collect()
            .row(0, named=True)
        )
        share = row["unresolved_rows"] / row["with_reference"] if row["with_reference"] else None
        unresolved.append({"table": name, **row, "unresolved_share": share})
    if unresolved:
        sec.tables.append(
            Table(
                "unresolved",
                ctx.t("unresolved"),
                [
                    Column("table", ctx.t("table")),
                    Column("with_reference", ctx.t("with_reference"), "int"),
                    Column("unresolved_rows", ctx.t("unresolved_rows"), "int"),
                    Column("unresolved_share", ctx.t("unresolved_share"), "percent"),
                ],
                pl.DataFrame(
                    unresolved,
                    schema={
                        "table": pl.String,
                        "with_reference": pl.Int64,
                        "unresolved_rows": pl.Int64,
                        "unresolved_share": pl.Float64,
                    },
                ),
            )
        )
    return sec


# Definitions of the report's own figures (trends, cohorts, CLV bands), shown in the appendix.
REPORT_FORMULAS = {
    "net_revenue (monthly)": "sum of net_amount of completed orders ordered in the month "
    "(metrics.completed_statuses; null status counts as completed), in the workspace time zone",
    "orders (monthly)": "count of completed orders in the month",
    "purchasing customers (monthly)": "distinct customer_key with a completed order in the month",
    "new customers (monthly)": "customers whose first completed order falls in the month",
    "cohort share": "customers of a first-purchase month who bought again N months later / "
    "cohort customers whose month N is complete (incomplete cells blank)",
    "CLV bands": "12 equal-width bands from 0 to the 99th percentile of predicted CLV; "
    "the last band holds everything above",
    "NPS groups": "answers in the period: promoters 9-10, passives 7-8, detractors 0-6",
    "unresolved references": "rows with customer_id, customer_email or customer_phone whose "
    "customer_key is null",
    "days between purchases": "per customer, days between consecutive purchase days (orders on "
    "the same UTC day are one occasion); all purchases up to as-of (crmkit cycle)",
    "overdue valuable customers": "expected next purchase = last purchase day + the customer's "
    "median gap (population median for one purchase day) before as-of; customers lapsed beyond "
    "windows.active_window left out; top 10 by net revenue",
    "basket support / confidence / lift": "support = orders with both / purchase orders; "
    "confidence(A→B) = support(A∪B) / support(A); lift = confidence / support(B); thresholds "
    "analysis.basket_min_support|min_confidence|min_lift (crmkit basket)",
    "key drivers": "Johnson's relative weights of the attribute ratings for NPS on complete "
    "responses (weights sum to R²; importance = weight / R²); fix first = importance above and "
    "performance below the attributes' mean (crmkit survey --drivers nps)",
    "feedback contrast": "share of detractor texts mentioning a term − share of promoter texts; "
    "sentiment in [-1, 1] by SnowNLP (Chinese) or VADER (English) (crmkit feedback)",
}


def appendix(ctx: Ctx, report_settings: dict[str, Any]) -> Section:
    """Every formula (metric registry and the report's own) and every setting used."""
    sec = Section("appendix", ctx.t("appendix"))
    rows: list[dict[str, Any]] = []
    try:
        from crmkit.metrics.registry import REGISTRY, load

        load()
        for m in REGISTRY.values():
            rows.append({"name": m.name, "display": m.display(ctx.lang), "formula": m.formula})
    except ImportError:
        sec.notes.append(ctx.t("r_module", module="crmkit.metrics"))
    for name, formula in REPORT_FORMULAS.items():
        rows.append({"name": name, "display": name, "formula": formula})
    sec.tables.append(
        Table(
            "formulas",
            ctx.t("formulas"),
            [
                Column("name", ctx.t("metric")),
                Column("display", ctx.t("name")),
                Column("formula", ctx.t("formula")),
            ],
            pl.DataFrame(
                rows, schema={"name": pl.String, "display": pl.String, "formula": pl.String}
            ),
        )
    )
    cfg = ctx.ws.config
    settings: dict[str, Any] = {
        "period": f"{ctx.period.label} ({ctx.period.start}..{ctx.period.end})",
        "compare": f"{ctx.compare.start}..{ctx.compare.end}" if ctx.compare else None,
        "as_of": ctx.as_of.isoformat(),
        "timezone": cfg.get("timezone"),
        "currency": cfg.get("currency"),
        "fiscal_year_start": cfg.get("fiscal_year_start"),
    }
    for section in ("windows", "thresholds", "scales", "targets"):
        for k, v in (cfg.get(section) or {}).items():
            settings[f"{section}.{k}"] = v
    if ctx.metrics is not None:
        for k, v in ctx.metrics.settings.items():
            settings.setdefault(k, v)
    for k, v in report_settings.items():
        settings[f"report.{k}"] = v
    settings["report.include_pii"] = ctx.include_pii
    srows = [
        {
            "setting": k,
            "value": v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str),
        }
        for k, v in settings.items()
    ]
    sec.tables.append(
        Table(
            "settings",
            ctx.t("settings"),
            [Column("setting", ctx.t("setting")), Column("value", ctx.t("value"))],
            pl.DataFrame(srows, schema={"setting": pl.String, "value": pl.String}),
        )
    )
    return sec
