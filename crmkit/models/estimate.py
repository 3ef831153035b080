"""Fit the purchase models (BG/NBD, Pareto/NBD, MBG/NBD) and the Gamma-Gamma spend model to a
summary, with the data guards: collapse identical rows, refuse thin data, flag correlated spend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import polars as pl

from crmkit.models import bgnbd, gammagamma, mbgnbd, paretonbd
from crmkit.models.exceptions import InsufficientDataError, UnknownModelError
from crmkit.models.fitting import MLEResult, fit_mle
from crmkit.models.summary import Summary

PURCHASE_MODELS: dict[str, ModuleType] = {"bgnbd": bgnbd, "pareto": paretonbd, "mbgnbd": mbgnbd}
"""Purchase (transaction) models by their CLI name."""

MODEL_CHOICES: tuple[str, ...] = ("bgnbd", "pareto", "mbgnbd", "gamma-gamma")


@dataclass(frozen=True)
class Guards:
    """Thresholds below which a fit is refused, and the spend/frequency correlation warning."""

    min_customers: int = 200
    min_repeat_customers: int = 200
    min_history_days: int = 90
    max_spend_frequency_correlation: float = 0.3


@dataclass(frozen=True)
class ModelFit:
    """One fitted model: name, estimates, log-likelihood, sizes and optional standard errors."""

    model: str
    params: dict[str, float]
    loglik: float
    n_customers: int
    n_rows: int
    standard_errors: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "model": self.model,
            "params": self.params,
            "loglik": self.loglik,
            "n_customers": self.n_customers,
            "n_unique_rows": self.n_rows,
            "standard_errors": self.standard_errors,
        }


@dataclass(frozen=True)
class ClvFit:
    """A purchase model and (optionally) a spend model fitted on one calibration summary."""

    purchases: ModelFit | None
    spend: ModelFit | None
    calibration_end: dt.date
    unit: str
    spend_frequency_correlation: float | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "calibration_end": self.calibration_end.isoformat(),
            "unit": self.unit,
            "purchases": self.purchases.to_dict() if self.purchases else None,
            "spend": self.spend.to_dict() if self.spend else None,
            "spend_frequency_correlation": self.spend_frequency_correlation,
            "warnings": list(self.warnings),
        }


def collapse(frame: pl.DataFrame, columns: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
    """Identical rows collapsed into (unique columns as float arrays, counts as weights)."""
    grouped = frame.group_by(columns).agg(pl.len().alias("_w")).sort(columns)
    cols = [grouped[c].cast(pl.Float64).to_numpy() for c in columns]
    return cols, grouped["_w"].cast(pl.Float64).to_numpy()


def collapse_summary(summary: Summary, columns: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
    """``collapse`` of the summary's frame, computed once per summary and column list."""
    key = tuple(columns)
    if key not in summary.cache:
        summary.cache[key] = collapse(summary.frame, columns)
    return summary.cache[key]  # type: ignore[return-value]


def check_enough_data(summary: Summary, guards: Guards) -> None:
    """Refuse to fit when there are too few customers, repeat buyers or days of history."""
    frame = summary.frame
    n = frame.height
    repeat = int((frame["frequency"] > 0).sum()) if n else 0
    if n < guards.min_customers:
        raise InsufficientDataError(
            f"too few customers to fit a CLV model: {n} with a purchase by "
            f"{summary.calibration_end} (need at least {guards.min_customers})",
            hint="ingest more orders or move --calibration-end later",
        )
    if repeat < guards.min_repeat_customers:
        raise InsufficientDataError(
            f"too few repeat customers to fit a CLV model: {repeat} of {n} customers bought on "
            f"more than one day (need at least {guards.min_repeat_customers})",
            hint="use a longer history (later --calibration-end or older orders); "
            "with almost no repeat buying, use simple CLV (crmkit metrics clv_simple)",
        )
    first = frame["first_purchase"].min()
    span = (summary.calibration_end - first).days if first is not None else 0  # type: ignore[operator]
    if span < guards.min_history_days:
        raise InsufficientDataError(
            f"too little history to fit a CLV model: {span} days from the first purchase to "
            f"{summary.calibration_end} (need at least {guards.min_history_days})",
            hint="wait for more history or move --calibration-end later",
        )


