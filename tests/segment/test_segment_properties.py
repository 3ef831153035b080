"""Property tests: scores are monotone and tie-safe; guarded exports never start a formula."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.export import guard_formulas
from crmkit.segment.scoring import ScoreSpec, compute_cuts, score_expr

values = st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=60)


@settings(max_examples=80, deadline=None)
@given(values, st.sampled_from([3, 5]), st.booleans())
def test_scores_are_monotone_tie_safe_and_in_range(xs: list[int], n: int, reverse: bool) -> None:
    df = pl.DataFrame({"v": xs})
    cuts = compute_cuts(df["v"], n, ScoreSpec("quantiles", (), reverse), "V")
    scored = df.with_columns(score_expr("v", cuts, n, "s")).sort("v")
    s = scored["s"].to_list()
    assert all(1 <= x <= n for x in s)
    assert s == (sorted(s, reverse=True) if reverse else sorted(s))  # monotone in the value
    per_value = scored.group_by("v").agg(pl.col("s").n_unique())["s"]
    assert per_value.max() == 1  # equal values, equal score


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=20))
def test_guarded_text_never_starts_a_formula(texts: list[str]) -> None:
    out = guard_formulas(pl.DataFrame({"t": texts}))["t"].to_list()
    for before, after in zip(texts, out, strict=True):
        if after and after[0] in "=+-@\t\r":
            # only plain numbers may keep a leading sign
            assert after == before and after.lstrip("+-").replace(".", "", 1).isascii()
            assert after.lstrip("+-").replace(".", "", 1).isdigit()
        assert after in (before, "'" + before)
