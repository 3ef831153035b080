"""Where the CLV commands keep the latest validation headline between runs
(``<workspace>/models/clv_validation.json``), written to a temporary file and renamed into place.
Predictions are a warehouse table (`crmkit.models.workspace.save_predictions`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crmkit.models.validate import ValidationResult

VALIDATION_FILE = "clv_validation.json"


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
