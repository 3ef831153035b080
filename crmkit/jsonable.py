"""Plain JSON-ready values from polars frames, Decimals and dates (lossless where it matters)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl


def to_jsonable(value: Any) -> Any:
    """Convert polars/Python values to what `json` accepts, losslessly where it matters."""
    if isinstance(value, pl.DataFrame):
        return [to_jsonable(r) for r in value.to_dicts()]
    if isinstance(value, pl.Series):  # list cells arrive as Series in map_elements
        return [to_jsonable(v) for v in value.to_list()]
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)  # exact money: a string, never a float
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, Path):
        return str(value)
    return value
