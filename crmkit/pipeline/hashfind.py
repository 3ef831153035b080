"""Finding values by two independent 64-bit hashes: a binary search (numpy) of the first among
sorted first hashes, with the second as a check, so a value that is not there cannot be taken
for one that is by a collision of the first. `link.lookup` and `phones.PhoneBook` use it."""

from __future__ import annotations

import numpy as np
import polars as pl


def nearest(sorted_first: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Where each first hash is, or would go, among `sorted_first` (not empty): a valid index."""
    return np.minimum(np.searchsorted(sorted_first, first), sorted_first.size - 1)


def find(
    sorted_first: np.ndarray, sorted_check: np.ndarray, first: np.ndarray, check: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each (first, check) pair's position among the sorted pairs, and whether it is there."""
    at = nearest(sorted_first, first)
    return at, (sorted_first[at] == first) & (sorted_check[at] == check)


def positions(at: np.ndarray, found: np.ndarray) -> pl.Series:
    """`at` as an Int64 Series, null where not found: what `gather` needs."""
    out = pl.Series(at, dtype=pl.Int64)
    return out if found.all() else out.set(pl.Series(~found), None)
