"""Compute metrics for a period: run the registry over shared facts, compare, check targets.

The result is a long polars DataFrame, one row per metric (× breakdown group), whose columns are
documented in docs/metrics.md and are the stable JSON/CSV shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from crmkit.config import Config
from crmkit.errors import UsageError
from crmkit.metrics.context import Context, Shared, check_dims
from crmkit.metrics.registry import REGISTRY, Metric, Unavailable, load, ordered
from crmkit.metrics.settings import METRICS_DEFAULTS, get_setting
from crmkit.periods import Period, check_within, compare_period, parse_period

DEFAULT_PERIOD = "last-90d"
# Columns carrying each table's dates (as in crmkit.workspace.TIME_COLUMNS).
TIME_COLUMNS = {
    "orders": "ordered_at",
    "tickets": "created_at",
    "survey_responses": "responded_at",
    "events": "occurred_at",
    "marketing_spend": "date",
}
CORE = ("value", "n", "reason")


@dataclass
class MetricsResult:
    """Metric rows plus what produced them (periods, as-of, settings, warnings)."""

    frame: pl.DataFrame
    period: Period
    compare: Period | None
    compare_mode: str | None
    as_of: date
    by: list[str]
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def in_language(self, lang: str) -> MetricsResult:
        """The same result with the metric names (`name`) in `lang` (en or zh)."""
        load()
        names = {m: REGISTRY[m].display(lang) for m in self.frame["metric"].unique()}
        frame = self.frame.with_columns(pl.col("metric").replace_strict(names).alias("name"))
        return replace(self, frame=frame)

    @property
    def targets_missed(self) -> pl.DataFrame:
        """Rows whose value misses its target."""
        return self.frame.filter(pl.col("target_met").not_())

    def to_document(self) -> dict[str, Any]:
        """The stable JSON shape (see docs/metrics.md)."""
        rows = []
        for r in self.frame.to_dicts():
            rows.append(
                {
                    "metric": r["metric"],
                    "name": r["name"],
                    "family": r["family"],
                    "unit": r["unit"],
                    "direction": r["direction"],
                    "group": {d: r[d] for d in self.by},
                    "value": r["value"],
                    "n": r["n"],
                    "status": r["status"],
                    "reason": r["reason"],
                    "compare_value": r["compare_value"],
                    "delta": r["delta"],
                    "delta_pct": r["delta_pct"],
                    "target": None
                    if r["target_min"] is None and r["target_max"] is None
                    else {"min": r["target_min"], "max": r["target_max"]},
                    "target_met": r["target_met"],
                    "attainment": r["attainment"],
                    "details": json.loads(r["details"]) if r["details"] else {},
                }
            )
        compare = None
        if self.compare is not None:
            compare = {"mode": self.compare_mode, **self.compare.to_dict()}
        return {
            "version": 1,
            "as_of": self.as_of.isoformat(),
            "period": self.period.to_dict(),
            "compare": compare,
            "by": list(self.by),
            "settings": self.settings,
            "warnings": list(self.warnings),
            "metrics": rows,
        }


def data_range(tables: Mapping[str, pl.LazyFrame]) -> tuple[date | None, date | None]:
    """First and last dates present in the dated tables."""
    first: date | None = None
    last: date | None = None
    for name, col in TIME_COLUMNS.items():
        lf = tables.get(name)
        if lf is None or col not in lf.collect_schema().names():
            continue
        bounds = lf.select(pl.col(col).min().alias("lo"), pl.col(col).max().alias("hi"))
        lo, hi = bounds.collect().row(0)
        if lo is None:
            continue
        lo = lo.date() if isinstance(lo, datetime) else lo
        hi = hi.date() if isinstance(hi, datetime) else hi
        first = lo if first is None or lo < first else first
        last = hi if last is None or hi > last else last
    return first, last


def select_metrics(names: Sequence[str] | None) -> list[Metric]:
    """The metrics asked for (all when none), in registry order; `UsageError` for unknown names."""
    load()
    if not names:
        return ordered()
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise UsageError(
            f"unknown metric(s): {', '.join(unknown)}",
            hint=f"known metrics: {', '.join(REGISTRY)}",
        )
    wanted = set(names)
    return [m for m in ordered() if m.name in wanted]


def _by(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    items = [by] if isinstance(by, str) else list(by)
    return [p.strip() for item in items for p in item.split(",") if p.strip()]


def run_metric(m: Metric, ctx: Context) -> pl.DataFrame:
    """One metric's rows: breakdown columns (as text), value, n, reason, status, details."""
    by = ctx.by
    try:
        if ctx.shared.order_dims and not m.order_dims:
            raise Unavailable(
                f"cannot be split by an order column ({', '.join(ctx.shared.order_dims)})"
            )
        out = m.fn(ctx)
        status = "ok"
        if out.height == 0:
            raise Unavailable("no data for it up to the period end")
    except Unavailable as exc:
        out = pl.DataFrame({"reason": [str(exc)]})
        status = "unavailable"
    except pl.exceptions.PolarsError as exc:  # a column the data lack, a type they don't fit
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        out = pl.DataFrame({"reason": [f"cannot compute from these data: {first}"]})
        status = "unavailable"
    out = out.with_columns(
        pl.col(c).cast(pl.Float64) for c, t in out.schema.items() if isinstance(t, pl.Decimal)
    )
    for c, dtype in (("value", pl.Float64), ("n", pl.Int64), ("reason", pl.String)):
        if c not in out.columns:
            out = out.with_columns(pl.lit(None, dtype).alias(c))
    for d in by:
        if d not in out.columns:
            out = out.with_columns(pl.lit(None, pl.String).alias(d))
    extra = [c for c in out.columns if c not in (*CORE, *by) and not c.startswith("_")]
    details = (pl.struct(extra).struct.json_encode() if extra else pl.lit(None, pl.String)).alias(
        "details"
    )
    value = pl.col("value").cast(pl.Float64)
    value = pl.when(value.is_nan() | value.is_infinite()).then(None).otherwise(value)
    out = out.select(
        *(pl.col(d).cast(pl.String) for d in by),
        value.alias("value"),
        pl.col("n").cast(pl.Int64),
        details,
        pl.col("reason").cast(pl.String),
    )
    return out.with_columns(
        status=pl.when(pl.lit(status) == "unavailable")
        .then(pl.lit("unavailable"))
        .when(pl.col("value").is_null())
        .then(pl.lit("undefined"))
        .otherwise(pl.lit("ok")),
    ).with_columns(
        reason=pl.when(pl.col("status") == "ok")
        .then(None)
        .otherwise(
            pl.col("reason").fill_null(
                pl.when(pl.col("n") == 0)
                .then(pl.lit("undefined: n = 0 (nothing to divide by)"))
                .otherwise(pl.lit("undefined: no data for it in the period"))
            )
        )
    )


