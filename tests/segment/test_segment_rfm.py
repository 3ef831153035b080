"""RFM scores and segments on a hand-worked fixture (heavy ties: most customers have 1 order).

Expected values are worked out by hand below from the definitions in docs/segments.md:
quantile cuts at positions (N−1)·q with linear interpolation, score = 1 + #(cuts < value),
recency reversed (5 − #(cuts < days)).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmkit.errors import ConfigError
from crmkit.segment import RfmOptions, customer_facts, load_map, rfm_segments
from crmkit.segment.facts import parse_window, window_start
from crmkit.segment.scoring import ScoreSpec

from .helpers import AS_OF, RFM_ROWS, orders

# Recency days: A 0, B 1, C 6, D 30, E 31, F 122, G 183, H 275, I 365, J 366.
# Sorted; cuts at 9q: q.2 → 1 + .8·5 = 5.0; q.4 → 30 + .6·1 = 30.6; q.6 → 122 + .4·61 = 146.4;
# q.8 → 275 + .2·90 = 293.0.
R_CUTS = (5.0, 30.6, 146.4, 293.0)
R_EXPECTED = {"A": 5, "B": 5, "C": 4, "D": 4, "E": 3, "F": 3, "G": 2, "H": 2, "I": 1, "J": 1}
# Frequency: A 6, C 2 (its partially refunded order counts), all others 1.
# Default fixed thresholds [1, 2, 3, 5]: 1 → 1, 2 → 2, 6 → 5.
F_EXPECTED = {"A": 5, "C": 2} | {k: 1 for k in "BDEFGHIJ"}
# Monetary: A 500, B 40, C 20, D 200, E 20, F 60, G 60, H 30, I 30, J 5.
# Sorted [5, 20, 20, 30, 30, 40, 60, 60, 200, 500]; cuts: q.2 → 20 + .8·0 = 20;
# q.4 → 30 + .6·0 = 30; q.6 → 40 + .4·20 = 48; q.8 → 60 + .2·140 = 88.
M_CUTS = (20.0, 30.0, 48.0, 88.0)
M_EXPECTED = {"J": 1, "C": 1, "E": 1, "H": 2, "I": 2, "B": 3, "F": 4, "G": 4, "D": 5, "A": 5}
# rfm10 grid (R, F): A R5F5 champions; B R5F1 new; C R4F2 potential loyalists; D R4F1 promising;
# E, F R3F1 about to sleep; G, H R2F1 and I, J R1F1 hibernating.
RFM10 = {
    "A": "champions",
    "B": "new",
    "C": "potential_loyalists",
    "D": "promising",
    "E": "about_to_sleep",
    "F": "about_to_sleep",
    "G": "hibernating",
    "H": "hibernating",
    "I": "hibernating",
    "J": "hibernating",
}
# cn8: mean R = 1379/10 = 137.9 (H: < mean → A–F); mean F = 16/10 = 1.6 (H: A, C);
# mean M = 965/10 = 96.5 (H: A, D).
CN8 = {
    "A": "important_value",
    "B": "general_development",
    "C": "general_value",
    "D": "important_development",
    "E": "general_development",
    "F": "general_development",
    "G": "general_winback",
    "H": "general_winback",
    "I": "general_winback",
    "J": "general_winback",
}


@pytest.fixture
def facts() -> pl.DataFrame:
    return customer_facts(orders(RFM_ROWS).lazy(), AS_OF).collect()


def _by_key(df: pl.DataFrame, col: str) -> dict[str, object]:
    return dict(zip(df["customer_key"], df[col], strict=True))


def test_facts_count_purchases_only(facts: pl.DataFrame) -> None:
    assert facts["customer_key"].to_list() == list("ABCDEFGHIJ")
    assert _by_key(facts, "frequency") == {"A": 6, "C": 2} | {k: 1 for k in "BDEFGHIJ"}
    assert _by_key(facts, "recency_days") == {
        "A": 0,
        "B": 1,
        "C": 6,
        "D": 30,
        "E": 31,
        "F": 122,
        "G": 183,
        "H": 275,
        "I": 365,
        "J": 366,
    }
    monetary = {k: float(v) for k, v in _by_key(facts, "monetary").items()}
    assert monetary == {
        "A": 500,
        "B": 40,
        "C": 20,
        "D": 200,
        "E": 20,
        "F": 60,
        "G": 60,
        "H": 30,
        "I": 30,
        "J": 5,
    }


def test_rfm_scores_and_cuts_by_hand(facts: pl.DataFrame) -> None:
    members, settings = rfm_segments(facts, RfmOptions(segment_map=load_map("rfm10")))
    assert _by_key(members, "r_score") == R_EXPECTED
    assert _by_key(members, "f_score") == F_EXPECTED
    assert _by_key(members, "m_score") == M_EXPECTED
    cuts = {c["dimension"]: tuple(c["cuts"]) for c in settings["cuts"]}
    assert cuts == {"R": R_CUTS, "F": (1.0, 2.0, 3.0, 5.0), "M": M_CUTS}
    assert _by_key(members, "segment") == RFM10
    assert _by_key(members, "rfm")["A"] == "555"
    assert any(line.startswith("R by quantiles") for line in settings["cut_points"])


def test_ties_share_a_score_whatever_the_row_order(facts: pl.DataFrame) -> None:
    opts = RfmOptions(segment_map=load_map("rfm10"))
    a, _ = rfm_segments(facts, opts)
    b, _ = rfm_segments(facts.reverse(), opts)
    c, _ = rfm_segments(facts.sample(fraction=1.0, shuffle=True, seed=7), opts)
    assert_frame_equal(a, b)
    assert_frame_equal(a, c)
    m = _by_key(a, "m_score")
    assert m["C"] == m["E"] and m["H"] == m["I"] and m["F"] == m["G"]


def test_frequency_by_quantiles_with_heavy_ties(facts: pl.DataFrame) -> None:
    # F sorted [1×8, 2, 6]: q.2, q.4, q.6 = 1; q.8 at 7.2 → 1 + .2·1 = 1.2 → cuts (1, 1, 1, 1.2).
    # F = 1 → 1; F = 2 and 6 exceed all four cuts → 5. Bands: ≤1 → 1, (1, 1.2] → 4, >1.2 → 5;
    # scores 2 and 3 have empty bands (coinciding cuts), so ties are kept together.
    opts = RfmOptions(segment_map=load_map("rfm10"), frequency=ScoreSpec("quantiles"))
    members, settings = rfm_segments(facts, opts)
    assert _by_key(members, "f_score") == {"A": 5, "C": 5} | {k: 1 for k in "BDEFGHIJ"}
    f = next(c for c in settings["cuts"] if c["dimension"] == "F")
    assert f["cuts"] == [1.0, 1.0, 1.0, 1.2]
    assert [(b["score"], b["above"], b["up_to"]) for b in f["bands"]] == [
        (1, None, 1.0),
        (4, 1.0, 1.2),
        (5, 1.2, None),
    ]
    assert any("tied values" in n for n in settings["notes"])


def test_three_scores(facts: pl.DataFrame) -> None:
    # R cuts at 9/3 = 3 → 30, 6 → 183; reversed: ≤30 → 3, (30, 183] → 2, > 183 → 1.
    # F thresholds [1, 3]: 1 → 1, 2 → 2, 6 → 3.
    opts = RfmOptions(segment_map=load_map("rfm3"), scores=3)
    members, _ = rfm_segments(facts, opts)
    assert _by_key(members, "r_score") == {
        "A": 3,
        "B": 3,
        "C": 3,
        "D": 3,
        "E": 2,
        "F": 2,
        "G": 2,
        "H": 1,
        "I": 1,
        "J": 1,
    }
    assert _by_key(members, "f_score") == {"A": 3, "C": 2} | {k: 1 for k in "BDEFGHIJ"}
    assert _by_key(members, "segment")["A"] == "champions"


def test_map_scale_must_match_scores(facts: pl.DataFrame) -> None:
    with pytest.raises(ConfigError, match="1–5"):
        rfm_segments(facts, RfmOptions(segment_map=load_map("rfm10"), scores=3))


def test_cn8_high_low_against_the_mean(facts: pl.DataFrame) -> None:
    members, settings = rfm_segments(facts, RfmOptions(segment_map=load_map("cn8")))
    assert _by_key(members, "segment") == CN8
    assert settings["means"] == pytest.approx(
        {"recency_days": 137.9, "frequency": 1.6, "monetary": 96.5}
    )


def test_cn8_value_equal_to_the_mean_is_low() -> None:
    # M = 10, 20, 30 → mean 20: the customer at exactly 20 is low. R mean = 10: R = 10 is low.
    rows = [("X", "2025-01-31", 10), ("Y", "2025-01-21", 20), ("Z", "2025-01-11", 30)]
    facts = customer_facts(orders(rows).lazy(), AS_OF).collect()
    members, _ = rfm_segments(facts, RfmOptions(segment_map=load_map("cn8")))
    assert _by_key(members, "m_level") == {"X": "L", "Y": "L", "Z": "H"}
    assert _by_key(members, "r_level") == {"X": "H", "Y": "L", "Z": "L"}


def test_window_limits_f_and_m_and_skips_customers_outside() -> None:
    # 90d window up to 2025-01-31: days 2024-11-03..2025-01-31 count. A: 01-31, 01-20, 01-10,
    # 12-01 → F 4, M 100 + 50 + 50 + 100 = 300; F, G, H, I, J have no purchase inside.
    assert window_start(AS_OF, parse_window("90d")).isoformat() == "2024-11-03"
    facts = customer_facts(orders(RFM_ROWS).lazy(), AS_OF, window=parse_window("90d")).collect()
    inside = facts.filter("in_window")
    assert inside["customer_key"].to_list() == ["A", "B", "C", "D", "E"]
    assert _by_key(inside, "frequency") == {"A": 4, "B": 1, "C": 1, "D": 1, "E": 1}
    assert float(_by_key(inside, "monetary")["A"]) == 300.0
    members, _ = rfm_segments(facts, RfmOptions(segment_map=load_map("rfm10")))
    assert members.height == 5


def test_all_history_facts_by_hand_and_equal_to_a_window_covering_everything() -> None:
    # All history aggregates each fact once and reuses it for the window columns; a window
    # reaching back before the first order takes the filtered path: both must agree.
    rows = [
        ("A", "2025-01-31", 100, "completed", "pos", 60),
        ("A", "2024-12-01", 50, "completed", "pos", None),  # cost unknown: left out of profit
        ("A", "2024-06-01", 25, "refunded", "pos", 5),  # not a purchase
        ("B", "2025-01-01", 40),  # no cost known at all: profit is null
        ("B", "2024-01-31", 10),
    ]
    facts = customer_facts(orders(rows).lazy(), AS_OF).collect()
    # A: purchases 2024-12-01 and 2025-01-31 (F 2, M 150, profit 100 − 60 = 40);
    # B: 2024-01-31 and 2025-01-01 (F 2, M 50, recency 30, tenure 366, no profit).
    assert facts.select(
        "customer_key",
        "recency_days",
        "frequency",
        pl.col("monetary").cast(pl.Float64),
        pl.col("profit").cast(pl.Float64),
        "first_order",
        "last_order",
        "tenure_days",
        "orders_all",
        pl.col("revenue_all").cast(pl.Float64),
        "in_window",
    ).rows() == [
        ("A", 0, 2, 150.0, 40.0, dt.date(2024, 12, 1), dt.date(2025, 1, 31), 61, 2, 150.0, True),
        ("B", 30, 2, 50.0, None, dt.date(2024, 1, 31), dt.date(2025, 1, 1), 366, 2, 50.0, True),
    ]
    windowed = customer_facts(orders(rows).lazy(), AS_OF, window="10y").collect()
    assert_frame_equal(windowed, facts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("365d", "365d"), ("52w", "52w"), ("12m", "12mo"), ("2y", "2y"), ("all", None), (30, "30d")],
)
def test_parse_window(text: str | int, expected: str | None) -> None:
    assert parse_window(text) == expected


def test_as_of_day_uses_the_workspace_timezone() -> None:
    # 2025-01-31 20:00 UTC is 2025-02-01 in Shanghai: after the as-of date there.
    df = orders([("A", "2025-01-30", 10)]).with_columns(
        pl.lit(dt.datetime(2025, 1, 31, 20, tzinfo=dt.UTC)).alias("ordered_at")
    )
    assert customer_facts(df.lazy(), AS_OF).collect().height == 1
    assert customer_facts(df.lazy(), AS_OF, timezone="Asia/Shanghai").collect().height == 0
