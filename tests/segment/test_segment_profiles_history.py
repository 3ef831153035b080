"""Profiles (sizes, revenue share, AOV, NPS, mixes) and segment history / movement."""

from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from crmkit.segment import customer_facts, profile, purchases
from crmkit.segment.history import (
    HISTORY_SCHEMA,
    history_rows,
    merge_history,
    movement,
    movement_matrix,
)

from .helpers import AS_OF, at, orders


def test_profile_numbers_by_hand() -> None:
    rows = [
        ("A", "2025-01-01", 100, "completed", "pos"),
        ("A", "2025-01-10", 300, "completed", "online"),
        ("B", "2025-01-20", 100, "completed", "online"),
        ("C", "2025-01-30", 500, "completed", "pos"),
    ]
    o = orders(rows)
    facts = customer_facts(o.lazy(), AS_OF).collect()
    members = pl.DataFrame({"customer_key": ["A", "B", "C"], "segment": ["x", "x", "y"]})
    lines = pl.DataFrame(
        {
            "source": ["pos"] * 4,
            "order_id": ["O0000", "O0001", "O0002", "O0003"],
            "category": ["tea", "cups", "tea", "pots"],
            "line_amount": [100.0, 300.0, 100.0, 500.0],
        }
    )
    people = pl.DataFrame(
        {
            "customer_key": ["A", "B", "C"],
            "gender": ["f", "m", "f"],
            "birth_date": [dt.date(2000, 6, 1), dt.date(1980, 1, 1), None],
            "region": ["Zhejiang", "Zhejiang", "Beijing"],
        }
    )
    surveys = pl.DataFrame(
        {
            "customer_key": ["A", "A", "B", "C"],
            "responded_at": [
                at("2025-01-02"),
                at("2025-01-03"),
                at("2025-01-04"),
                at("2025-02-02"),
            ],
            "nps": [10.0, 9.0, 3.0, 0.0],  # C's answer is after the as-of date
            "csat": [5.0, None, 2.0, 1.0],
        }
    )
    p = profile(
        members,
        facts,
        as_of=AS_OF,
        customers=people,
        purchases=purchases(o.lazy(), AS_OF),
        lines=lines,
        surveys=surveys,
    )
    x = p.filter(pl.col("segment") == "x").to_dicts()[0]
    # x: A (400 in 2 orders) + B (100 in 1): revenue 500 of 1000, AOV 500/3, frequency 1.5.
    assert (x["customers"], x["share"], x["revenue_share"]) == (2, 0.6667, 0.5)
    assert x["aov"] == 166.67 and x["frequency"] == 1.5
    # recency A 21, B 11 → median 16; tenure A 30, B 11 → median 20.5
    assert (x["median_recency_days"], x["median_tenure_days"]) == (16.0, 20.5)
    assert x["top_category"] == ["cups", "tea"]  # 300 vs 200
    assert x["top_channel"] == ["online", "pos"]  # 2 orders vs 1
    assert x["female_share"] == 0.5 and x["top_region"] == ["Zhejiang"]
    # ages on 2025-01-31: A 24 (<25), B 45 (45–54); equal shares ordered by band name
    assert x["age_mix"] == ["45–54: 50%", "<25: 50%"]
    # NPS: answers 10, 9, 3 → 2 promoters, 1 detractor of 3 → 33.3; CSAT mean (5 + 2) / 2
    assert (x["nps"], x["nps_n"], x["csat_mean"]) == (33.3, 3, 3.5)
    y = p.filter(pl.col("segment") == "y").to_dicts()[0]
    assert y["nps"] is None and y["nps_n"] is None