def _targets(config: Config, names: list[str], warnings: list[str]) -> pl.DataFrame:
    targets = config.get("targets") or {}
    rows = []
    for name, spec in targets.items():
        if name not in REGISTRY:
            warnings.append(f"target for unknown metric {name!r} ignored")
            continue
        if not isinstance(spec, Mapping) or not ({"min", "max"} & set(spec)):
            warnings.append(f"target for {name} needs min and/or max; ignored")
            continue
        lo, hi = spec.get("min"), spec.get("max")
        rows.append(
            {
                "metric": name,
                "target_min": None if lo is None else float(lo),
                "target_max": None if hi is None else float(hi),
            }
        )
    schema = {"metric": pl.String, "target_min": pl.Float64, "target_max": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _target_columns() -> list[pl.Expr]:
    v, lo, hi = pl.col("value"), pl.col("target_min"), pl.col("target_max")
    has = lo.is_not_null() | hi.is_not_null()
    met = (lo.is_null() | (v >= lo)) & (hi.is_null() | (v <= hi))
    return [
        pl.when(has & v.is_not_null()).then(met).otherwise(None).alias("target_met"),
        pl.when(v.is_null())
        .then(None)
        .when(lo.is_not_null() & (lo > 0))
        .then(v / lo)
        .when(hi.is_not_null() & (v > 0))
        .then(hi / v)
        .otherwise(None)
        .alias("attainment"),
    ]


def compute_result(
    tables: Mapping[str, pl.LazyFrame],
    config: Config,
    period: str | Period | None = None,
    *,
    by: str | Sequence[str] | None = None,
    compare: str | None = None,
    metrics: Sequence[str] | None = None,
    as_of: date | None = None,
    lang: str = "en",
) -> MetricsResult:
    """Compute the chosen metrics for a period from in-memory or scanned tables."""
    return compute_results(
        tables,
        config,
        [period],
        by=by,
        compare=compare,
        metrics=metrics,
        as_of=as_of,
        lang=lang,
    )[0]


@dataclass
class _Plan:
    """One requested period, its comparison period and the warnings that go with them."""

    period: Period
    compare: Period | None
    warnings: list[str]

    @property
    def periods(self) -> list[Period]:
        return [self.period] if self.compare is None else [self.period, self.compare]

    @property
    def horizon(self) -> date:
        return max(p.end for p in self.periods)


def compute_results(
    tables: Mapping[str, pl.LazyFrame],
    config: Config,
    periods: Sequence[str | Period | None],
    *,
    by: str | Sequence[str] | None = None,
    compare: str | None = None,
    metrics: Sequence[str] | None = None,
    as_of: date | None = None,
    lang: str = "en",
) -> list[MetricsResult]:
    """`compute_result` for several periods, one result each, in the order given.

    Periods that end on the same day (and their comparison periods) share one context: the
    per-customer order facts of all of them come from one pass over the orders, so `crmkit
    run`'s periods (last-90d, last-365d, …) cost little more than one.
    """
    tables = {k: (v.lazy() if isinstance(v, pl.DataFrame) else v) for k, v in tables.items()}
    chosen = select_metrics(metrics)
    by_cols = _by(by)
    first, last = data_range(tables)
    as_of = as_of or last
    if as_of is None:
        from crmkit.errors import DataError

        raise DataError("the warehouse has no dated rows", hint="run `crmkit ingest` first")
    plans = [_plan(config, text, compare, as_of, (first, last), chosen) for text in periods]
    used = sorted({s for m in chosen for s in m.settings})
    settings = {s: get_setting(config, s) for s in used}
    results: dict[int, MetricsResult] = {}  # by the plan's place in `periods`
    # Periods that end on the same day share a context. (Facts stop at the latest end of the
    # context's periods; a later end would add breakdown groups seen only after a period.)
    for horizon in dict.fromkeys(plan.horizon for plan in plans):
        group = [i for i, plan in enumerate(plans) if plan.horizon == horizon]
        shared = Shared(
            tables=tables,
            config=config,
            as_of=as_of,
            by=tuple(by_cols),
            periods=[q for i in group for q in plans[i].periods],
        )
        check_dims(shared)
        index = 0  # the plan's period in `shared.periods`; its comparison period follows it
        for i in group:
            plan = plans[i]
            out = _metric_rows(shared, index, plan, chosen, by_cols, lang)
            targets = _targets(config, [m.name for m in chosen], plan.warnings)
            results[i] = MetricsResult(
                frame=_finish(
                    out.join(targets, on="metric", how="left"), plan.period, as_of, by_cols
                ),
                period=plan.period,
                compare=plan.compare,
                compare_mode=compare,
                as_of=as_of,
                by=by_cols,
                settings=settings,
                warnings=plan.warnings,
            )
            index += len(plan.periods)
    return [results[i] for i in range(len(plans))]


def _plan(
    config: Config,
    period: str | Period | None,
    compare: str | None,
    as_of: date,
    data: tuple[date | None, date | None],
    chosen: Sequence[Metric],
) -> _Plan:
    """The period asked for, its comparison period, and warnings about both; `data` is the
    first and last date in the tables."""
    first, last = data
    fy = int(config.get("fiscal_year_start") or 1)
    text = period or DEFAULT_PERIOD
    p = period if isinstance(period, Period) else parse_period(str(text), as_of, fy)
    check_within(p, first, last)
    cmp = compare_period(p, compare)
    warnings: list[str] = []
    unknown = sorted(set(config.get("metrics") or {}) - set(METRICS_DEFAULTS))
    if unknown:
        warnings.append(f"unknown setting(s) under metrics: {', '.join(unknown)} (ignored)")
    if cmp is not None and first is not None and cmp.start < first:
        warnings.append(
            f"compare period {cmp.start}..{cmp.end} starts before the data ({first}); "
            "its values cover only part of it"
        )
    if any("windows.active_window" in m.settings for m in chosen) and first is not None:
        window = int(get_setting(config, "windows.active_window"))
        for q in (p, cmp):
            if q is not None and q.start - timedelta(days=window) < first:
                warnings.append(
                    f"the {window}-day active window before {q.start} reaches before the data "
                    f"({first}): customers active at the start (S) may be understated"
                )
    return _Plan(p, cmp, warnings)


def _metric_rows(
    shared: Shared,
    index: int,
    plan: _Plan,
    chosen: Sequence[Metric],
    by_cols: list[str],
    lang: str,
) -> pl.DataFrame:
    """Every chosen metric for the period at `index` (compare values from `index + 1`)."""
    frames = []
    for m in chosen:
        cur = run_metric(m, Context(shared, index))
        if plan.compare is not None:
            prev = run_metric(m, Context(shared, index + 1)).select(*by_cols, compare_value="value")
            if by_cols:
                cur = cur.join(prev, on=by_cols, how="left", nulls_equal=True)
            else:
                cur = pl.concat([cur, prev.head(1)], how="horizontal")
        else:
            cur = cur.with_columns(compare_value=pl.lit(None, pl.Float64))
        frames.append(
            cur.with_columns(
                metric=pl.lit(m.name),
                name=pl.lit(m.display(lang)),
                family=pl.lit(m.family),
                unit=pl.lit(m.unit),
                direction=pl.lit(m.direction),
            )
        )
    out = pl.concat(frames, how="diagonal_relaxed")
    delta = pl.col("value") - pl.col("compare_value")
    return out.with_columns(
        delta=delta,
        delta_pct=pl.when(pl.col("compare_value") != 0).then(delta / pl.col("compare_value").abs()),
    )


def _finish(out: pl.DataFrame, p: Period, as_of: date, by_cols: list[str]) -> pl.DataFrame:
    """Target columns, the period columns, and the result's column order."""
    out = out.with_columns(*_target_columns())
    return out.with_columns(
        period=pl.lit(p.label),
        period_start=pl.lit(p.start),
        period_end=pl.lit(p.end),
        as_of=pl.lit(as_of),
    ).select(
        "metric",
        "name",
        "family",
        "unit",
        "direction",
        *by_cols,
        "value",
        "n",
        "status",
        "reason",
        "compare_value",
        "delta",
        "delta_pct",
        "target_min",
        "target_max",
        "target_met",
        "attainment",
        "details",
        "period",
        "period_start",
        "period_end",
        "as_of",
    )


def compute_tables(
    tables: Mapping[str, pl.LazyFrame],
    config: Config,
    period: str | Period | None = None,
    **kwargs: Any,
) -> pl.DataFrame:
    """Metric rows (see `compute_result`) from a mapping of table name → LazyFrame."""
    return compute_result(tables, config, period, **kwargs).frame


def workspace_result(ws: Any, period: str | Period | None = None, **kwargs: Any) -> MetricsResult:
    """`compute_result` over a workspace's stored tables (as-of defaults to its last date)."""
    return compute_result(ws.tables(), ws.config, period, **kwargs)


def compute(
    ws: Any,
    period: str | Period | None = None,
    *,
    by: str | Sequence[str] | None = None,
    compare: str | None = None,
    metrics: Sequence[str] | None = None,
    as_of: date | None = None,
    lang: str = "en",
) -> pl.DataFrame:
    """`Workspace.metrics(...)`: metric rows for a period of a workspace, as a DataFrame."""
    return workspace_result(
        ws, period, by=by, compare=compare, metrics=metrics, as_of=as_of, lang=lang
    ).frame
