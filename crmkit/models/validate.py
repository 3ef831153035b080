"""Holdout validation: fit on a calibration period, predict the holdout, compare with what
customers actually did (per customer, by frequency class, and period by period)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from crmkit.models.estimate import (
    PURCHASE_MODELS,
    Guards,
    ModelFit,
    check_enough_data,
    collapse_summary,
    fit_purchases,
)
from crmkit.models.exceptions import InsufficientDataError, UnknownModelError
from crmkit.models.summary import Summary, last_purchase_date, purchase_days, summarize
from crmkit.models.units import parse_duration_days, unit_days

FREQUENCY_CLASSES = 7
"""Calibration frequency classes 0..6 and a last class "7+"."""


@dataclass(frozen=True)
class ValidationResult:
    """Holdout errors of one model; ``headline()`` is what every clv output carries."""

    model: str
    fit: ModelFit
    calibration_end: dt.date
    holdout_end: dt.date
    holdout: str
    unit: str
    n_customers: int
    per_customer: dict[str, float]
    aggregate: dict[str, float]
    by_frequency: pl.DataFrame
    tracking: pl.DataFrame
    customers: pl.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    def headline(self) -> dict[str, Any]:
        """The figures to show next to every prediction."""
        return {
            "model": self.model,
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "holdout": self.holdout,
            "customers": self.n_customers,
            "mae": self.per_customer["mae"],
            "rmse": self.per_customer["rmse"],
            "bias": self.per_customer["bias"],
            "predicted_purchases": self.aggregate["predicted"],
            "actual_purchases": self.aggregate["actual"],
            "aggregate_error_pct": self.aggregate["error_pct"],
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view with all tables."""
        return {
            "headline": self.headline(),
            "unit": self.unit,
            "fit": self.fit.to_dict(),
            "per_customer": self.per_customer,
            "aggregate": self.aggregate,
            "by_frequency": self.by_frequency.to_dicts(),
            "tracking": [
                {**row, "period_end": row["period_end"].isoformat()}
                for row in self.tracking.to_dicts()
            ],
            "counts": self.counts,
        }


def validate(
    orders: pl.LazyFrame | pl.DataFrame,
    holdout: str = "26w",
    calibration_end: dt.date | str | None = None,
    unit: str = "weeks",
    model: str = "bgnbd",
    guards: Guards | None = None,
) -> ValidationResult:
    """Split at ``calibration_end`` (default: last purchase day minus ``holdout``), fit the
    purchase model on the calibration period and score its holdout predictions."""
    if model not in PURCHASE_MODELS:
        raise UnknownModelError(
            f"validation needs a purchase model, not {model!r}",
            hint="use --model bgnbd, pareto or mbgnbd",
        )
    holdout_days = round(parse_duration_days(holdout))
    if calibration_end is None:
        calibration_end = last_purchase_date(orders) - dt.timedelta(days=holdout_days)
    summary = summarize(orders, calibration_end, unit, holdout=holdout)
    check_enough_data(summary, guards or Guards())
    model_fit = fit_purchases(summary, model)
    module = PURCHASE_MODELS[model]
    per_unit = unit_days(unit)
    horizon = holdout_days / per_unit
    (x, tx, T), _ = collapse_summary(summary, ["frequency", "recency", "T"])
    unique = pl.DataFrame(
        {
            "frequency": x.astype(np.int64),
            "recency": tx,
            "T": T,
            "predicted": module.expected_purchases(model_fit.params, x, tx, T, horizon),
        }
    )
    customers = (
        summary.frame.join(unique, on=["frequency", "recency", "T"], how="left")
        .select(
            "customer_key",
            "frequency",
            "recency",
            "T",
            pl.col("holdout_purchases").alias("actual"),
            "predicted",
        )
        .sort("customer_key")
    )
    err = customers["predicted"].to_numpy() - customers["actual"].cast(pl.Float64).to_numpy()
    predicted_total = float(customers["predicted"].sum())
    actual_total = float(customers["actual"].sum())
    assert summary.holdout_end is not None
    return ValidationResult(
        model=model,
        fit=model_fit,
        calibration_end=summary.calibration_end,
        holdout_end=summary.holdout_end,
        holdout=holdout,
        unit=unit,
        n_customers=customers.height,
        per_customer={
            "mae": float(np.mean(np.abs(err))),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "bias": float(np.mean(err)),
        },
        aggregate={
            "predicted": predicted_total,
            "actual": actual_total,
            "error_pct": 100.0 * (predicted_total - actual_total) / actual_total
            if actual_total > 0
            else float("nan"),
        },
        by_frequency=by_frequency(customers),
        tracking=tracking(orders, summary, model_fit),
        customers=customers,
        counts=dict(summary.counts),
    )


