"""Satisfaction metrics from survey responses in the period: NPS, CSAT, CSI, CES, feedback.

Scales come from the config (`scales.csat`, `scales.ces`), never guessed from the answers.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from crmkit.metrics.context import Context, ratio
from crmkit.metrics.registry import Unavailable, metric
from crmkit.metrics.retention import BASE_CAVEAT, WINDOW, base_rate

Z95 = 1.959963984540054


def nps_interval(promoters: pl.Expr, detractors: pl.Expr, n: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """95% adjusted-Wald interval for NPS, on the −100..100 scale.

    Rocks, B. (2016), "Interval Estimation for the 'Net Promoter Score'", The American
    Statistician 70(4); Sauro, J. (2021), "Confidence intervals for Net Promoter Scores",
    MeasuringU: n' = n + 3, p' = (promoters + 0.75) / n', d' = (detractors + 0.75) / n',
    NPS' = p' − d', var = (p' + d' − NPS'²) / n', interval NPS' ± 1.96·√var, × 100.
    """
    n2 = n.cast(pl.Float64) + 3
    p2 = (promoters.cast(pl.Float64) + 0.75) / n2
    d2 = (detractors.cast(pl.Float64) + 0.75) / n2
    centre = p2 - d2
    half = Z95 * ((p2 + d2 - centre**2) / n2).sqrt()
    return ((centre - half) * 100).clip(-100, 100), ((centre + half) * 100).clip(-100, 100)


def responses(ctx: Context, col: str) -> pl.LazyFrame:
    """Responses in the period with an answer in `col` (dims attached)."""
    lf = ctx.in_period("survey_responses", "responded_at")
    if col not in lf.collect_schema().names():
        raise Unavailable(f"needs survey_responses.{col}")
    return ctx.rows_by(lf.filter(pl.col(col).is_not_null() & pl.col(col).is_not_nan()), col)


def _nonempty(frame: pl.DataFrame, what: str) -> pl.DataFrame:
    if frame.height == 0 or int(frame["n"].sum()) == 0:
        raise Unavailable(f"no {what} answers in the period")
    return frame


def nps_exprs() -> dict[str, pl.Expr]:
    score = pl.col("nps")
    return {
        "promoters": (score >= 9).sum().cast(pl.Int64),
        "passives": ((score > 6) & (score < 9)).sum().cast(pl.Int64),
        "detractors": (score <= 6).sum().cast(pl.Int64),
        "n": pl.len().cast(pl.Int64),
    }


def nps_value() -> pl.Expr:
    return ratio(pl.col("promoters") - pl.col("detractors"), pl.col("n")) * 100


@metric(
    "nps",
    en="Net Promoter Score",
    zh="净推荐值",
    family="satisfaction",
    definition="% promoters (9–10) − % detractors (0–6) of 0–10 answers in the period, with a 95% "
    "adjusted-Wald interval.",
    formula="100 × (promoters − detractors) / n",
    unit="score",
    direction="higher_is_better",
    tables=("survey_responses",),
    settings=("scales.nps",),
    order_dims=False,
    caveats=(
        "Interval: adjusted-Wald (Rocks 2016; Sauro): add 3 answers, 0.75 promoters and "
        "0.75 detractors.",
    ),
)
def nps(ctx: Context) -> pl.DataFrame:
    out = _nonempty(ctx.group(responses(ctx, "nps"), **nps_exprs()), "NPS")
    low, high = nps_interval(pl.col("promoters"), pl.col("detractors"), pl.col("n"))
    return out.with_columns(value=nps_value(), ci_low=low, ci_high=high)


def scale(ctx: Context, key: str) -> tuple[float, float]:
    lo, hi = ctx.setting(key)
    return float(lo), float(hi)


def csat_exprs(lo: float, hi: float) -> dict[str, pl.Expr]:
    return {
        "top2": (pl.col("csat") >= hi - 1).sum().cast(pl.Int64),
        "mean": pl.col("csat").mean(),
        "n": pl.len().cast(pl.Int64),
    }


@metric(
    "csat",
    en="Customer satisfaction (CSAT)",
    zh="客户满意度",
    family="satisfaction",
    definition="Share of CSAT answers in the top two boxes of the declared scale (4–5 of 1–5).",
    formula="answers ≥ scale max − 1 / answers",
    unit="ratio",
    direction="higher_is_better",
    tables=("survey_responses",),
    settings=("scales.csat",),
    order_dims=False,
)
def csat(ctx: Context) -> pl.DataFrame:
    lo, hi = scale(ctx, "scales.csat")
    out = _nonempty(ctx.group(responses(ctx, "csat"), **csat_exprs(lo, hi)), "CSAT")
    return out.with_columns(value=ratio(pl.col("top2"), pl.col("n")))


@metric(
    "csat_mean",
    en="CSAT mean score",
    zh="客户满意度均值",
    family="satisfaction",
    definition="Mean CSAT answer on the declared scale.",
    formula="mean(csat)",
    unit="score",
    direction="higher_is_better",
    tables=("survey_responses",),
    settings=("scales.csat",),
    order_dims=False,
)
def csat_mean(ctx: Context) -> pl.DataFrame:
    lo, hi = scale(ctx, "scales.csat")
    out = _nonempty(ctx.group(responses(ctx, "csat"), **csat_exprs(lo, hi)), "CSAT")
    return out.with_columns(value=pl.col("mean")).drop("mean")


@metric(
    "csi",
    en="Customer satisfaction index",
    zh="客户满意度指数",
    family="satisfaction",
    definition="Mean CSAT answer rescaled to 0–100.",
    formula="100 × (mean(csat) − scale min) / (scale max − scale min)",
    unit="score",
    direction="higher_is_better",
    tables=("survey_responses",),
    settings=("scales.csat",),
    order_dims=False,
)
def csi(ctx: Context) -> pl.DataFrame:
    lo, hi = scale(ctx, "scales.csat")
    out = _nonempty(ctx.group(responses(ctx, "csat"), **csat_exprs(lo, hi)), "CSAT")
    return out.with_columns(value=(pl.col("mean") - lo) / (hi - lo) * 100).drop("mean")


@metric(
    "ces",
    en="Customer effort score",
    zh="客户费力度",
    family="satisfaction",
    definition="Mean effort answer on the declared CES scale.",
    formula="mean(ces)",
    unit="score",
    direction="lower_is_better",
    tables=("survey_responses",),
    settings=("scales.ces",),
    order_dims=False,
    caveats=(
        "Lower is better on the default 1–7 'how much effort' wording; reverse-worded "
        "surveys need their own target.",
    ),
)
def ces(ctx: Context) -> pl.DataFrame:
    out = ctx.group(responses(ctx, "ces"), value=pl.col("ces").mean(), n=pl.len().cast(pl.Int64))
    return _nonempty(out, "CES")


SAT_METRICS = ("nps", "csat", "csat_mean", "csi", "ces")


def _targets(ctx: Context) -> dict[str, dict[str, Any]]:
    targets = ctx.setting("targets") or {}
    names = list(ctx.setting("metrics.satisfaction_targets"))
    return {k: v for k, v in targets.items() if k in names and k in SAT_METRICS and v}


@metric(
    "satisfaction_target_attainment",
    en="Satisfaction target attainment",
    zh="满意度目标达成率",
    family="satisfaction",
    definition="Share of evaluations (each month of the period × each satisfaction metric with a "
    "target) that meet the target.",
    formula="months (per group) meeting the satisfaction targets / months evaluated",
    unit="ratio",
    direction="higher_is_better",
    tables=("survey_responses",),
    settings=("targets", "metrics.satisfaction_targets", "scales.csat"),
    order_dims=False,
    caveats=("Months without answers are not evaluated.",),
    inputs={"met": "evaluations meeting the target", "evaluated": "evaluations"},
)
def satisfaction_target_attainment(ctx: Context) -> pl.DataFrame:
    targets = _targets(ctx)
    if not targets:
        raise Unavailable("no satisfaction target in config `targets` (nps, csat, csi, ces)")
    lo, hi = scale(ctx, "scales.csat")
    keys = [*ctx.by, "_month"]
    checks: list[pl.DataFrame] = []
    for name, bounds in targets.items():
        col = "csat" if name in ("csat", "csat_mean", "csi") else name
        lf = responses(ctx, col).with_columns(_month=pl.col("_d").dt.truncate("1mo"))
        if name == "nps":
            value = nps_value()
            exprs = nps_exprs()
        elif name == "ces":
            value = pl.col("mean")
            exprs = {"mean": pl.col("ces").mean(), "n": pl.len()}
        else:
            exprs = csat_exprs(lo, hi)
            value = {
                "csat": ratio(pl.col("top2"), pl.col("n")),
                "csat_mean": pl.col("mean"),
                "csi": (pl.col("mean") - lo) / (hi - lo) * 100,
            }[name]
        per = lf.group_by(keys).agg(**exprs).with_columns(v=value).collect()
        ok = pl.lit(True)
        if bounds.get("min") is not None:
            ok = ok & (pl.col("v") >= float(bounds["min"]))
        if bounds.get("max") is not None:
            ok = ok & (pl.col("v") <= float(bounds["max"]))
        checks.append(per.select(*keys, met=ok))
    allc = pl.concat(checks)
    if allc.height == 0:
        raise Unavailable("no survey answers in the period")
    return ctx.group(
        allc, met=pl.col("met").sum().cast(pl.Int64), evaluated=pl.len().cast(pl.Int64)
    ).with_columns(value=ratio(pl.col("met"), pl.col("evaluated")), n=pl.col("evaluated"))


@metric(
    "feedback_rate",
    en="Feedback rate",
    zh="客户反馈率",
    family="satisfaction",
    definition="Customers of the base who answered a survey or raised a ticket in the period.",
    formula="customers with a survey response or a ticket in period / customers",
    unit="ratio",
    direction="higher_is_better",
    tables=("orders", "survey_responses", "tickets"),
    settings=WINDOW,
    caveats=(BASE_CAVEAT, "Needs survey_responses or tickets (either is enough)."),
    inputs={"gave_feedback": "base customers with feedback", "customers": "customer base"},
)
def feedback_rate(ctx: Context) -> pl.DataFrame:
    parts = []
    reasons: list[str] = []
    for name, col in (("survey_responses", "responded_at"), ("tickets", "created_at")):
        try:
            parts.append(ctx.in_period(name, col).select("customer_key"))
        except Unavailable as exc:
            reasons.append(str(exc))
    if not parts:
        raise Unavailable("; ".join(reasons))
    flags = (
        pl.concat(parts)
        .filter(pl.col("customer_key").is_not_null())
        .unique()
        .with_columns(gave_feedback=pl.lit(True))
        .collect()
    )
    return base_rate(ctx, flags, "gave_feedback")
