"""Field comparisons: the vectorised shortcuts agree with the string library they replace."""

from __future__ import annotations

import numpy as np
import polars as pl
from rapidfuzz.distance import Levenshtein

from crmkit.identity.arrays import unique
from crmkit.identity.compare import _digits_differ, _edit1, _Rows

PAIRS = [
    ("+8613800138000", "+8613800138000"),  # equal
    ("+8613800138000", "+8613800138001"),  # one digit differs
    ("+8613800138000", "+8613800138011"),  # two differ
    ("+8613800138000", "+861380013800"),  # one digit dropped at the end
    ("+8613800138000", "+863800138000"),  # ... in the middle
    ("+8613800138000", "+8613800138000 "),  # not a digit string: the library decides
    ("+8613800138000", "8613800138000"),  # "+" on one side only: one edit
    ("200040", "200041"),
    ("200040", "0200040"),  # a leading zero added
    ("200040", "20040"),
    ("200040", "2000400"),
    ("200040", "204000"),  # two substitutions
    ("SW1A1AA", "SW1A1AB"),  # letters: the library decides
    ("SW1A1AA", "SW1A1A"),
    ("", "1"),
    ("1", "12"),
    ("12", "21"),  # a swap is two edits
]


def test_edit1_agrees_with_levenshtein() -> None:
    values = pl.Series("v", [v for pair in PAIRS for v in pair])
    rows = _Rows(pl.DataFrame({"v": values}))
    li = np.arange(0, 2 * len(PAIRS), 2)
    ri = li + 1
    got = _edit1(rows, "v", li, ri, np.arange(len(PAIRS)))
    expected = [Levenshtein.distance(a, b) <= 1 for a, b in PAIRS]
    assert got.tolist() == expected
    # written out by hand for the first few
    assert expected[:5] == [True, True, False, True, True]


def test_edit1_leaves_pairs_outside_the_index_false() -> None:
    rows = _Rows(pl.DataFrame({"v": ["1", "1", "2", "2"]}))
    got = _edit1(rows, "v", np.array([0, 2]), np.array([1, 3]), np.array([1]))
    assert got.tolist() == [False, True]


def test_digits_differ_counts_positions() -> None:
    a = np.array([19900115, 19900115, 19900115])
    b = np.array([19900115, 19910115, 19000116])
    assert _digits_differ(a, b).tolist() == [0, 1, 2]


def test_unique_is_sorted_and_distinct() -> None:
    a = np.array([5, 3, 5, 1, 3], dtype=np.uint64)
    assert unique(a).tolist() == [1, 3, 5]
    assert unique(np.array([], dtype=np.int64)).tolist() == []
