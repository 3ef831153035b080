"""Small numpy and polars helpers shared by the identity modules."""

from __future__ import annotations

import numpy as np
import polars as pl


def unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values. Sort-based: numpy ≥ 2.3's hash-based `np.unique` is many times
    slower on a million distinct integers."""
    if len(a) == 0:
        return a.copy()
    s = np.sort(a)
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def without_null_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every all-null column as a constant null.

    Records often fill a few of their 27 columns (an order system's member id: none but the
    id). Held as constants, the empty ones cost nothing when the frame is reordered, filtered or
    extended; as columns, each rechunk would lay out 16 bytes per row for each of them.
    """
    empty = [c for c in frame.columns if frame[c].null_count() == frame.height]
    if not empty or frame.height == 0:
        return frame
    return frame.with_columns(pl.lit(None, frame.schema[c]).alias(c) for c in empty)