def fit_purchases(
    summary: Summary, model: str = "bgnbd", standard_errors: bool = False
) -> ModelFit:
    """Fit a purchase model by maximum likelihood on collapsed (frequency, recency, T) rows."""
    module = PURCHASE_MODELS[model]
    (x, tx, T), w = collapse_summary(summary, ["frequency", "recency", "T"])
    res: MLEResult = fit_mle(
        module.loglik,
        (x, tx, T),
        w,
        module.initial(x, tx, T, w),
        module.PARAM_NAMES,
        module.NAME,
        standard_errors=standard_errors,
    )
    return ModelFit(
        model=model,
        params=res.params,
        loglik=res.loglik,
        n_customers=int(res.n_weight),
        n_rows=res.n_rows,
        standard_errors=res.standard_errors,
    )


def spend_frequency_correlation(summary: Summary) -> float | None:
    """Pearson correlation of frequency and mean repeat spend among repeat buyers."""
    rep = summary.frame.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    if rep.height < 3:
        return None
    value = rep.select(pl.corr("frequency", "monetary_value")).item()
    return None if value is None or not np.isfinite(value) else float(value)


def fit_spend(summary: Summary, guards: Guards, standard_errors: bool = False) -> ModelFit:
    """Fit Gamma-Gamma on repeat buyers with positive mean repeat spend."""
    rep = summary.frame.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    if rep.height < guards.min_repeat_customers:
        raise InsufficientDataError(
            f"too few repeat buyers with positive spend for the spend model: {rep.height} "
            f"(need at least {guards.min_repeat_customers})",
            hint="use a longer history, or predict purchases only",
        )
    (x, m), w = collapse(rep, ["frequency", "monetary_value"])
    res = fit_mle(
        gammagamma.loglik,
        (x, m),
        w,
        gammagamma.initial(x, m, w),
        gammagamma.PARAM_NAMES,
        gammagamma.NAME,
        standard_errors=standard_errors,
    )
    if res.params["q"] <= 1.0:
        raise InsufficientDataError(
            f"spend model: q = {res.params['q']:.3g} <= 1, so the average spend per purchase is "
            "not finite (a few enormous orders dominate)",
            hint="check for outlier or test orders in net_amount, or predict purchases only",
        )
    return ModelFit(
        model=gammagamma.NAME,
        params=res.params,
        loglik=res.loglik,
        n_customers=int(res.n_weight),
        n_rows=res.n_rows,
        standard_errors=res.standard_errors,
    )


def fit(
    summary: Summary,
    model: str = "bgnbd",
    spend: bool = True,
    standard_errors: bool = False,
    guards: Guards | None = None,
) -> ClvFit:
    """Fit a purchase model (``bgnbd``, ``pareto``, ``mbgnbd``) and, with ``spend``, Gamma-Gamma;
    ``model="gamma-gamma"`` fits the spend model alone. Raises InsufficientDataError or
    ConvergenceError with a hint instead of returning a fit that cannot be trusted."""
    if model not in MODEL_CHOICES:
        raise UnknownModelError(
            f"unknown model {model!r}", hint=f"choose one of {', '.join(MODEL_CHOICES)}"
        )
    guards = guards or Guards()
    check_enough_data(summary, guards)
    warnings: list[str] = []
    purchases = None
    if model != "gamma-gamma":
        purchases = fit_purchases(summary, model, standard_errors)
    spend_fit = None
    corr = None
    if spend or model == "gamma-gamma":
        corr = spend_frequency_correlation(summary)
        if corr is not None and abs(corr) > guards.max_spend_frequency_correlation:
            warnings.append(
                f"spend and frequency are correlated (r = {corr:.2f}) among repeat buyers: the "
                "Gamma-Gamma model assumes they are independent, so expected spend and CLV may "
                "be biased"
            )
        spend_fit = fit_spend(summary, guards, standard_errors)
    return ClvFit(
        purchases=purchases,
        spend=spend_fit,
        calibration_end=summary.calibration_end,
        unit=summary.unit,
        spend_frequency_correlation=corr,
        warnings=warnings,
    )
