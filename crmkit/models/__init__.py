"""Predictive customer-lifetime-value models: summaries, BG/NBD, Pareto/NBD, MBG/NBD and
Gamma-Gamma fits, predictions, customer equity and holdout validation.

Typical use::

    s = summarize(orders, calibration_end="2025-06-30", unit="weeks")
    f = fit(s, model="bgnbd")                    # + Gamma-Gamma spend model
    p = predict(f, s, horizon="12m", discount=0.01, margin=0.3)
    v = validate(orders, holdout="26w")          # p and v go into every clv output
"""

from crmkit.models.estimate import (
    MODEL_CHOICES,
    ClvFit,
    Guards,
    ModelFit,
    fit,
    fit_purchases,
    fit_spend,
)
from crmkit.models.exceptions import ConvergenceError, InsufficientDataError, UnknownModelError
from crmkit.models.predict import Predictions, customer_equity, predict
from crmkit.models.summary import PURCHASE_STATUSES, Summary, summarize
from crmkit.models.units import DurationError, parse_duration_days
from crmkit.models.validate import ValidationResult, validate

__all__ = [
    "MODEL_CHOICES",
    "PURCHASE_STATUSES",
    "ClvFit",
    "ConvergenceError",
    "DurationError",
    "Guards",
    "InsufficientDataError",
    "ModelFit",
    "Predictions",
    "Summary",
    "UnknownModelError",
    "ValidationResult",
    "customer_equity",
    "fit",
    "fit_purchases",
    "fit_spend",
    "parse_duration_days",
    "predict",
    "summarize",
    "validate",
]
