"""Buying cycle on a hand-worked shop, as-of 2025-02-20.

a  2025-01-01 10 | 2025-01-11 20 + 5 (same day: one purchase) | 2025-01-31 30
   gaps 10, 20 → own median 15 → expected 2025-02-15 → 5 days overdue; revenue 65
b  2025-01-05 100 | 2025-01-08 100 → gap 3 → expected 2025-01-11 → 40 days overdue; 200
c  2025-02-01 50 (one purchase) → population median of gaps {10, 20, 3} = 10
   → expected 2025-02-11 → 9 days overdue; 50
d  2025-02-18 1 | 2025-02-19 1 → gap 1 → expected 2025-02-20 → not overdue (0 days)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from crmkit.analysis.cycle import gap_distribution, next_orders, overdue_valuable

from .helpers import frame, order

AS_OF = dt.date(2025, 2, 20)
ORDERS = frame(
    "orders",
    [
        order("1", "a", "2025-01-01", 10),
        order("2", "a", "2025-01-11 09:00", 20),
        order("3", "a", "2025-01-11 18:00", 5),
        order("4", "a", "2025-01-31", 30),
        order("5", "b", "2025-01-05", 100),
        order("6", "b", "2025-01-08", 100),
        order("7", "c", "2025-02-01", 50),
        order("8", "d", "2025-02-18", 1),
        order("9", "d", "2025-02-19", 1),
        order("10", "d", "2025-02-21", 500),  # after as-of: ignored
    ],
)


def test_next_order_dates_own_or_population_gap():
    df = next_orders(ORDERS, AS_OF).collect()
    got = {r["customer_key"]: r for r in df.to_dicts()}
    assert (got["a"]["gap_days"], got["a"]["gap_source"]) == (15.0, "own")
    assert got["a"]["expected_next"] == dt.date(2025, 2, 15)
    assert got["a"]["days_overdue"] == 5 and got["a"]["overdue"]
    assert got["a"]["net_revenue"] == Decimal("65.00")
    assert got["a"]["purchase_days"] == 3
    assert got["b"]["expected_next"] == dt.date(2025, 1, 11) and got["b"]["days_overdue"] == 40
    # Population median gap: all gaps {10, 20, 3, 1} → median (3 + 10) / 2 = 6.5 → rounds to 6
    # days (round half to even), so c is expected 2025-02-07, 13 days overdue.
    assert (got["c"]["gap_days"], got["c"]["gap_source"]) == (6.5, "population")
    assert got["c"]["expected_next"] == dt.date(2025, 2, 7)
    assert got["d"]["days_overdue"] == 0 and not got["d"]["overdue"]


def test_overdue_valuable_sorted_by_revenue_and_drops_churned():
    nxt = next_orders(ORDERS, AS_OF)
    top = overdue_valuable(nxt, 2).collect()
    assert top["customer_key"].to_list() == ["b", "a"]  # 200 > 65 > 50; d not overdue
    recent = overdue_valuable(nxt, 5, as_of=AS_OF, active_window=30).collect()
    assert recent["customer_key"].to_list() == ["a", "c"]  # b's last purchase is 43 days old


def test_gap_distribution_overall_and_by_segment():
    segs = pl.LazyFrame({"customer_key": ["a", "b"], "segment": ["Champions", "At Risk"]})
    df = gap_distribution(ORDERS, AS_OF, segs).collect()
    assert df["segment"].to_list() == ["(all)", "(no segment)", "At Risk", "Champions"]
    overall = df.row(0, named=True)
    assert (overall["customers"], overall["gaps"]) == (3, 4)
    assert overall["mean"] == (10 + 20 + 3 + 1) / 4
    assert overall["median"] == (3 + 10) / 2
    champ = df.filter(pl.col("segment") == "Champions").row(0, named=True)
    assert (champ["gaps"], champ["median"]) == (2, 15.0)


def test_gap_histogram_buckets():
    from crmkit.analysis.cycle import gap_histogram

    h = gap_histogram(ORDERS, AS_OF).collect()
    # gaps 10, 20, 3, 1 → "1-7": 3 and 1; "8-14": 10; "15-30": 20
    assert h.rows() == [("1-7", 2, 2 / 4), ("8-14", 1, 1 / 4), ("15-30", 1, 1 / 4)]
