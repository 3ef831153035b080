"""Per-customer predictions (P(alive), expected purchases and spend, discounted CLV) and
customer equity by segment.

CLV over a horizon of H months with monthly discount rate d and margin g is
    CLV = g * E[spend per purchase] * sum_{i=1..n} (E[Y(m_i)] - E[Y(m_{i-1})]) / (1 + d)^m_i
where m_0 = 0 < m_1 = 1 < ... < m_n = H are the month ends (the last one partial when H is not
a whole number of months) and E[Y(m)] is the expected number of purchases in the next m months.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmkit.models import gammagamma
from crmkit.models.estimate import PURCHASE_MODELS, ClvFit, collapse_summary
from crmkit.models.exceptions import ConvergenceError, UnknownModelError
from crmkit.models.summary import Summary
from crmkit.models.units import DAYS_PER_MONTH, parse_duration_days, unit_days


@dataclass(frozen=True)
class Predictions:
    """Per-customer predictions and the settings that produced them."""

    frame: pl.DataFrame
    model: str
    spend_model: str | None
    calibration_end: dt.date
    unit: str
    horizon: str
    horizon_days: float
    discount: float
    margin: float

    def settings(self) -> dict[str, Any]:
        """The settings, JSON-ready, to print next to every result."""
        return {
            "model": self.model,
            "spend_model": self.spend_model,
            "calibration_end": self.calibration_end.isoformat(),
            "unit": self.unit,
            "horizon": self.horizon,
            "horizon_days": self.horizon_days,
            "monthly_discount_rate": self.discount,
            "margin": self.margin,
        }

    def storage_frame(self) -> pl.DataFrame:
        """Rows to store in the warehouse for reports (one per customer, with model metadata)."""
        return self.frame.select(
            "customer_key", "p_alive", "expected_purchases", "expected_spend", "clv"
        ).with_columns(
            model=pl.lit(self.model),
            calibration_end=pl.lit(self.calibration_end, dtype=pl.Date),
            horizon_days=pl.lit(self.horizon_days),
            monthly_discount_rate=pl.lit(self.discount),
            margin=pl.lit(self.margin),
        )

    def top(self, n: int = 20, by: str = "clv") -> pl.DataFrame:
        """The n customers with the largest ``by``, ties broken by customer_key."""
        return self.frame.sort([by, "customer_key"], descending=[True, False]).head(n)


def month_grid(horizon_months: float) -> np.ndarray:
    """Month ends 1, 2, ..., ending exactly at the horizon (last step partial if needed)."""
    whole = math.floor(horizon_months + 1e-9)
    grid = [float(m) for m in range(1, whole + 1)]
    if horizon_months - whole > 1e-9:
        grid.append(horizon_months)
    return np.asarray(grid)


def predict(
    clv_fit: ClvFit,
    summary: Summary,
    horizon: str = "12m",
    discount: float = 0.01,
    margin: float = 1.0,
) -> Predictions:
    """Predict P(alive), expected purchases, expected spend and discounted CLV per customer.

    ``discount`` is the monthly discount rate, ``margin`` the share of spend kept as profit;
    without a spend model, spend and CLV are null. Never returns negative or NaN values.
    """
    if clv_fit.purchases is None:
        raise UnknownModelError(
            "predictions need a purchase model; gamma-gamma only models spend",
            hint="use --model bgnbd, pareto or mbgnbd (the spend model is fitted with it)",
        )
    if not (0.0 <= discount < 1.0) or not (0.0 <= margin <= 1.0):
        raise UnknownModelError(
            f"discount {discount} and margin {margin} must lie in [0, 1)",
            hint="e.g. --discount 0.01 (1% a month) --margin 0.3",
        )
    module = PURCHASE_MODELS[clv_fit.purchases.model]
    params = clv_fit.purchases.params
    per_unit = unit_days(summary.unit)
    horizon_days = parse_duration_days(horizon)
    months = month_grid(horizon_days / DAYS_PER_MONTH)
    (x, tx, T), _ = collapse_summary(summary, ["frequency", "recency", "T"])
    alive = module.p_alive(params, x, tx, T)
    # E[Y(t) | x, t_x, T] = E[Y(t) | alive, x, T] * P(alive | x, t_x, T): the expensive first
    # factor is computed once per distinct (x, T), the cheap second once per distinct row.
    (xs, Ts), _ = collapse_summary(summary, ["frequency", "T"])
    discounted_xt = np.zeros_like(xs)
    previous = np.zeros_like(xs)
    for m in months:
        cumulative = module.expected_if_alive(params, xs, Ts, m * DAYS_PER_MONTH / per_unit)
        step = np.maximum(cumulative - previous, 0.0)
        discounted_xt += step / (1.0 + discount) ** m
        previous = np.maximum(cumulative, previous)
    per_xt = pl.DataFrame(
        {"frequency": xs.astype(np.int64), "T": Ts, "_if_alive": previous, "_disc": discounted_xt}
    )
    unique = (
        pl.DataFrame({"frequency": x.astype(np.int64), "recency": tx, "T": T, "p_alive": alive})
        .join(per_xt, on=["frequency", "T"], how="left")
        .with_columns(
            expected_purchases=pl.col("_if_alive") * pl.col("p_alive"),
            _discounted=pl.col("_disc") * pl.col("p_alive"),
        )
        .drop("_if_alive", "_disc")
    )
    frame = summary.frame.join(
        unique, on=["frequency", "recency", "T"], how="left", maintain_order="left"
    )
    spend_model = None
    if clv_fit.spend is not None:
        spend_model = clv_fit.spend.model
        per_purchase = gammagamma.expected_spend(
            clv_fit.spend.params,
            frame["frequency"].cast(pl.Float64).to_numpy(),
            frame["monetary_value"].to_numpy(),
        )
        frame = frame.with_columns(spend_per_purchase=pl.Series(per_purchase)).with_columns(
            expected_spend=pl.col("expected_purchases") * pl.col("spend_per_purchase"),
            clv=pl.col("_discounted") * pl.col("spend_per_purchase") * margin,
        )
    else:
        frame = frame.with_columns(
            spend_per_purchase=pl.lit(None, dtype=pl.Float64),
            expected_spend=pl.lit(None, dtype=pl.Float64),
            clv=pl.lit(None, dtype=pl.Float64),
        )
    frame = frame.drop("_discounted")
    _check_finite(frame)
    return Predictions(
        frame=frame,
        model=clv_fit.purchases.model,
        spend_model=spend_model,
        calibration_end=summary.calibration_end,
        unit=summary.unit,
        horizon=horizon,
        horizon_days=horizon_days,
        discount=discount,
        margin=margin,
    )


def _check_finite(frame: pl.DataFrame) -> None:
    """Guard: predictions are finite and non-negative, or the run stops with a reason."""
    cols = ["p_alive", "expected_purchases", "spend_per_purchase", "expected_spend", "clv"]
    bad = frame.select(
        [
            (pl.col(c).is_nan() | pl.col(c).is_infinite() | (pl.col(c) < 0)).fill_null(False).sum()
            for c in cols
        ]
    ).row(0)
    broken = [c for c, n in zip(cols, bad, strict=True) if n]
    if broken:
        raise ConvergenceError(
            f"predictions are not finite or negative in {', '.join(broken)}",
            hint="the fitted parameters are extreme; try another --model or --unit",
        )


def customer_equity(
    predictions: Predictions, segments: pl.DataFrame | None = None, by: str = "segment"
) -> pl.DataFrame:
    """Sums per segment (customer equity): customers, expected active customers, expected
    purchases, expected spend and CLV; one total row when no segments are given."""
    frame = predictions.frame
    if segments is None:
        frame = frame.with_columns(pl.lit("all").alias(by))
    else:
        frame = frame.join(segments.select("customer_key", by), on="customer_key", how="left")
    return (
        frame.group_by(by)
        .agg(
            customers=pl.len(),
            expected_active=pl.col("p_alive").sum(),
            expected_purchases=pl.col("expected_purchases").sum(),
            expected_spend=pl.col("expected_spend").sum(),
            clv=pl.col("clv").sum(),
        )
        .sort("clv", by, descending=[True, False], nulls_last=True)
    )
