"""CLV on a workspace: summarise its orders, fit, predict, and store the predictions.

The predictions become the warehouse table `clv_predictions` (one row per customer; see
`Predictions.storage_frame`), which the `clv_predicted` metric and the reports read. Settings not
given come from the config's `clv:` section: `model`, `unit`, `horizon`, `discount`, `margin`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from crmkit.models.estimate import ClvFit, fit
from crmkit.models.predict import Predictions, customer_equity, predict
from crmkit.models.store import load_validation
from crmkit.models.summary import Summary, summarize
from crmkit.numbers import workspace_customer_keys
from crmkit.workspace import Workspace

DEFAULTS: dict[str, Any] = {
    "model": "bgnbd",
    "unit": "weeks",
    "horizon": "12m",
    "discount": 0.01,
    "margin": 1.0,
}


@dataclass
class WorkspacePrediction:
    """A fitted model, its per-customer predictions, customer equity and the last validation."""

    fit: ClvFit
    predictions: Predictions
    equity: pl.DataFrame
    validation: dict[str, Any] | None
    settings: dict[str, Any]


def clv_settings(ws: Workspace, **given: Any) -> dict[str, Any]:
    """Effective CLV settings: arguments given > config `clv:` > defaults."""
    cfg = {k: v for k, v in ws.config.section("clv").items() if v is not None}
    return {**DEFAULTS, **cfg, **{k: v for k, v in given.items() if v is not None}}


def workspace_summary(ws: Workspace, calibration_end: dt.date | str | None, unit: str) -> Summary:
    """`summarize` of the workspace's orders, grouped by customer number when it can be."""
    keys = workspace_customer_keys(ws)
    return summarize(ws.table("orders"), calibration_end, unit, customer_keys=keys)


def predict_workspace(
    ws: Workspace,
    *,
    model: str | None = None,
    calibration_end: str | dt.date | None = None,
    as_of: dt.date | None = None,
    unit: str | None = None,
    horizon: str | None = None,
    discount: float | None = None,
    margin: float | None = None,
    run_id: str | None = None,
    store: bool = True,
) -> WorkspacePrediction:
    """Fit purchases + spend on the workspace's orders and predict every customer's CLV."""
    s = clv_settings(ws, model=model, unit=unit, horizon=horizon, discount=discount, margin=margin)
    summary = workspace_summary(ws, calibration_end or as_of, s["unit"])
    fitted = fit(summary, model=s["model"], spend=True)
    pred = predict(
        fitted, summary, horizon=s["horizon"], discount=s["discount"], margin=s["margin"]
    )
    if store:
        save_predictions(ws, pred, run_id or "clv")
    return WorkspacePrediction(
        fit=fitted,
        predictions=pred,
        equity=customer_equity(pred),
        validation=load_validation(models_dir(ws)),
        settings=s,
    )


def save_predictions(ws: Workspace, predictions: Predictions, run_id: str) -> None:
    """Replace the warehouse table `clv_predictions` (atomically, under the workspace lock)."""
    with ws.warehouse.lock(), ws.warehouse.transaction(run_id) as tx:
        tx.write("clv_predictions", predictions.storage_frame())


def models_dir(ws: Workspace) -> Path:
    """Where validation figures are kept between runs (`<workspace>/models/`)."""
    return ws.path / "models"