def test_profile_matches_facts_and_customers_by_key_not_position() -> None:
    # Members, facts and customers hold the same keys in different orders (facts are sorted by
    # key, the others are not): every column must still come from the member's own row.
    rows = [
        ("A", "2025-01-01", 100),
        ("A", "2025-01-21", 300),
        ("B", "2025-01-30", 50),
        ("C", "2024-01-31", 500),
    ]
    facts = customer_facts(orders(rows).lazy(), AS_OF).collect()
    members = pl.DataFrame({"customer_key": ["B", "A", "C"], "segment": ["x", "y", "z"]})
    people = pl.DataFrame(
        {
            "customer_key": ["C", "A", "B"],
            "gender": ["f", "f", "m"],
            "region": ["Beijing", "Zhejiang", "Jiangsu"],
            "email": ["c@x", "a@x", "b@x"],
        }
    )
    got = {
        r["segment"]: r for r in profile(members, facts, as_of=AS_OF, customers=people).to_dicts()
    }
    # x = B: 1 order of 50, 1 day ago, male in Jiangsu. y = A: 2 orders (400), last 10 days ago,
    # first 30 days ago, female in Zhejiang. z = C: 1 order of 500, 366 days ago, in Beijing.
    # Revenue shares of 950: 50 → 0.0526, 400 → 0.4211, 500 → 0.5263.
    x, y, z = got["x"], got["y"], got["z"]
    assert (x["revenue_share"], x["aov"], x["median_recency_days"]) == (0.0526, 50.0, 1.0)
    assert (x["top_region"], x["male_share"]) == (["Jiangsu"], 1.0)
    assert (y["revenue_share"], y["aov"], y["frequency"]) == (0.4211, 200.0, 2.0)
    assert (y["median_recency_days"], y["median_tenure_days"]) == (10.0, 30.0)
    assert (y["top_region"], y["female_share"]) == (["Zhejiang"], 1.0)
    assert (z["revenue_share"], z["median_recency_days"], z["top_region"]) == (
        0.5263,
        366.0,
        ["Beijing"],
    )
    # A member missing from the facts and the customers gets empty (null) facts and places.
    m2 = pl.DataFrame({"customer_key": ["A", "Q"], "segment": ["y", "q"]})
    p2 = profile(m2, facts, as_of=AS_OF, customers=people)
    q = p2.filter(pl.col("segment") == "q").row(0, named=True)
    assert (q["customers"], q["median_recency_days"], q["top_region"]) == (1, None, None)


def test_rerun_keeps_other_methods_and_dates() -> None:
    d1, d2 = dt.date(2025, 1, 31), dt.date(2025, 2, 28)
    h = pl.DataFrame(
        {
            "customer_key": ["A", "A", "A", "A"],
            "method": ["rfm", "rfm", "tiers", None],
            "segment": ["new", "loyal", "gold", "odd"],
            "as_of": [d1, d2, d2, d2],
            "run_id": ["r1", "r2", "r3", "r4"],
        },
        schema=HISTORY_SCHEMA,
    )
    merged = merge_history(h.lazy(), _hist([("A", "lost", "")], d2, "r5")).collect()
    # Only the rfm row of d2 is replaced; other dates, methods and a row without a method stay.
    assert sorted(merged["run_id"].to_list()) == ["r1", "r3", "r4", "r5"]


def _hist(rows: list[tuple[str, str, str]], as_of: dt.date, run: str) -> pl.DataFrame:
    m = pl.DataFrame(rows, schema=["customer_key", "segment", "_"], orient="row").drop("_")
    return history_rows(m, "rfm", as_of, run)


def test_rerun_replaces_rows_and_movement_counts() -> None:
    d1, d2 = dt.date(2025, 1, 31), dt.date(2025, 2, 28)
    h = pl.LazyFrame(schema=HISTORY_SCHEMA)
    h = merge_history(h, _hist([("A", "new", ""), ("B", "new", ""), ("C", "lost", "")], d1, "r1"))
    h = merge_history(h, _hist([("A", "loyal", ""), ("B", "new", ""), ("D", "new", "")], d2, "r2"))
    again = _hist([("A", "loyal", ""), ("B", "loyal", ""), ("D", "new", "")], d2, "r3")
    h = merge_history(h, again).collect()
    assert h.height == 6  # 3 rows per as-of date, the rerun replaced r2
    assert set(h.filter(pl.col("as_of") == d2)["run_id"]) == {"r3"}
    old, new, moves = movement(h.lazy(), "rfm")
    assert (old, new) == (d1, d2)
    assert moves.rows() == [
        ("(none)", "new", 1),
        ("lost", "(none)", 1),
        ("new", "loyal", 2),
    ]
    matrix = movement_matrix(moves, ["new", "loyal", "lost"])
    expected = pl.DataFrame(
        {
            "from_segment": ["new", "lost", "(none)"],
            "new": [0, 0, 1],
            "loyal": [2, 0, 0],
            "(none)": [0, 1, 0],
        },
        schema_overrides={c: pl.UInt32 for c in ("new", "loyal", "(none)")},
    )
    assert_frame_equal(matrix, expected)


def test_movement_needs_two_dates() -> None:
    h = _hist([("A", "new", "")], dt.date(2025, 1, 31), "r1").lazy()
    old, new, moves = movement(h, "rfm")
    assert old is None and new == dt.date(2025, 1, 31) and moves.height == 0
