"""Survey scores with intervals and missing-value handling, worked by hand.

nps  10 9 9 8 7 6 3 0 -99 null → n 8: promoters 3, passives 2, detractors 3 → NPS 0
csat 5 4 4 3 2 1 5 -99 6 null  → n 7 (6 is out of the 1–5 scale): top-2 = 4 → 4/7
ces  1 2 3 4 5 6 7 null -99 8  → n 7: mean 4, sd √(28/6)
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from crmkit.analysis.survey import missing_report, rating_keys, ratings_wide, survey_scores

from .helpers import frame, ts

NPS = [10, 9, 9, 8, 7, 6, 3, 0, -99, None]
CSAT = [5, 4, 4, 3, 2, 1, 5, -99, 6, None]
CES = [1, 2, 3, 4, 5, 6, 7, None, -99, 8]
RESPONSES = frame(
    "survey_responses",
    [
        {
            "response_id": str(i),
            "customer_key": "a" if i < 5 else "b",
            "responded_at": ts("2025-02-01" if i < 5 else "2025-05-01"),
            "survey": "relational",
            "nps": None if n is None else float(n),
            "csat": None if c is None else float(c),
            "ces": None if e is None else float(e),
            "ratings": '{"service": "4", "price": "-99", "delivery": null, "it\'s": 5}'
            if i == 0
            else None,
        }
        for i, (n, c, e) in enumerate(zip(NPS, CSAT, CES, strict=True))
    ],
)


def test_overall_scores_and_intervals():
    row = survey_scores(RESPONSES).row(0, named=True)
    assert (row["nps_n"], row["nps"]) == (8, 0.0)
    n2 = 8 + 3
    p2 = d2 = (3 + 0.75) / n2
    se = math.sqrt((p2 + d2 - (p2 - d2) ** 2) / n2)
    assert row["nps_low"] == pytest.approx(((p2 - d2) - 1.96 * se) * 100, abs=1e-3)
    assert row["nps_high"] == pytest.approx(((p2 - d2) + 1.96 * se) * 100, abs=1e-3)
    assert (row["csat_n"], row["csat"]) == (7, pytest.approx(4 / 7))
    p, n, z = 4 / 7, 7, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert row["csat_low"] == pytest.approx(centre - half, abs=1e-3)
    assert row["csat_high"] == pytest.approx(centre + half, abs=1e-3)
    assert (row["ces_n"], row["ces"]) == (7, 4.0)
    t6 = 2.446911851  # t(0.975, 6 df), from tables
    assert row["ces_high"] == pytest.approx(4 + t6 * math.sqrt(28 / 6) / math.sqrt(7), abs=1e-6)


def test_scores_by_period_and_segment():
    by = survey_scores(RESPONSES, by="period")
    assert by.select("group", "nps_n", "nps").rows() == [
        ("2025Q1", 5, (3 - 0) / 5 * 100),  # 10 9 9 8 7
        ("2025Q2", 3, (0 - 3) / 3 * 100),  # 6 3 0 (-99 and null dropped)
    ]
    segs = pl.LazyFrame({"customer_key": ["a"], "segment": ["Champions"]})
    by = survey_scores(RESPONSES, by="segment", segments=segs)
    assert by["group"].to_list() == ["(no segment)", "Champions"]


def test_ratings_json_with_missing_codes():
    assert rating_keys(RESPONSES) == ["delivery", "it's", "price", "service"]
    wide = ratings_wide(RESPONSES, scale=(1, 5), missing_codes=[-99]).collect().row(0, named=True)
    assert (wide["r_service"], wide["r_price"], wide["r_delivery"], wide["r_it's"]) == (
        4.0,
        None,
        None,
        5.0,
    )


def test_missing_report_adds_up():
    rep = missing_report(RESPONSES, {"nps": (0, 10), "csat": (1, 5)}, [-99]).collect()
    assert rep.rows() == [
        ("nps", 10, 8, 1, 1, 0),
        ("csat", 10, 7, 1, 1, 1),
    ]