def by_frequency(customers: pl.DataFrame) -> pl.DataFrame:
    """Mean actual and predicted holdout purchases per calibration frequency class (0..6, 7+)."""
    top = FREQUENCY_CLASSES
    return (
        customers.with_columns(
            frequency_class=pl.when(pl.col("frequency") >= top)
            .then(pl.lit(f"{top}+"))
            .otherwise(pl.col("frequency").cast(pl.String)),
            _order=pl.col("frequency").clip(upper_bound=top),
        )
        .group_by("frequency_class", "_order")
        .agg(
            customers=pl.len(),
            actual=pl.col("actual").cast(pl.Float64).mean(),
            predicted=pl.col("predicted").mean(),
        )
        .sort("_order")
        .drop("_order")
    )


def tracking(
    orders: pl.LazyFrame | pl.DataFrame, summary: Summary, model_fit: ModelFit
) -> pl.DataFrame:
    """Cumulative repeat purchases of the calibration customers at the end of every period (one
    unit long, the last ending at the holdout end): actual vs expected by the model, where the
    expectation for a customer first buying on day s is E[X(t - s)] from the population model."""
    if summary.holdout_end is None:
        raise InsufficientDataError("tracking needs a holdout period", hint="pass holdout='26w'")
    module = PURCHASE_MODELS[model_fit.model]
    per_unit = unit_days(summary.unit)
    end = summary.holdout_end
    first_day = summary.frame["first_purchase"].min()
    n_periods = int((end - first_day).days // per_unit)  # type: ignore[operator]
    period_ends = [end - dt.timedelta(days=int(k * per_unit)) for k in range(n_periods, -1, -1)]
    period_ends = [d for d in period_ends if d >= first_day]  # type: ignore[operator]
    repeat_days = (
        purchase_days(orders)
        .join(summary.frame.lazy().select("customer_key", "first_purchase"), on="customer_key")
        .filter((pl.col("day") > pl.col("first_purchase")) & (pl.col("day") <= end))
        .group_by("day")
        .agg(n=pl.len())
        .sort("day")
        .collect()
    )
    day_index = repeat_days["day"].to_numpy()
    cum = np.concatenate([[0], np.cumsum(repeat_days["n"].to_numpy())])
    cohorts = summary.frame.group_by("first_purchase").agg(n=pl.len()).sort("first_purchase")
    cohort_day = cohorts["first_purchase"].to_numpy()
    cohort_n = cohorts["n"].cast(pl.Float64).to_numpy()
    rows = []
    for d in period_ends:
        d64 = np.datetime64(d)
        actual = int(cum[np.searchsorted(day_index, d64, side="right")])
        elapsed = (d64 - cohort_day).astype("timedelta64[D]").astype(float) / per_unit
        keep = elapsed > 0
        e = elapsed[keep]
        zeros = np.zeros_like(e)
        expected = float(
            cohort_n[keep] @ module.expected_purchases(model_fit.params, zeros, zeros, zeros, e)
        )
        rows.append(
            {
                "period_end": d,
                "holdout": d > summary.calibration_end,
                "actual_cumulative": actual,
                "predicted_cumulative": expected,
            }
        )
    return pl.DataFrame(rows)
