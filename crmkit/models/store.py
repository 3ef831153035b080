"""Where the CLV commands keep their latest results inside a workspace (``<workspace>/models/``):
the latest validation headline (JSON) and the latest predictions (Parquet), both written to a
temporary file and renamed into place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from crmkit.models.predict import Predictions
from crmkit.models.validate import ValidationResult

VALIDATION_FILE = "clv_validation.json"
PREDICTIONS_FILE = "clv_predictions.parquet"


def save_validation(folder: Path, result: ValidationResult) -> Path:
    """Store the validation figures so that later fit/predict outputs can show them."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / VALIDATION_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(result.headline(), indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return path


def load_validation(folder: Path) -> dict[str, Any] | None:
    """The latest stored validation headline, or None when no validation was run yet."""
    path = folder / VALIDATION_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def save_predictions(folder: Path, predictions: Predictions) -> Path:
    """Store the per-customer predictions (``Predictions.storage_frame``) for reports."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PREDICTIONS_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    predictions.storage_frame().write_parquet(tmp)
    tmp.replace(path)
    return path


def load_predictions(folder: Path) -> pl.DataFrame | None:
    """The latest stored predictions, or None."""
    path = folder / PREDICTIONS_FILE
    return pl.read_parquet(path) if path.exists() else None
