"""Key-driver analysis: which attribute ratings drive NPS or CSAT.

For complete cases (target and every attribute answered, missing codes removed) it reports each
attribute's correlation with the target, Johnson's (2000) relative weights — importances that
add up exactly to the model's R² — and an importance × performance quadrant that names what to
fix first: important attributes that perform below the attributes' average.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from crmkit.analysis.common import require, resolve_as_of, settings
from crmkit.analysis.survey import (
    clean_score,
    missing_report,
    rating_keys,
    ratings_wide,
    responses_until,
)
from crmkit.errors import DataError, UsageError

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

Target = Literal["nps", "csat"]
FIX_FIRST = "fix first"
KEEP_UP = "keep up"
LOW_PRIORITY = "low priority"
OVERKILL = "possible overkill"


def relative_weights(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson's relative weights of the columns of `x` for `y`, and R² (weights sum to R²).

    R_xx = Q Λ Qᵀ, Λ½ = Q √Λ Qᵀ (the correlation matrix of the orthogonal counterparts of x),
    β = Λ½⁻¹ r_xy, weight_j = Σ_k (Λ½)_jk² β_k². Σ weights = βᵀβ = r_xyᵀ R_xx⁻¹ r_xy = R².
    """
    corr = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    rxx, rxy = corr[:-1, :-1], corr[:-1, -1]
    evals, evecs = np.linalg.eigh(rxx)
    if evals.min() <= 1e-10:
        raise DataError("attribute ratings are perfectly collinear; relative weights undefined")
    lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T
    beta = np.linalg.solve(lam, rxy)
    weights = (lam**2) @ (beta**2)
    return weights, float(beta @ beta)


@dataclass(frozen=True)
class DriverResult:
    """Driver table plus the facts needed to read it (target, n, R², missing answers)."""

    target: str
    n: int
    r2: float
    drivers: pl.DataFrame
    missing: pl.DataFrame
    fix_first: list[str]


def key_drivers(
    responses: pl.LazyFrame,
    *,
    target: Target = "nps",
    scales: dict[str, Sequence[float]] | None = None,
    missing_codes: Sequence[float] = (-99, -2, -3),
    attributes: Sequence[str] | None = None,
    min_n: int = 30,
) -> DriverResult:
    """Correlations, relative weights and the importance × performance quadrant.

    drivers columns: attribute, n (answered), mean, performance (mean rescaled to 0–100 on the
    ratings scale), correlation, weight (raw, sums to R²), importance (weight / R², sums to 1),
    quadrant, priority (importance × (100 − performance)), rank. Quadrant splits at the mean
    importance and mean performance; fix_first lists the "fix first" quadrant by priority, or
    when that quadrant is empty the single attribute with the highest priority.
    """
    if target not in ("nps", "csat"):
        raise UsageError(f"unknown driver target {target!r}", hint="use nps or csat")
    sc = {"nps": (0, 10), "csat": (1, 5), "ratings": (1, 5), **(scales or {})}
    keys = list(attributes) if attributes is not None else rating_keys(responses)
    if not keys:
        raise DataError("no attribute ratings in survey_responses.ratings")
    cols = [f"r_{k}" for k in keys]
    missing = missing_report(
        ratings_wide(responses, scale=(-1e300, 1e300), missing_codes=[], keys=keys),
        {target: sc[target], **{c: sc["ratings"] for c in cols}},
        missing_codes,
    ).collect()
    wide = (
        ratings_wide(responses, scale=sc["ratings"], missing_codes=missing_codes, keys=keys)
        .with_columns(clean_score(target, sc[target], missing_codes))
        .select(target, *cols)
        .collect()
    )
    answered = wide.select(pl.col(c).is_not_null().sum() for c in cols).row(0)
    complete = wide.drop_nulls()
    n = complete.height
    if n < max(min_n, len(keys) + 2):
        raise DataError(
            f"only {n} responses answer {target} and every attribute; need at least {min_n}",
            hint="lower analysis.drivers_min_n or collect more answers",
        )
    x = complete.select(cols).to_numpy().astype(float)
    y = complete[target].to_numpy().astype(float)
    if (x.std(axis=0) == 0).any() or y.std() == 0:
        raise DataError("an attribute or the target has no variation among complete responses")
    weights, r2 = relative_weights(x, y)
    corr = [float(np.corrcoef(x[:, j], y)[0, 1]) for j in range(len(keys))]
    lo, hi = float(sc["ratings"][0]), float(sc["ratings"][1])
    means = x.mean(axis=0)
    table = pl.DataFrame(
        {
            "attribute": keys,
            "n": [int(a) for a in answered],
            "mean": means,
            "performance": (means - lo) / (hi - lo) * 100,
            "correlation": corr,
            "weight": weights,
            "importance": weights / r2 if r2 > 0 else weights * 0,
        }
    )
    hi_imp = pl.col("importance") >= pl.col("importance").mean()
    hi_perf = pl.col("performance") >= pl.col("performance").mean()
    table = (
        table.with_columns(
            pl.when(hi_imp & ~hi_perf)
            .then(pl.lit(FIX_FIRST))
            .when(hi_imp & hi_perf)
            .then(pl.lit(KEEP_UP))
            .when(~hi_imp & ~hi_perf)
            .then(pl.lit(LOW_PRIORITY))
            .otherwise(pl.lit(OVERKILL))
            .alias("quadrant")
        )
        .with_columns((pl.col("importance") * (100 - pl.col("performance"))).alias("priority"))
        .sort(["importance", "attribute"], descending=[True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).alias("rank"))
    )
    fix = (
        table.filter(pl.col("quadrant") == FIX_FIRST)
        .sort(["priority", "attribute"], descending=[True, False])["attribute"]
        .to_list()
    )
    if not fix:  # nothing is both important and below average: the largest weighted gap
        fix = table.sort(["priority", "attribute"], descending=[True, False])["attribute"][:1]
        fix = fix.to_list()
    return DriverResult(target=target, n=n, r2=r2, drivers=table, missing=missing, fix_first=fix)


def drivers_workspace(
    ws: Workspace, *, as_of: dt.date | None = None, target: Target = "nps"
) -> DriverResult:
    """Key drivers of a workspace's survey responses up to as-of."""
    day = resolve_as_of(ws, as_of)
    resp = responses_until(require(ws, "survey_responses", "key-driver analysis"), day)
    cfg = ws.config
    return key_drivers(
        resp,
        target=target,
        scales={k: cfg["scales"][k] for k in ("nps", "csat", "ratings")},
        missing_codes=cfg["missing_codes"],
        min_n=int(settings(ws)["drivers_min_n"]),
    )
