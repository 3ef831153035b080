"""Survey scores with intervals (NPS, CSAT, CES) by segment, channel, period or survey, and the
parsing of answers: declared missing codes (e.g. -99) and out-of-scale values become null.

NPS: 95% adjusted-Wald interval (n' = n + 3, 0.75 added to promoters and detractors).
CSAT: share of answers in the top two boxes of the declared scale, Wilson 95% interval.
CES: mean on the declared scale, t-based 95% interval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import polars as pl
from scipy import stats

from crmkit.analysis.common import end_of, require, resolve_as_of, workspace_segments
from crmkit.errors import DataError, UsageError
from crmkit.metrics.satisfaction import nps_interval

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

By = Literal["segment", "channel", "period", "survey"]
BY = ("segment", "channel", "period", "survey")
Z95 = 1.959963984540054
OVERALL = "(all)"


def clean_score(col: str, scale: Sequence[float], missing_codes: Sequence[float]) -> pl.Expr:
    """A score as Float64 with missing codes, NaN and values outside the scale set to null."""
    lo, hi = float(scale[0]), float(scale[1])
    value = pl.col(col).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    bad = value.is_nan() | value.is_in([float(c) for c in missing_codes]) | (value < lo)
    return pl.when(bad | (value > hi)).then(None).otherwise(value).alias(col)


def rating_keys(responses: pl.LazyFrame) -> list[str]:
    """The attribute names present in the `ratings` JSON objects, sorted."""
    keys = (
        responses.select(pl.col("ratings").str.extract_all(r'"((?:[^"\\]|\\.)*)"\s*:').alias("k"))
        .explode("k")
        .select(pl.col("k").str.extract(r'^"(.*)"\s*:$'))
        .drop_nulls()
        .unique()
        .collect()
    )
    return sorted(keys["k"].to_list())


def ratings_wide(
    responses: pl.LazyFrame,
    *,
    scale: Sequence[float] = (1, 5),
    missing_codes: Sequence[float] = (-99, -2, -3),
    keys: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """Responses with one cleaned Float64 column per rating attribute (`r_<name>`)."""
    names = list(keys) if keys is not None else rating_keys(responses)
    cols = []
    for name in names:
        path = "$['" + name.replace("'", "\\'") + "']"
        raw = pl.col("ratings").str.json_path_match(path).alias(f"r_{name}")
        cols.append(raw)
    wide = responses.with_columns(cols)
    return wide.with_columns(clean_score(f"r_{n}", scale, missing_codes) for n in names)


def missing_report(
    responses: pl.LazyFrame,
    columns: dict[str, Sequence[float]],
    missing_codes: Sequence[float],
) -> pl.LazyFrame:
    """Per column: answered (valid), blank, missing_code, out_of_scale — counts that add up."""
    rows = []
    codes = [float(c) for c in missing_codes]
    for col, (lo, hi) in columns.items():
        v = pl.col(col).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
        coded = v.is_in(codes)
        blank = v.is_null() | v.is_nan()
        out = ~blank & ~coded & ((v < lo) | (v > hi))
        rows.append(
            responses.select(
                pl.lit(col.removeprefix("r_")).alias("question"),
                pl.len().cast(pl.Int64).alias("responses"),
                (~blank & ~coded & ~out).sum().cast(pl.Int64).alias("answered"),
                blank.sum().cast(pl.Int64).alias("blank"),
                coded.sum().cast(pl.Int64).alias("missing_code"),
                out.sum().cast(pl.Int64).alias("out_of_scale"),
            )
        )
    return pl.concat(rows)


def score_exprs(csat_scale: Sequence[float], ces_scale: Sequence[float]) -> list[pl.Expr]:
    """NPS, CSAT (top-2 share) and CES (mean) with n and 95% intervals, as aggregations."""
    nps = pl.col("nps")
    n_nps = nps.is_not_null().sum().cast(pl.Int64)
    prom = (nps >= 9).sum().cast(pl.Int64)
    det = (nps <= 6).sum().cast(pl.Int64)
    low, high = nps_interval(prom, det, n_nps)
    csat = pl.col("csat").drop_nulls()
    n_csat = csat.len()
    top2 = (csat >= float(csat_scale[1]) - 1).sum()
    p = top2 / n_csat
    nf = n_csat.cast(pl.Float64)
    z2 = Z95**2
    centre = (p + z2 / (2 * nf)) / (1 + z2 / nf)
    half = Z95 * (p * (1 - p) / nf + z2 / (4 * nf**2)).sqrt() / (1 + z2 / nf)
    ces = pl.col("ces").drop_nulls()
    n_ces = ces.len()
    return [
        n_nps.cast(pl.Int64).alias("nps_n"),
        pl.when(n_nps > 0).then((prom - det) / n_nps * 100).alias("nps"),
        pl.when(n_nps > 0).then(low).alias("nps_low"),
        pl.when(n_nps > 0).then(high).alias("nps_high"),
        n_csat.cast(pl.Int64).alias("csat_n"),
        pl.when(n_csat > 0).then(p).alias("csat"),
        pl.when(n_csat > 0).then(centre - half).alias("csat_low"),
        pl.when(n_csat > 0).then(centre + half).alias("csat_high"),
        ces.mean().alias("ces_mean_raw"),
        ces.std().alias("ces_sd"),
        n_ces.cast(pl.Int64).alias("ces_n"),
    ]


def survey_scores(
    responses: pl.LazyFrame,
    *,
    by: By | None = None,
    period: Literal["month", "quarter"] = "quarter",
    segments: pl.LazyFrame | None = None,
    customers: pl.LazyFrame | None = None,
    scales: dict[str, Sequence[float]] | None = None,
    missing_codes: Sequence[float] = (-99, -2, -3),
) -> pl.DataFrame:
    """NPS, CSAT and CES with n and intervals, overall or by one grouping.

    segment needs `segments` (customer_key, segment); channel is the customer's acquisition
    channel and needs `customers`; period groups by the month or quarter of responded_at.
    """
    sc = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7), **(scales or {})}
    lf = responses.with_columns(
        clean_score(c, sc[c], missing_codes) for c in ("nps", "csat", "ces")
    )
    if by is None:
        lf = lf.with_columns(pl.lit(OVERALL).alias("group"))
    elif by == "segment":
        if segments is None:
            raise DataError(
                "survey by segment needs segment_history", hint="run `crmkit segment` first"
            )
        lf = lf.join(segments, on="customer_key", how="left").with_columns(
            pl.col("segment").fill_null("(no segment)").alias("group")
        )
    elif by == "channel":
        if customers is None:
            raise DataError("survey by channel needs the customers table")
        chan = customers.select("customer_key", "acquisition_channel").unique(
            "customer_key", keep="first"
        )
        lf = lf.join(chan, on="customer_key", how="left").with_columns(
            pl.col("acquisition_channel").fill_null("(unknown)").alias("group")
        )
    elif by == "period":
        at = pl.col("responded_at")
        label = (
            at.dt.strftime("%Y-%m")
            if period == "month"
            else at.dt.year().cast(pl.String) + "Q" + at.dt.quarter().cast(pl.String)
        )
        lf = lf.with_columns(label.alias("group"))
    elif by == "survey":
        lf = lf.with_columns(pl.col("survey").fill_null("(none)").alias("group"))
    else:
        raise UsageError(f"unknown grouping {by!r}", hint=f"use one of: {', '.join(BY)}")
    out = lf.group_by("group").agg(score_exprs(sc["csat"], sc["ces"])).sort("group").collect()
    t = pl.Series([stats.t.ppf(0.975, n - 1) if n > 1 else None for n in out["ces_n"]])
    half = t * out["ces_sd"] / out["ces_n"].cast(pl.Float64).sqrt()
    return out.with_columns(
        pl.col("ces_mean_raw").alias("ces"),
        (pl.col("ces_mean_raw") - half).alias("ces_low"),
        (pl.col("ces_mean_raw") + half).alias("ces_high"),
    ).select(
        "group",
        "nps_n",
        "nps",
        "nps_low",
        "nps_high",
        "csat_n",
        "csat",
        "csat_low",
        "csat_high",
        "ces_n",
        "ces",
        "ces_low",
        "ces_high",
    )


def responses_until(responses: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """Responses up to the end of the as-of day."""
    return responses.filter(pl.col("responded_at") < end_of(as_of))


def survey_workspace(
    ws: Workspace,
    *,
    as_of: dt.date | None = None,
    by: By | None = None,
    period: Literal["month", "quarter"] = "quarter",
) -> pl.DataFrame:
    """Survey scores of a workspace, scales and missing codes from the config."""
    day = resolve_as_of(ws, as_of)
    resp = responses_until(require(ws, "survey_responses", "survey analysis"), day)
    cfg = ws.config
    return survey_scores(
        resp,
        by=by,
        period=period,
        segments=workspace_segments(ws, day) if by == "segment" else None,
        customers=ws.table("customers") if by == "channel" else None,
        scales={k: cfg["scales"][k] for k in ("nps", "csat", "ces")},
        missing_codes=cfg["missing_codes"],
    )
